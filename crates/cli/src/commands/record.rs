//! `stamp` and `repair`: change the history without running migrations.

use super::finish;
use crate::cli::StampArgs;
use crate::context::Context;
use crate::fleet;
use crate::report::detail::EditsDetail;
use crate::report::{Body, DatabaseReport, Detail, Status};
use skein_config::{DatabaseUrls, ResolvedDatabase};
use skein_core::Driver;
use skein_core::engine::{self, HistoryEdit, StampTarget};
use skein_core::error::Error as CoreError;

pub async fn stamp(ctx: &Context, args: StampArgs) -> anyhow::Result<Body> {
    let databases = ctx.select_explicit("stamp")?;
    let target = match args.target.as_str() {
        "head" => StampTarget::Head,
        "base" => StampTarget::Base,
        text => match text.parse() {
            Ok(version) => StampTarget::Version(version),
            // An id another tool gave the migration (an Alembic revision), or its start.
            Err(_) => StampTarget::Version(crate::targets::version(text, &databases)?),
        },
    };
    let urls = ctx.urls(&databases).await?;
    if let StampTarget::Version(version) = target {
        crate::preflight::check_version("stamp", version, &databases)?;
    }
    let cache = super::drift::ExpectedCache::default();
    let reports = fleet::run(&databases, &ctx.unordered_fleet(&urls), |db| {
        let verify = !args.no_verify;
        let (urls, cache) = (&urls, &cache);
        edit(ctx, db, urls, move |mut conn, migrations| async move {
            let result = async {
                if verify {
                    let first = FirstStamp {
                        db,
                        urls,
                        cache,
                        target,
                    };
                    verify_first_stamp(ctx, first, &mut conn, &migrations).await?;
                }
                engine::stamp(&mut conn, &migrations, target, &ctx.applied_by).await
            }
            .await;
            conn.close().await;
            result
        })
    })
    .await;
    cache.close().await;
    // A first stamp whose schema differs is drifted: a finding (exit 3).
    Ok(finish(ctx, reports))
}

/// What the check of a first stamp needs besides the connection.
struct FirstStamp<'a> {
    db: &'a ResolvedDatabase,
    urls: &'a DatabaseUrls,
    cache: &'a super::drift::ExpectedCache,
    target: StampTarget,
}

/// A stamp that would give a database with no skein history its first rows records them
/// only if the live schema is what the migrations up to the target give (the check
/// `adopt` makes): a migration never applied is not recorded as applied.
async fn verify_first_stamp(
    ctx: &Context,
    FirstStamp {
        db,
        urls,
        cache,
        target,
    }: FirstStamp<'_>,
    conn: &mut skein_core::Connection,
    migrations: &[skein_core::Migration],
) -> Result<(), CoreError> {
    if conn.read_history().await?.iter().any(|r| r.success) {
        return Ok(());
    }
    let limit = match target {
        StampTarget::Base => return Ok(()),
        StampTarget::Head => skein_core::migration::head(migrations),
        StampTarget::Version(v) => Some(v),
    };
    let applied: Vec<skein_core::Migration> = migrations
        .iter()
        .filter(|m| !m.repeatable && limit.is_some_and(|l| m.version <= l))
        .cloned()
        .collect();
    let prepared = ctx.prepare(db, urls)?;
    let differences =
        super::adopt::verify(conn, cache, prepared.url, &applied, &prepared.options, &[]).await?;
    if differences.is_empty() {
        return Ok(());
    }
    Err(CoreError::SchemaDiffers {
        what: format!("the {} migration(s) up to the target", applied.len()),
        differences,
        fix: "a migration may never have been applied: stamp the version before it, or --no-verify to record anyway",
    })
}

pub async fn repair(ctx: &Context) -> anyhow::Result<Body> {
    let databases = ctx.select_explicit("repair")?;
    let urls = ctx.urls(&databases).await?;
    let reports = fleet::run(&databases, &ctx.unordered_fleet(&urls), |db| {
        edit(ctx, db, &urls, |mut conn, migrations| async move {
            let result = engine::repair(&mut conn, &migrations).await;
            conn.close().await;
            result
        })
    })
    .await;
    Ok(finish(ctx, reports))
}

async fn edit<F, Fut>(
    ctx: &Context,
    db: &ResolvedDatabase,
    urls: &DatabaseUrls,
    change: F,
) -> DatabaseReport
where
    F: FnOnce(skein_core::Connection, Vec<skein_core::Migration>) -> Fut,
    Fut: Future<Output = Result<Vec<HistoryEdit>, CoreError>>,
{
    let result = async {
        let prepared = ctx.prepare(db, urls)?;
        let migrations = prepared.migrations()?;
        let conn = prepared.open().await?;
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
            let detail = EditsDetail {
                edits,
                ..EditsDetail::default()
            };
            DatabaseReport::new(&db.name, status, Detail::Edits(detail))
        }
        Err(e) => DatabaseReport::failed(&db.name, &e),
    }
}
