//! `converge`: brings a divergent database to the schema of its migrations at head.

use crate::cli::ConvergeArgs;
use crate::context::{self, Context};
use crate::report::live::ConvergeInfo;
use crate::report::{Body, DatabaseReport, Status};
use skein_core::Driver;

pub async fn converge(ctx: &Context, args: ConvergeArgs) -> anyhow::Result<Body> {
    use skein_core::schema::converge::{ConvergeOutcome, ConvergePlan, apply};
    let db = ctx.select_one("converge")?;
    let urls = ctx.urls(&[db]).await?;
    let migrations = context::migrations(db)?;
    let head = migrations.last().map(|m| m.version);
    let result = async {
        let target = ctx.target(db, &urls)?;
        let (url, options) = (target.url, &target.options);
        let mut conn = target.open().await?;
        let dialect = conn.dialect();
        if dialect == skein_core::dialect::Dialect::MySql {
            conn.close().await;
            return Err(skein_core::driver::mysql_ddl_unsupported("converge"));
        }
        let result = async {
            let live = conn.inspect().await?;
            if let Some(rules) = super::check::expectations(db) {
                let tables = skein_core::schema::rules::missing_required(&rules, &live);
                if !tables.is_empty() {
                    return Err(skein_core::Error::RequiredTablesMissing { tables });
                }
            }
            let expected =
                skein_core::schema::replay::replay(url, &migrations, head, options).await?;
            let plan = ConvergePlan::new(&expected, &live, head, dialect);
            // A database that matches already gets its history recorded to head.
            let outcome = if args.apply {
                let table = options.history_table.clone();
                Some(
                    apply(
                        &mut conn,
                        &plan,
                        args.allow_destructive,
                        &expected,
                        &migrations,
                        &table,
                        &ctx.applied_by,
                    )
                    .await?,
                )
            } else {
                None
            };
            Ok((plan, outcome))
        }
        .await;
        conn.close().await;
        result
    }
    .await;
    let (plan, applied) = match result {
        Ok(done) => done,
        // The database could not be reached or read: a failed database, as in every
        // command (exit 1, the report says why).
        Err(e) => return Ok(super::failed_alone(db, &e)),
    };
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
    let mut report = DatabaseReport::new(&db.name, status);
    report.version_after = head;
    report.converge = Some(ConvergeInfo {
        plan,
        applied,
        allow_destructive: args.allow_destructive,
    });
    Ok(super::finish(ctx, vec![report]))
}
