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
use crate::plan::{Direction, PlanOptions, Target};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

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

/// A server's scratch database, if made yet: its URL and how long a connection to drop it
/// may wait.
type Slot = Arc<tokio::sync::Mutex<Option<(String, std::time::Duration)>>>;

/// The scratch databases one command's replays share: one per server, made by the first
/// replay that needs it and dropped by [`Scratches::close`] (or, when a process is told to
/// stop at once, through [`scratch_databases`]).
///
/// Where DDL is transactional (PostgreSQL), a set of migrations that all run in
/// transactions is replayed in one transaction, inspected, and rolled back: the database
/// is then as it was made, and the next replay on that server uses it too, one at a time.
/// So a fleet whose databases stand at several versions, or an infra database beside its
/// models, makes one scratch database, not one per set. A set that cannot be replayed so
/// (a file outside a transaction, `SET LOCAL`, which would outlive its file) or that fails
/// so is replayed file by file in a scratch database of its own, as [`replay`] does, which
/// names the failing file and line.
#[derive(Default)]
pub struct Scratches {
    servers: std::sync::Mutex<HashMap<String, Slot>>,
}

impl Scratches {
    /// The servers' slots. A panic while the map was held leaves it whole (an insert or a
    /// drain), so a poisoned lock is taken as it is.
    fn servers(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
        self.servers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The schema `migrations` up to `version` give, replayed next to the database at `url`.
    pub async fn replay(
        &self,
        url: &str,
        migrations: &[Migration],
        version: Option<Version>,
        options: &ConnectOptions,
    ) -> Result<Schema> {
        let Some(to) = version else {
            return Ok(Schema::default());
        };
        let shared = crate::backend::of_url(url).filter(|backend| backend.rolls_back_ddl());
        let history = &options.history_table;
        let Some(batch) =
            shared.and_then(|backend| one_transaction(backend, migrations, to, history))
        else {
            return replay(url, migrations, version, options).await;
        };
        let slot = self.slot(url);
        let mut scratch = slot.lock().await;
        if scratch.is_none() {
            *scratch = Some((make_scratch(url, options).await?, options.connect_timeout));
        }
        let scratch_url = scratch.as_ref().map_or("", |(url, _)| url.as_str());
        match replay_rolled_back(scratch_url, &batch, options).await {
            Some(schema) => Ok(schema),
            None => {
                // Whatever failed may have left something behind: the database goes, and
                // the set is replayed file by file, to name what failed.
                if let Some((dirty, timeout)) = scratch.take() {
                    drop_scratch(&dirty, timeout).await?;
                }
                drop(scratch);
                replay(url, migrations, version, options).await
            }
        }
    }

    /// The URLs of the scratch databases it holds now.
    pub fn databases(&self) -> Vec<String> {
        let slots: Vec<Slot> = self.servers().values().cloned().collect();
        slots
            .iter()
            .filter_map(|slot| Some(slot.try_lock().ok()?.as_ref()?.0.clone()))
            .collect()
    }

    /// Drops every scratch database made so far; the first failure is returned, after
    /// trying them all.
    pub async fn close(&self) -> Result<()> {
        let slots: Vec<Slot> = self.servers().drain().map(|(_, slot)| slot).collect();
        let mut first = Ok(());
        for slot in slots {
            if let Some((url, timeout)) = slot.lock().await.take()
                && let Err(e) = drop_scratch(&url, timeout).await
                && first.is_ok()
            {
                first = Err(e);
            }
        }
        first
    }

    /// The place of the scratch database for the server `url` is on (its user and
    /// settings included: another login gets its own).
    fn slot(&self, url: &str) -> Slot {
        let server = with_database(url, "skein_scratch");
        self.servers().entry(server).or_default().clone()
    }
}

impl Drop for Scratches {
    /// A command that ends without [`Scratches::close`] (a panic unwinding through it)
    /// still drops its scratch databases, on a thread of its own: this may run on the
    /// runtime that is going away.
    fn drop(&mut self) {
        let servers = std::mem::take(
            self.servers
                .get_mut()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let left: Vec<(String, std::time::Duration)> = servers
            .into_values()
            .filter_map(|slot| slot.try_lock().ok()?.take())
            .collect();
        if left.is_empty() {
            return;
        }
        let dropping = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                for (url, timeout) in left {
                    let _ = drop_scratch(&url, timeout).await;
                }
            });
        });
        let _ = dropping.join();
    }
}

/// The most statements replayed in one transaction: it holds a lock on every relation it
/// creates until its end, in the server's shared lock table. A longer set is replayed file
/// by file, each file's locks let go at its commit.
const ONE_TRANSACTION_STATEMENTS: usize = 2_000;

/// The statements of every migration up to `to`, in the order `up` runs them, as one
/// batch for one transaction: `None` when the set cannot run so. The history table is
/// made first, as `up` makes it (a migration that loops over the tables sees it). After
/// each file the deferred constraints are checked, as its commit would.
fn one_transaction(
    backend: &dyn crate::backend::Backend,
    migrations: &[Migration],
    to: Version,
    history: &crate::history::HistoryTable,
) -> Option<String> {
    let target = Target::Up {
        to: Some(to),
        steps: None,
    };
    let plan = crate::plan::plan(migrations, &[], target, PlanOptions::default()).ok()?;
    let by_version: HashMap<Version, &Migration> =
        migrations.iter().map(|m| (m.version, m)).collect();
    let mut batch = String::from("BEGIN;\nSAVEPOINT skein_replay;\n");
    for statement in backend.dialect().create_history(history) {
        batch.push_str(&statement);
        batch.push_str(";\n");
    }
    let mut count = 0;
    for step in &plan.steps {
        let script = &by_version.get(&step.version)?.up;
        if step.direction != Direction::Up
            || script.no_transaction
            || script.transaction_control(false).is_some()
        {
            return None;
        }
        for statement in backend.split(&script.sql) {
            count += 1;
            if count > ONE_TRANSACTION_STATEMENTS || outlives_its_transaction(statement.sql) {
                return None;
            }
            batch.push_str(statement.sql);
            batch.push_str(";\n");
        }
        batch.push_str("SET CONSTRAINTS ALL IMMEDIATE;\n");
    }
    // Fails if anything above ended the transaction: then nothing is kept.
    batch.push_str("RELEASE SAVEPOINT skein_replay");
    Some(batch)
}

/// A statement whose effect lasts to the end of the transaction, or that changes how the
/// server reads the statements after it, and so would reach the files after its own in
/// a replay sent as one message in one transaction: `SET LOCAL` in any form (in dynamic
/// SQL too; not `UPDATE ... SET local = ...`, a column), any call of `set_config`, a
/// temporary table dropped or emptied at commit, and the settings that change how string
/// literals are read. Told conservatively: a statement taken for one only costs a replay
/// file by file.
fn outlives_its_transaction(sql: &str) -> bool {
    if crate::backend::postgres::chain::changes_how_sql_is_read(sql) {
        return true;
    }
    let lower = sql.to_ascii_lowercase();
    let spaced = lower.replace('=', " = ").replace(['\'', '"'], " ");
    let words: Vec<&str> = spaced.split_whitespace().collect();
    words.windows(2).any(|pair| pair == ["on", "commit"])
        || (0..words.len()).any(|i| {
            let at = |k: usize| words.get(i + k).copied().unwrap_or_default();
            at(0) == "set" && at(1) == "local" && !matches!(at(2), "=" | "")
        })
}

/// Runs `batch` on the scratch database, inspects, rolls back: the schema, or `None` if
/// anything failed (the caller then drops the database).
async fn replay_rolled_back(url: &str, batch: &str, options: &ConnectOptions) -> Option<Schema> {
    let mut conn = Connection::open(url, writable(options)).await.ok()?;
    let schema = match conn.execute_sql(batch).await {
        Ok(()) => conn.inspect().await.ok(),
        Err(_) => None,
    };
    let rolled_back = conn.execute_sql("ROLLBACK").await.is_ok();
    conn.close().await;
    schema.filter(|_| rolled_back)
}

/// The options of a session that writes to a scratch database, whatever the command's.
fn writable(options: &ConnectOptions) -> ConnectOptions {
    ConnectOptions {
        read_only: false,
        ..options.clone()
    }
}

/// A new scratch database next to `url`, listed for a stop. A stop asked for meanwhile does
/// not cut the CREATE short: once sent, the server finishes it whether skein waits or not,
/// and a database skein stopped waiting for would be left behind, listed nowhere.
async fn make_scratch(url: &str, options: &ConnectOptions) -> Result<String> {
    let scratch = with_database(url, &scratch_name());
    track(&scratch, true);
    let made = create_database(
        &scratch,
        options.connect_timeout,
        &crate::stop::Stop::default(),
    )
    .await;
    if let Err(e) = made {
        track(&scratch, false);
        return Err(e);
    }
    Ok(scratch)
}

/// Drops a scratch database; a passing refusal (too many connections) is waited out, as a
/// connection is, and a stop asked for meanwhile does not cut this short.
async fn drop_scratch(scratch: &str, connect_timeout: std::time::Duration) -> Result<()> {
    let dropped = crate::driver::with_connect_retries(
        scratch,
        connect_timeout,
        &crate::stop::Stop::default(),
        || drop_database(scratch),
    )
    .await;
    track(scratch, false);
    dropped
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
    if let Some(memory) = in_memory {
        return replay_into(memory, migrations, version, options).await;
    }
    let scratch = make_scratch(url, options).await?;
    let result = replay_into(&scratch, migrations, version, options).await;
    // Dropped whatever happened above.
    let dropped = drop_scratch(&scratch, options.connect_timeout).await;
    if let (Ok(_), Err(e)) = (&result, dropped) {
        return Err(e);
    }
    result
}

async fn replay_into(
    url: &str,
    migrations: &[Migration],
    version: Version,
    options: &ConnectOptions,
) -> Result<Schema> {
    let mut conn = Connection::open(url, writable(options)).await?;
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
    fn set_local_is_told_from_a_column_named_local() {
        for sql in [
            "SET LOCAL search_path = other",
            "set local statement_timeout to '5s'",
            "SET  LOCAL\n search_path=other",
            "SET LOCAL TIME ZONE 'UTC'",
            "SET LOCAL ROLE admin",
            "SELECT set_config('search_path', 'other', true)",
            "CREATE TABLE t (id INT); SET LOCAL lock_timeout = 1",
            "DO $$ BEGIN EXECUTE 'SET LOCAL search_path = app'; END $$",
            "SET LOCAL \"search_path\" = app",
            "SET LOCAL SCHEMA 'app'",
            "CREATE TEMP TABLE x (id INT) ON COMMIT DROP",
            "SET standard_conforming_strings = off",
        ] {
            assert!(outlives_its_transaction(sql), "{sql}");
        }
        for sql in [
            "UPDATE community c SET local = true FROM local_site ls",
            "UPDATE t SET local=false",
            "SET search_path = other",
            "CREATE TABLE local (id INT)",
        ] {
            assert!(!outlives_its_transaction(sql), "{sql}");
        }
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
