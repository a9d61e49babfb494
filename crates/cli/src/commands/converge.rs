//! `converge`: brings divergent databases to the schema of their migrations at head. Each
//! selected database gets its plan; databases that share a plan are shown once. The
//! expected schemas are replayed once per distinct set of migrations, as `drift` does.

use super::drift::{ExpectedCache, expected_schema};
use crate::cli::ConvergeArgs;
use crate::context::Context;
use crate::report::detail::ConvergeDetail;
use crate::report::live::ConvergeInfo;
use crate::report::{Body, DatabaseReport, Detail, Status};
use skein_config::{DatabaseUrls, ResolvedDatabase};
use skein_core::Driver;
use skein_core::error::Error as CoreError;
use skein_core::schema::converge::{ConvergeOutcome, ConvergePlan, apply};

pub async fn converge(ctx: &Context, args: ConvergeArgs) -> anyhow::Result<Body> {
    // Changing databases needs them named; a plan may be asked of every one.
    let databases = match args.apply {
        true => ctx.select_explicit("converge --apply")?,
        false => ctx.select()?,
    };
    let urls = ctx.urls(&databases).await?;
    let cache = ExpectedCache::default();
    let fleet = ctx.unordered_fleet(&urls);
    let reports = crate::fleet::run(&databases, &fleet, |db| {
        let (urls, cache, args) = (&urls, &cache, &args);
        async move {
            match converge_one(ctx, db, urls, cache, args).await {
                Ok(report) => report,
                // The database could not be reached or read: a failed database, as in
                // every command (exit 1, the report says why).
                Err(e) => DatabaseReport::failed(&db.name, &e),
            }
        }
    })
    .await;
    cache.close().await;
    Ok(super::finish(ctx, reports))
}

async fn converge_one(
    ctx: &Context,
    db: &ResolvedDatabase,
    urls: &DatabaseUrls,
    cache: &ExpectedCache,
    args: &ConvergeArgs,
) -> Result<DatabaseReport, CoreError> {
    let prepared = ctx.prepare(db, urls)?;
    let migrations = prepared.migrations()?;
    let head = skein_core::migration::head(&migrations);
    let mut conn = prepared.open().await?;
    let result = async {
        let dialect = conn.dialect();
        let live = conn.inspect().await?;
        if let Some(rules) = super::check::expectations(db) {
            let tables = skein_core::schema::rules::missing_required(&rules, &live);
            if !tables.is_empty() {
                return Err(CoreError::RequiredTablesMissing { tables });
            }
        }
        let (expected, _) =
            expected_schema(cache, prepared.url, &migrations, head, &prepared.options).await?;
        let plan = ConvergePlan::new(&expected, &live, head, dialect);
        // A database that matches already gets its history recorded to head.
        let applied = match args.apply {
            true => Some(
                apply(
                    &mut conn,
                    &plan,
                    args.allow_destructive,
                    &expected,
                    &migrations,
                    &prepared.options.history_table,
                    &ctx.applied_by,
                )
                .await?,
            ),
            false => None,
        };
        Ok((plan, applied, dialect))
    }
    .await;
    conn.close().await;
    let (plan, applied, dialect) = result?;
    // Rolled back because differences would remain: the database did not converge.
    let status = match &applied {
        Some(ConvergeOutcome::StillDiffers { .. }) => Status::Failed,
        Some(ConvergeOutcome::Converged {
            statements: 0,
            stamped,
        }) if stamped.is_empty() => Status::UpToDate,
        Some(ConvergeOutcome::Converged { .. }) => Status::Ok,
        None if plan.is_empty() => Status::UpToDate,
        None => Status::Pending,
    };
    let detail = ConvergeDetail {
        version_after: head,
        converge: ConvergeInfo {
            plan,
            applied,
            allow_destructive: args.allow_destructive,
            transactional: dialect.backend().transactional_ddl(),
        },
    };
    Ok(DatabaseReport::new(
        &db.name,
        status,
        Detail::Converge(detail),
    ))
}
