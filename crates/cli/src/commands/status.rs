//! `status` and `history`: read-only views of files and history.

use super::{finish, finish_check};
use crate::cli::StatusArgs;
use crate::context::Context;
use crate::report::detail::{HistoryDetail, StatusDetail};
use crate::report::{Body, DatabaseReport, Detail, ForeignHistory, Status};
use skein_config::{DatabaseUrls, ResolvedDatabase};
use skein_core::Driver;
use skein_core::engine;
use skein_core::error::Error as CoreError;
use skein_core::plan::Inventory;

/// With `--check`, a pending migration or a problem is a finding (exit 3).
pub async fn status(ctx: &Context, args: StatusArgs) -> anyhow::Result<Body> {
    let databases = ctx.select()?;
    let reports = status_reports(ctx, &databases).await?;
    Ok(match args.check {
        true => finish_check(ctx, reports),
        false => finish(ctx, reports),
    })
}

/// The status of each of `databases`.
pub(super) async fn status_reports(
    ctx: &Context,
    databases: &[&ResolvedDatabase],
) -> anyhow::Result<Vec<DatabaseReport>> {
    let urls = ctx.urls(databases).await?;
    Ok(crate::fleet::run(databases, &ctx.fleet(&urls), |db| {
        let urls = &urls;
        async move {
            match read_inventory(ctx, db, urls).await {
                Ok((inventory, foreign)) => {
                    let (status, mut detail) = status_detail(&inventory);
                    detail.foreign_history = foreign;
                    DatabaseReport::new(&db.name, status, Detail::Status(detail))
                }
                Err(e) => DatabaseReport::failed(&db.name, &e),
            }
        }
    })
    .await)
}

pub async fn history(ctx: &Context) -> anyhow::Result<Body> {
    let db = ctx.select_one("history")?;
    let urls = ctx.urls(&[db]).await?;
    let report = match read_inventory(ctx, db, &urls).await {
        Ok((inventory, _)) => {
            let (status, detail) = status_detail(&inventory);
            let history = HistoryDetail {
                status: detail,
                migrations: inventory.entries,
            };
            DatabaseReport::new(&db.name, status, Detail::History(history))
        }
        Err(e) => DatabaseReport::failed(&db.name, &e),
    };
    Ok(finish(ctx, vec![report]))
}

/// A database's status, and where it stands.
fn status_detail(inventory: &Inventory) -> (Status, StatusDetail) {
    let problems = inventory.problems(false);
    let pending = inventory.pending().count();
    let status = if !problems.is_empty() {
        Status::Problems
    } else if pending > 0 {
        Status::Pending
    } else {
        Status::UpToDate
    };
    let detail = StatusDetail {
        version_before: inventory.current_version(),
        version_after: inventory.current_version(),
        head: inventory.head_version(),
        pending: Some(pending),
        problems,
        foreign_history: None,
    };
    (status, detail)
}

/// A database's inventory, and another tool's history table if one is there.
async fn read_inventory(
    ctx: &Context,
    db: &ResolvedDatabase,
    urls: &DatabaseUrls,
) -> Result<(Inventory, Option<ForeignHistory>), CoreError> {
    let prepared = ctx.prepare(db, urls)?;
    let migrations = prepared.migrations()?;
    let mut conn = prepared.open_read_only().await?;
    let inventory = engine::inventory(&mut conn, &migrations).await;
    let foreign = match &inventory {
        Ok(_) => foreign_history(&mut conn).await,
        Err(_) => Ok(None),
    };
    conn.close().await;
    Ok((inventory?, foreign?))
}

async fn foreign_history(
    conn: &mut skein_core::driver::Connection,
) -> Result<Option<ForeignHistory>, CoreError> {
    let Some(table) = skein_core::adopt::foreign_table(conn).await else {
        return Ok(None);
    };
    Ok(Some(ForeignHistory {
        table: table.to_owned(),
        owned: conn.history_exists().await?,
    }))
}
