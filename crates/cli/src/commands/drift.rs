//! `drift`: each database's live schema against the one its migrations give, grouped by
//! fingerprint; the expected schemas are replayed once per distinct set of migrations.

use crate::context::Context;
use crate::report::detail::DriftDetail;
use crate::report::{Body, DatabaseReport, Detail, DriftInfo, Status};
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use skein_config::{DatabaseUrls, ResolvedDatabase};
use skein_core::Driver;
use skein_core::error::Error as CoreError;
use skein_core::schema::Schema;
use skein_core::schema::replay::Scratches;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Expected schemas by [`skein_core::schema::replay::cache_key`]: each is replayed once,
/// however many databases share it, and waited for by all of them. The replays share the
/// scratch databases they need, which [`ExpectedCache::close`] drops.
#[derive(Default)]
pub(super) struct ExpectedCache {
    replays: std::sync::Mutex<HashMap<String, Replay>>,
    scratches: Arc<Scratches>,
}

/// One replay, moved on by whichever database waits for it; a failed replay keeps its
/// error, with the file, line and column that failed.
type Replay = Shared<BoxFuture<'static, Result<Arc<Expected>, Arc<CoreError>>>>;

/// A replayed schema and its fingerprint, computed once for every database that shares it.
pub(super) struct Expected {
    schema: Schema,
    fingerprint: String,
}

impl ExpectedCache {
    /// The replay `key` names: started by the first to ask, with its own copy of the files,
    /// so that the others wait holding nothing of theirs.
    fn replay(
        &self,
        key: &str,
        url: &str,
        migrations: &[skein_core::Migration],
        version: Option<skein_core::Version>,
        options: &skein_core::ConnectOptions,
    ) -> Replay {
        let mut replays = self
            .replays
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        replays
            .entry(key.to_owned())
            .or_insert_with(|| {
                let scratches = Arc::clone(&self.scratches);
                let (url, migrations, options) =
                    (url.to_owned(), migrations.to_vec(), options.clone());
                async move {
                    let schema = scratches
                        .replay(&url, &migrations, version, &options)
                        .await
                        .map_err(Arc::new)?;
                    let fingerprint = schema.fingerprint();
                    Ok(Arc::new(Expected {
                        schema,
                        fingerprint,
                    }))
                }
                .boxed()
                .shared()
            })
            .clone()
    }

    /// Drops the scratch databases the replays made. One that cannot be dropped is named
    /// in a warning, to be dropped by hand.
    pub(super) async fn close(&self) {
        if let Err(e) = self.scratches.close().await {
            tracing::warn!("{e}");
        }
    }
}

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
    let expected = cache
        .replay(&key, url, migrations, version, options)
        .await
        .map_err(CoreError::Replay)?;
    Ok((expected.schema.clone(), key))
}

/// How many databases may wait for their replay, per database being read. A waiting one
/// holds its fingerprint, not its files or its schema; a replay takes a few hundred
/// milliseconds on a loaded server, and the fleet reads on meanwhile.
const WAITING_PER_READER: usize = 64;

/// A drift check asks for the replays it needs as it reads the fleet and goes on reading
/// while they run: a database read before its replay is done waits for it holding only its
/// fingerprint. `concurrency` databases are read at once (a connection each).
pub async fn drift(ctx: &Context) -> anyhow::Result<Body> {
    let databases = ctx.select()?;
    let urls = ctx.urls(&databases).await?;
    let cache = ExpectedCache::default();
    let fleet = ctx.unordered_fleet(&urls);
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
    cache.close().await;
    Ok(super::finish_check(ctx, reports))
}

/// What one read of a database gives: its backend, its current version and its schema.
struct Read {
    dialect: skein_core::dialect::Dialect,
    version: Option<skein_core::Version>,
    schema: Schema,
}

/// Reads the database, with one of the `readers` permits: its files (rendered from a
/// template, for a model) are held only meanwhile. Also gives the replay key.
async fn read(
    prepared: &crate::prepared::Prepared<'_>,
    readers: &Semaphore,
) -> Result<(Read, Vec<skein_core::Migration>), CoreError> {
    let _reading = readers
        .acquire()
        .await
        .expect("the semaphore is never closed");
    let migrations = prepared.migrations()?;
    let mut conn = prepared.open_read_only().await?;
    let dialect = conn.dialect();
    let inventory = skein_core::engine::inventory(&mut conn, &migrations).await;
    let live = conn.inspect().await;
    conn.close().await;
    let read = Read {
        dialect,
        version: inventory?.current_version(),
        schema: live?,
    };
    Ok((read, migrations))
}

async fn drift_of(
    ctx: &Context,
    db: &ResolvedDatabase,
    urls: &DatabaseUrls,
    cache: &ExpectedCache,
    readers: &Semaphore,
) -> Result<DatabaseReport, CoreError> {
    let prepared = ctx.prepare(db, urls)?;
    let (first, migrations) = read(&prepared, readers).await?;
    let Read {
        dialect,
        version,
        schema: live,
    } = first;
    let key = skein_core::schema::replay::cache_key(prepared.url, &migrations, version);
    let replay = cache.replay(&key, prepared.url, &migrations, version, &prepared.options);
    drop(migrations);
    let fingerprint = live.fingerprint();
    // A database that waits for the replay keeps its fingerprint, not its schema (a
    // fleet of large schemas would otherwise wait in memory), and is read again only if
    // the fingerprints differ.
    let kept = replay.peek().is_some().then_some(live);
    let expected = replay.await.map_err(CoreError::Replay)?;
    let expected_fingerprint = expected.fingerprint.clone();
    // One fingerprint is one schema: only a database whose fingerprint differs is compared
    // object by object, to name the differences.
    // (Debug builds compare every database, and check that claim.)
    let (fingerprint, differences) =
        match fingerprint == expected_fingerprint && !cfg!(debug_assertions) {
            true => (fingerprint, Vec::new()),
            false => {
                let live = match kept {
                    Some(live) => live,
                    None => read(&prepared, readers).await?.0.schema,
                };
                let differences = skein_core::schema::diff::diff(&expected.schema, &live, dialect);
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
