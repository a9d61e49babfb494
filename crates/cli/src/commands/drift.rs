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
use tokio::sync::{OnceCell, Semaphore};

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
    let cell = replay_of(cache, &key).await;
    let expected = replayed_once(&cell, url, migrations, version, options).await?;
    Ok((expected, key))
}

/// The cache's place for the replay `key` names (made empty if there is none yet).
async fn replay_of(
    cache: &ExpectedCache,
    key: &str,
) -> Arc<OnceCell<Result<Schema, Arc<CoreError>>>> {
    cache
        .lock()
        .await
        .entry(key.to_owned())
        .or_default()
        .clone()
}

/// The replay's schema: replayed now by the first to ask, waited for by the others.
async fn replayed_once(
    cell: &OnceCell<Result<Schema, Arc<CoreError>>>,
    url: &str,
    migrations: &[skein_core::Migration],
    version: Option<skein_core::Version>,
    options: &skein_core::ConnectOptions,
) -> Result<Schema, CoreError> {
    cell.get_or_init(|| async {
        skein_core::schema::replay::replay(url, migrations, version, options)
            .await
            .map_err(Arc::new)
    })
    .await
    .clone()
    .map_err(CoreError::Replay)
}

/// How many databases may wait for the replay of their expected schema, per database
/// being read: while the first replay runs, the fleet reads on.
const WAITING_PER_READER: usize = 4;

/// A drifted database is a finding (exit 3).
pub async fn drift(ctx: &Context) -> anyhow::Result<Body> {
    let databases = ctx.select()?;
    let urls = ctx.urls(&databases).await?;
    let cache = ExpectedCache::default();
    let fleet = ctx.unordered_fleet(&urls);
    // `concurrency` databases are read at once (a connection each); more may be waiting,
    // read and closed, for their expected schema.
    let readers = Semaphore::new(fleet.concurrency);
    let fleet = crate::fleet::Fleet {
        concurrency: fleet.concurrency.saturating_mul(WAITING_PER_READER),
        ..fleet
    };
    let reports = crate::fleet::run(&databases, &fleet, |db| {
        let (urls, cache, readers) = (&urls, &cache, &readers);
        async move {
            match drift_of(ctx, db, urls, cache, readers).await {
                Ok(report) => report,
                Err(e) => DatabaseReport::failed(&db.name, &e),
            }
        }
    })
    .await;
    Ok(super::finish_check(ctx, reports))
}

/// What one read of a database gives: its backend, its current version and its schema.
struct Read {
    dialect: skein_core::dialect::Dialect,
    version: Option<skein_core::Version>,
    schema: Schema,
}

async fn read(
    prepared: &crate::prepared::Prepared<'_>,
    migrations: &[skein_core::Migration],
    readers: &Semaphore,
) -> Result<Read, CoreError> {
    let _reading = readers
        .acquire()
        .await
        .expect("the semaphore is never closed");
    let mut conn = prepared.open_read_only().await?;
    let dialect = conn.dialect();
    let inventory = skein_core::engine::inventory(&mut conn, migrations).await;
    let live = conn.inspect().await;
    conn.close().await;
    Ok(Read {
        dialect,
        version: inventory?.current_version(),
        schema: live?,
    })
}

async fn drift_of(
    ctx: &Context,
    db: &ResolvedDatabase,
    urls: &DatabaseUrls,
    cache: &ExpectedCache,
    readers: &Semaphore,
) -> Result<DatabaseReport, CoreError> {
    let prepared = ctx.prepare(db, urls)?;
    let migrations = prepared.migrations()?;
    let Read {
        dialect,
        version,
        schema: live,
    } = read(&prepared, &migrations, readers).await?;
    let fingerprint = live.fingerprint();
    // A database that waits for the replay keeps its fingerprint, not its schema (a
    // fleet of large schemas would otherwise wait in memory), and is read again only if
    // the fingerprints differ.
    let key = skein_core::schema::replay::cache_key(prepared.url, &migrations, version);
    let cell = replay_of(cache, &key).await;
    let kept = cell.initialized().then_some(live);
    let expected =
        replayed_once(&cell, prepared.url, &migrations, version, &prepared.options).await?;
    let expected_fingerprint = expected.fingerprint();
    // One fingerprint is one schema: only a database whose fingerprint differs is compared
    // object by object, to name the differences.
    // (Debug builds compare every database, and check that claim.)
    let (fingerprint, differences) =
        match fingerprint == expected_fingerprint && !cfg!(debug_assertions) {
            true => (fingerprint, Vec::new()),
            false => {
                let live = match kept {
                    Some(live) => live,
                    None => read(&prepared, &migrations, readers).await?.schema,
                };
                let differences = skein_core::schema::diff::diff(&expected, &live, dialect);
                (live.fingerprint(), differences)
            }
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
