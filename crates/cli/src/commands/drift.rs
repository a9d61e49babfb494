//! `drift`: each database's live schema against the one its migrations give, grouped by
//! fingerprint; the expected schemas are replayed once per distinct set of migrations.

use crate::context::Context;
use crate::report::detail::DriftDetail;
use crate::report::{Body, DatabaseReport, Detail, DriftInfo, Status};
use skein_config::{DatabaseUrls, ResolvedDatabase};
use skein_core::Driver;
use skein_core::error::Error as CoreError;
use skein_core::schema::Schema;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// Expected schemas by [`skein_core::schema::replay::cache_key`]: each is replayed once,
/// however many databases share it; concurrent askers wait for the first.
pub(super) type ExpectedCache =
    tokio::sync::Mutex<HashMap<String, Arc<OnceCell<Result<Schema, Arc<CoreError>>>>>>;

/// The schema `migrations` up to `version` give, replayed into a scratch database once per
/// distinct set of statements however many databases ask; `key` identifies the replay.
/// A failed replay keeps its error, with the file, line and column that failed.
pub(super) async fn expected_schema(
    cache: &ExpectedCache,
    url: &str,
    migrations: &[skein_core::Migration],
    version: Option<skein_core::Version>,
    options: &skein_core::ConnectOptions,
) -> Result<(Schema, String), CoreError> {
    let key = skein_core::schema::replay::cache_key(url, migrations, version);
    let cell = cache.lock().await.entry(key.clone()).or_default().clone();
    let expected = cell
        .get_or_init(|| async {
            skein_core::schema::replay::replay(url, migrations, version, options)
                .await
                .map_err(Arc::new)
        })
        .await
        .clone()
        .map_err(CoreError::Replay)?;
    Ok((expected, key))
}

/// A drifted database is a finding (exit 3).
pub async fn drift(ctx: &Context) -> anyhow::Result<Body> {
    let databases = ctx.select()?;
    let urls = ctx.urls(&databases).await?;
    let cache = ExpectedCache::default();
    let fleet = ctx.unordered_fleet(&urls);
    let reports = crate::fleet::run(&databases, &fleet, |db| {
        let (urls, cache) = (&urls, &cache);
        async move {
            match drift_of(ctx, db, urls, cache).await {
                Ok(report) => report,
                Err(e) => DatabaseReport::failed(&db.name, &e),
            }
        }
    })
    .await;
    Ok(super::finish_check(ctx, reports))
}

async fn drift_of(
    ctx: &Context,
    db: &ResolvedDatabase,
    urls: &DatabaseUrls,
    cache: &ExpectedCache,
) -> Result<DatabaseReport, CoreError> {
    let prepared = ctx.prepare(db, urls)?;
    let migrations = prepared.migrations()?;
    let mut conn = prepared.open_read_only().await?;
    let dialect = conn.dialect();
    let inventory = skein_core::engine::inventory(&mut conn, &migrations).await;
    let live = conn.inspect().await;
    conn.close().await;
    let (inventory, live) = (inventory?, live?);
    let version = inventory.current_version();
    let (expected, key) =
        expected_schema(cache, prepared.url, &migrations, version, &prepared.options).await?;
    let (fingerprint, expected_fingerprint) = (live.fingerprint(), expected.fingerprint());
    // One fingerprint is one schema: only a database whose fingerprint differs is compared
    // object by object, to name the differences.
    // (Debug builds compare every database, and check that claim.)
    let differences = match fingerprint == expected_fingerprint && !cfg!(debug_assertions) {
        true => Vec::new(),
        false => skein_core::schema::diff::diff(&expected, &live, dialect),
    };
    debug_assert!(
        fingerprint != expected_fingerprint || differences.is_empty(),
        "{}: one fingerprint, and yet differences",
        db.name
    );
    let status = if differences.is_empty() {
        Status::UpToDate
    } else {
        Status::Drifted
    };
    let detail = DriftDetail {
        version_before: version,
        version_after: version,
        drift: DriftInfo {
            fingerprint,
            expected_fingerprint,
            replay: key,
            differences,
        },
    };
    Ok(DatabaseReport::new(&db.name, status, Detail::Drift(detail)))
}
