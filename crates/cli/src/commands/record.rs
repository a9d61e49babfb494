//! `stamp` and `repair`: change the history without running migrations.

use super::finish;
use crate::cli::{FleetArgs, LockArgs, RepairArgs, StampArgs};
use crate::context::{self, Context};
use crate::exit::Outcome;
use crate::fleet::{self, Fleet};
use crate::report::{DatabaseReport, Status};
use anyhow::bail;
use skein_config::{DatabaseUrls, ResolvedDatabase};
use skein_core::Driver;
use skein_core::engine::{self, HistoryEdit, StampTarget};
use skein_core::error::Error as CoreError;

pub async fn stamp(ctx: &Context, args: StampArgs) -> anyhow::Result<Outcome> {
    let target = match args.target.as_str() {
        "head" => StampTarget::Head,
        "base" => StampTarget::Base,
        v => match v.parse() {
            Ok(version) => StampTarget::Version(version),
            Err(_) => bail!("`{v}` is not a version; use a version number, `head` or `base`"),
        },
    };
    let databases = ctx.select_explicit("stamp", &args.selection, &args.fleet)?;
    let urls = ctx.urls(&databases).await?;
    if let StampTarget::Version(version) = target {
        crate::preflight::check_version("stamp", version, &databases)?;
    }
    let reports = fleet::run(&databases, &unordered(ctx, &args.fleet, &urls), |db| {
        edit(
            ctx,
            db,
            &urls,
            &args.lock,
            move |mut conn, migrations| async move {
                let result = engine::stamp(&mut conn, &migrations, target, &ctx.applied_by).await;
                conn.close().await;
                result
            },
        )
    })
    .await;
    Ok(finish(ctx, "stamp", reports))
}

pub async fn repair(ctx: &Context, args: RepairArgs) -> anyhow::Result<Outcome> {
    let databases = ctx.select_explicit("repair", &args.selection, &args.fleet)?;
    let urls = ctx.urls(&databases).await?;
    let reports = fleet::run(&databases, &unordered(ctx, &args.fleet, &urls), |db| {
        edit(
            ctx,
            db,
            &urls,
            &args.lock,
            |mut conn, migrations| async move {
                let result = engine::repair(&mut conn, &migrations).await;
                conn.close().await;
                result
            },
        )
    })
    .await;
    Ok(finish(ctx, "repair", reports))
}

/// History edits do not depend on other databases being done first.
fn unordered(ctx: &Context, args: &FleetArgs, urls: &skein_config::DatabaseUrls) -> Fleet {
    Fleet {
        follow_dependencies: false,
        ..ctx.fleet(args, urls)
    }
}

async fn edit<F, Fut>(
    ctx: &Context,
    db: &ResolvedDatabase,
    urls: &DatabaseUrls,
    lock: &LockArgs,
    change: F,
) -> DatabaseReport
where
    F: FnOnce(skein_core::Connection, Vec<skein_core::Migration>) -> Fut,
    Fut: Future<Output = Result<Vec<HistoryEdit>, CoreError>>,
{
    let result = async {
        let migrations = context::migrations(db)?;
        let options = ctx.connect_options(db, lock)?;
        let conn = context::open(db, urls, options).await?;
        change(conn, migrations).await
    }
    .await;
    match result {
        Ok(edits) => {
            let status = if edits.is_empty() {
                Status::UpToDate
            } else {
                Status::Ok
            };
            let mut report = DatabaseReport::new(&db.name, status);
            report.edits = edits;
            report
        }
        Err(e) => DatabaseReport::failed(&db.name, &e),
    }
}
