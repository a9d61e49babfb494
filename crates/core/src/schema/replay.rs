//! The schema a database should have: its migrations up to its version, replayed into a
//! scratch database (PostgreSQL, MySQL: a temporary database on the same server, dropped on
//! every path; SQLite: memory), then inspected.

use super::Schema;
use crate::driver::{
    ConnectOptions, Connection, Driver, create_database, drop_database, scheme, with_database,
};
use crate::engine::{self, RunOptions, Silent};
use crate::error::{Error, Result};
use crate::migration::{Migration, Version};
use crate::plan::Target;
use sha2::{Digest, Sha256};

/// What identifies an expected schema: the backend and the statements of every migration
/// up to `version` (its version, whether it runs in a transaction, and each statement
/// without the comments around it). Databases with the same key have the same expected
/// schema, so a fleet of one template replays once per version, even when the rendered
/// files differ in their comments (`-- {{ model }}: ...`).
pub fn cache_key(url: &str, migrations: &[Migration], version: Option<Version>) -> String {
    let mut hasher = Sha256::new();
    let scheme = scheme(url);
    hasher.update(scheme.as_bytes());
    let split = |sql| match crate::backend::of_scheme(scheme) {
        Some(backend) => backend.split(sql),
        None => crate::split::split(sql),
    };
    for migration in migrations
        .iter()
        .filter(|m| version.is_some_and(|v| m.version <= v))
    {
        hasher.update(migration.version.to_be_bytes());
        hasher.update([u8::from(migration.up.no_transaction)]);
        for statement in split(&migration.up.sql) {
            hasher.update((statement.sql.len() as u64).to_be_bytes());
            hasher.update(statement.sql.as_bytes());
        }
    }
    hex::encode(&hasher.finalize()[..12])
}

/// Scratch databases that exist right now, so that a process told to stop at once can
/// still drop them (see [`scratch_databases`]).
static ACTIVE: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// The URLs of the scratch databases in use at this moment.
pub fn scratch_databases() -> Vec<String> {
    ACTIVE
        .lock()
        .map(|active| active.clone())
        .unwrap_or_default()
}

fn track(url: &str, active: bool) {
    if let Ok(mut list) = ACTIVE.lock() {
        list.retain(|u| u != url);
        if active {
            list.push(url.to_owned());
        }
    }
}

/// Replays `migrations` up to `version` next to the database at `url` and inspects the result.
pub async fn replay(
    url: &str,
    migrations: &[Migration],
    version: Option<Version>,
    options: &ConnectOptions,
) -> Result<Schema> {
    let Some(version) = version else {
        return Ok(Schema::default());
    };
    let in_memory = crate::backend::of_url(url).and_then(|backend| backend.in_memory_url());
    let scratch = match in_memory {
        Some(_) => None,
        None => Some(with_database(url, &scratch_name())),
    };
    let scratch_url = scratch.as_deref().or(in_memory).unwrap_or_default();
    if let Some(scratch) = &scratch {
        track(scratch, true);
        if let Err(e) = create_database(scratch, options.connect_timeout, &options.stop).await {
            track(scratch, false);
            return Err(e);
        }
    }
    let result = replay_into(scratch_url, migrations, version, options).await;
    if let Some(scratch) = &scratch {
        // Dropped whatever happened above; a passing refusal (too many connections) is
        // waited out, as a connection is, so that no scratch database is left behind. A
        // stop asked for meanwhile does not cut this short.
        let dropped = crate::driver::with_connect_retries(
            scratch,
            options.connect_timeout,
            &crate::stop::Stop::default(),
            || drop_database(scratch),
        )
        .await;
        track(scratch, false);
        if let (Ok(_), Err(e)) = (&result, dropped) {
            return Err(e);
        }
    }
    result
}

async fn replay_into(
    url: &str,
    migrations: &[Migration],
    version: Version,
    options: &ConnectOptions,
) -> Result<Schema> {
    let options = ConnectOptions {
        read_only: false,
        ..options.clone()
    };
    let mut conn = Connection::open(url, options).await?;
    let run = RunOptions {
        applied_by: "skein (replay)".to_owned(),
        ..RunOptions::default()
    };
    let migrated = engine::migrate(
        &mut conn,
        migrations,
        Target::Up {
            to: Some(version),
            steps: None,
        },
        &run,
        &Silent,
    )
    .await;
    let schema = match migrated {
        Ok(_) => conn.inspect().await,
        // The scratch database goes away: what a failure left half-done there needs no
        // repair, only the file fixed.
        Err(failure) => Err(match failure.error {
            Error::PartiallyApplied { cause, .. } => Error::Statement(cause),
            other => other,
        }),
    };
    conn.close().await;
    schema
}

/// `skein_scratch_<12 hex>`: unique per process and call, easy to spot if one is ever left.
fn scratch_name() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let seed = format!(
        "{}-{}-{:?}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now()
    );
    let digest = Sha256::digest(seed.as_bytes());
    format!("skein_scratch_{}", hex::encode(&digest[..6]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{MemorySource, MigrationSource as _};

    fn key(files: &[(&str, &str)]) -> String {
        let migrations = MemorySource::new(files.iter().map(|(n, c)| (*n, *c)))
            .load()
            .unwrap();
        cache_key("postgres://h/db", &migrations, Some(2))
    }

    #[test]
    fn models_whose_files_differ_only_in_comments_share_one_replay() {
        let m1 = key(&[("1_a.sql", "-- m1: tables\nCREATE TABLE t (id int);\n")]);
        let m2 = key(&[("1_a.sql", "-- m2: tables\nCREATE TABLE t (id int); -- m2\n")]);
        assert_eq!(m1, m2);
        let other = key(&[("1_a.sql", "-- m1: tables\nCREATE TABLE t (id bigint);\n")]);
        assert_ne!(m1, other);
        let later = key(&[
            ("1_a.sql", "CREATE TABLE t (id int);\n"),
            ("3_b.sql", "CREATE TABLE u (id int);\n"),
        ]);
        assert_eq!(
            later,
            key(&[("1_a.sql", "CREATE TABLE t (id int);\n")]),
            "only up to the version"
        );
        let no_tx = key(&[(
            "1_a.sql",
            "-- skein:no-transaction\nCREATE TABLE t (id int);\n",
        )]);
        assert_ne!(no_tx, key(&[("1_a.sql", "CREATE TABLE t (id int);\n")]));
    }
}
