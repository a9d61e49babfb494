//! `check`: each database held to its `expect` rules (required, optional and forbidden
//! tables).

use crate::context::Context;
use crate::report::detail::CheckDetail;
use crate::report::{Body, DatabaseReport, Detail, Status};
use skein_config::{DatabaseUrls, ResolvedDatabase};
use skein_core::Driver;
use skein_core::error::Error as CoreError;

pub async fn check(ctx: &Context) -> anyhow::Result<Body> {
    let databases: Vec<&ResolvedDatabase> = ctx
        .select()?
        .into_iter()
        .filter(|db| db.expect.is_some())
        .collect();
    if databases.is_empty() {
        anyhow::bail!(
            "no selected database has `expect` rules; add [<profile>.databases.NAME.expect] or [<profile>.models.expect]"
        );
    }
    let urls = ctx.connection_urls(&databases).await?;
    let fleet = ctx.unordered_fleet(&urls);
    let reports = crate::fleet::run(&databases, &fleet, |db| {
        let urls = &urls;
        async move {
            match check_of(ctx, db, urls).await {
                Ok(report) => report,
                Err(e) => DatabaseReport::failed(&db.name, &e),
            }
        }
    })
    .await;
    Ok(super::finish_check(ctx, reports))
}

/// `db`'s `expect` rules, if it has any.
pub(super) fn expectations(
    db: &ResolvedDatabase,
) -> Option<skein_core::schema::rules::Expectations> {
    let rules = db.expect.clone()?;
    Some(skein_core::schema::rules::Expectations {
        required_tables: rules.required_tables,
        required_columns: rules.required_columns,
        optional_tables: rules.optional_tables,
        forbidden_tables: rules.forbidden_tables,
    })
}

async fn check_of(
    ctx: &Context,
    db: &ResolvedDatabase,
    urls: &DatabaseUrls,
) -> Result<DatabaseReport, CoreError> {
    let rules = expectations(db).unwrap_or_default();
    let mut conn = ctx.prepare(db, urls)?.open_read_only().await?;
    let schema = conn.inspect().await;
    conn.close().await;
    let findings = skein_core::schema::rules::check(&rules, &schema?, &db.name);
    let failed = findings
        .iter()
        .any(|f| f.severity == skein_core::schema::rules::Severity::Error);
    let status = if failed {
        Status::Problems
    } else {
        Status::UpToDate
    };
    let detail = Detail::Check(CheckDetail { findings });
    Ok(DatabaseReport::new(&db.name, status, detail))
}
