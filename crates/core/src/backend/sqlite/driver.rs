//! SQLite: the embedded default. There is no session lock, so every step runs in a
//! `BEGIN IMMEDIATE` transaction (one writer at a time, others wait up to the busy
//! timeout) and first checks that no other process recorded it meanwhile.

use crate::dialect::Dialect;
use crate::driver::{
    ConnectOptions, Driver, HistoryChange, LockWait, StepOutcome, StepRun, file_lock,
    history_change, history_query, history_rows, init_sql_error, mark_finished, mark_unfinished,
};
use crate::error::{Error, Result, StatementError};
use crate::history::{AppliedMigration, MigrationKind};
use crate::migration::Script;
use crate::plan::Direction;
use crate::position::line_column;
use crate::split::split;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{AssertSqlSafe, Connection as _};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

pub struct SqliteDriver {
    conn: SqliteConnection,
    options: ConnectOptions,
    /// The database file; `None` in memory (nothing else can reach it).
    file: Option<PathBuf>,
    /// The migration lock, while held (see `file_lock`).
    lock: Option<file_lock::FileLock>,
}

impl SqliteDriver {
    pub async fn connect(url: &str, options: ConnectOptions) -> Result<Self> {
        let connect_error = |source: sqlx::Error| Error::Connect {
            target: url.to_owned(),
            source: source.into(),
        };
        let mut connect = SqliteConnectOptions::from_str(url)
            .map_err(connect_error)?
            .create_if_missing(true)
            .busy_timeout(options.lock_timeout)
            // SQLite's own procedure for schema changes: foreign keys off while migrating
            // (a table rebuild would otherwise cascade or fail), checked before each commit.
            .foreign_keys(options.sqlite_foreign_keys);
        if options.read_only && !connect.get_filename().exists() {
            // Nothing to read yet: an empty database, and no file left behind.
            connect = SqliteConnectOptions::from_str("sqlite::memory:").map_err(connect_error)?;
        }
        if let Some(parent) = Path::new(connect.get_filename()).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| connect_error(sqlx::Error::Io(e)))?;
        }
        let mut conn = SqliteConnection::connect_with(&connect)
            .await
            .map_err(connect_error)?;
        for (index, statement) in options.init_sql.iter().enumerate() {
            sqlx::raw_sql(AssertSqlSafe(statement.as_str()))
                .execute(&mut conn)
                .await
                .map_err(init_sql_error(index, statement))?;
        }
        let file = (!connect.get_filename().as_os_str().is_empty()
            && connect.get_filename() != Path::new(":memory:"))
        .then(|| connect.get_filename().to_path_buf());
        Ok(SqliteDriver {
            conn,
            options,
            file,
            lock: None,
        })
    }

    async fn execute(&mut self, sql: &str, action: &str) -> Result<()> {
        let waited = self.options.lock_timeout;
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut self.conn)
            .await
            .map_err(|source| busy_or(source, action, waited))?;
        Ok(())
    }

    async fn run_script(&mut self, script: &Script) -> Result<()> {
        for statement in split(&script.sql) {
            if let Err(err) = sqlx::raw_sql(AssertSqlSafe(statement.sql))
                .execute(&mut self.conn)
                .await
            {
                let Some(db_err) = err.as_database_error() else {
                    return Err(Error::Database {
                        action: format!("running {}", script.path.display()),
                        source: err.into(),
                    });
                };
                return Err(Error::Statement(Box::new(StatementError {
                    file: script.path.clone(),
                    position: line_column(&script.sql, statement.offset),
                    message: db_err.message().to_owned(),
                    code: db_err.code().map(|c| c.into_owned()),
                    detail: None,
                    hint: None,
                    context: None,
                })));
            }
        }
        Ok(())
    }

    /// Whether the step's row is there: its version's (a repeatable's, with the step's
    /// checksum: an earlier application of another text does not count).
    async fn is_recorded(&mut self, step: &StepRun<'_>) -> Result<bool> {
        let table = &self.options.history_table;
        let query = if step.kind == MigrationKind::Repeatable {
            let sql = format!("{} AND checksum = ?2", Dialect::Sqlite.count_version(table));
            sqlx::query_scalar(AssertSqlSafe(sql))
                .bind(step.version)
                .bind(step.checksum.to_owned())
        } else {
            sqlx::query_scalar(AssertSqlSafe(Dialect::Sqlite.count_version(table)))
                .bind(step.version)
        };
        let count: i64 = query
            .fetch_one(&mut self.conn)
            .await
            .map_err(|e| busy_or(e, "reading the history table", self.options.lock_timeout))?;
        Ok(count > 0)
    }

    async fn write(&mut self, change: &HistoryChange, ms: i64, success: bool) -> Result<()> {
        let table = &self.options.history_table;
        history_query::<sqlx::Sqlite>(Dialect::Sqlite, table, change, ms, success)
            .execute(&mut self.conn)
            .await
            .map_err(|e| busy_or(e, "changing the history table", self.options.lock_timeout))?;
        Ok(())
    }

    async fn run_in_transaction(&mut self, step: StepRun<'_>) -> Result<StepOutcome> {
        self.execute("BEGIN IMMEDIATE", "taking SQLite's write lock")
            .await?;
        let result = self.run_locked(step).await;
        match result {
            Ok(StepOutcome::Ran { ms }) => {
                self.execute("COMMIT", "committing the migration").await?;
                Ok(StepOutcome::Ran { ms })
            }
            other => {
                let _ = self.execute("ROLLBACK", "rolling back").await;
                other
            }
        }
    }

    async fn run_locked(&mut self, step: StepRun<'_>) -> Result<StepOutcome> {
        let recorded = self.is_recorded(&step).await?;
        if recorded != (step.direction == Direction::Down) {
            return Ok(StepOutcome::AlreadyDone);
        }
        let started = Instant::now();
        self.run_script(step.script).await?;
        self.check_foreign_keys(step.script).await?;
        let ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.write(&history_change(&step), ms, true).await?;
        Ok(StepOutcome::Ran { ms })
    }

    /// With foreign keys off while migrating, what the step left must still hold them:
    /// a violation fails the step, naming the tables.
    async fn check_foreign_keys(&mut self, script: &Script) -> Result<()> {
        if self.options.sqlite_foreign_keys {
            return Ok(());
        }
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT \"table\", parent FROM pragma_foreign_key_check ORDER BY 1, 2")
                .fetch_all(&mut self.conn)
                .await
                .map_err(|e| busy_or(e, "checking foreign keys", self.options.lock_timeout))?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut pairs: Vec<String> = rows
            .iter()
            .map(|(table, parent)| format!("{table} -> {parent}"))
            .collect();
        pairs.dedup();
        Err(Error::ForeignKeyViolation {
            path: script.path.clone(),
            rows: rows.len(),
            tables: pairs.join(", "),
        })
    }

    async fn run_outside_transaction(&mut self, step: StepRun<'_>) -> Result<StepOutcome> {
        let table = &self.options.history_table;
        mark_unfinished::<sqlx::Sqlite>(Dialect::Sqlite, table, &step)
            .execute(&mut self.conn)
            .await
            .map_err(|e| busy_or(e, "marking the history row", self.options.lock_timeout))?;
        let started = Instant::now();
        let ran = match self.run_script(step.script).await {
            Ok(()) => self.check_foreign_keys(step.script).await,
            Err(err) => Err(err),
        };
        ran.map_err(|err| match err {
            Error::Statement(cause) => Error::PartiallyApplied {
                version: step.version,
                path: step.script.path.clone(),
                cause,
            },
            other => other,
        })?;
        let ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let table = &self.options.history_table;
        mark_finished::<sqlx::Sqlite>(Dialect::Sqlite, table, &step, ms)
            .execute(&mut self.conn)
            .await
            .map_err(|e| {
                busy_or(
                    e,
                    "marking the migration finished",
                    self.options.lock_timeout,
                )
            })?;
        Ok(StepOutcome::Ran { ms })
    }
}

impl Driver for SqliteDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn history_exists(&mut self) -> Result<bool> {
        let exists: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
        )
        .bind(self.options.history_table.name.clone())
        .fetch_one(&mut self.conn)
        .await
        .map_err(|e| {
            busy_or(
                e,
                "looking for the history table",
                self.options.lock_timeout,
            )
        })?;
        Ok(exists > 0)
    }

    async fn read_history(&mut self) -> Result<Vec<AppliedMigration>> {
        if !self.history_exists().await? {
            return Ok(Vec::new());
        }
        let table = &self.options.history_table;
        let sql = Dialect::Sqlite.select_history(table);
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&mut self.conn)
            .await
            .map_err(|e| busy_or(e, "reading the history table", self.options.lock_timeout))?;
        history_rows(&rows)
    }

    async fn ensure_history(&mut self) -> Result<()> {
        for statement in Dialect::Sqlite.create_history(&self.options.history_table) {
            self.execute(&statement, "creating the history table")
                .await?;
        }
        Ok(())
    }

    /// The lock file beside the database, held for the whole run; each step also takes
    /// SQLite's write lock (`BEGIN IMMEDIATE`) for its transaction.
    async fn lock(&mut self) -> Result<()> {
        if let Some(file) = &self.file {
            let wait = LockWait::new(&self.options);
            let path = file_lock::lock_path(file);
            self.lock = Some(file_lock::acquire(&path, &self.options.client, wait).await?);
        }
        Ok(())
    }

    async fn unlock(&mut self) {
        self.lock = None;
    }

    async fn lock_holder(&mut self) -> Result<Option<String>> {
        Ok(self
            .file
            .as_deref()
            .filter(|_| self.lock.is_none())
            .and_then(|file| file_lock::holder(&file_lock::lock_path(file))))
    }

    async fn run_step(&mut self, step: StepRun<'_>) -> Result<StepOutcome> {
        if step.script.no_transaction {
            self.run_outside_transaction(step).await
        } else {
            self.run_in_transaction(step).await
        }
    }

    async fn change_history(&mut self, changes: &[HistoryChange]) -> Result<()> {
        self.execute("BEGIN IMMEDIATE", "taking SQLite's write lock")
            .await?;
        for change in changes {
            if let Err(err) = self.write(change, 0, true).await {
                let _ = self.execute("ROLLBACK", "rolling back").await;
                return Err(err);
            }
        }
        self.execute("COMMIT", "committing the history change")
            .await
    }

    async fn execute_sql(&mut self, sql: &str) -> Result<()> {
        let sql = if sql == "BEGIN" {
            "BEGIN IMMEDIATE"
        } else {
            sql
        };
        self.execute(sql, &format!("running `{sql}`")).await
    }

    async fn inspect(&mut self) -> Result<crate::schema::Schema> {
        let schema =
            crate::schema::inspect::sqlite::inspect(&mut self.conn, &self.options.history_table)
                .await?;
        Ok(self.options.leave_out_ignored(schema))
    }

    async fn query_rows(&mut self, sql: &str) -> Result<crate::driver::rows::Rows> {
        let fetched = sqlx::query(AssertSqlSafe(sql.to_owned()))
            .fetch_all(&mut self.conn)
            .await
            .map_err(|e| busy_or(e, &format!("running `{sql}`"), self.options.lock_timeout))?;
        crate::driver::rows::plain(&fetched)
    }

    async fn close(self) {
        let _ = self.conn.close().await;
    }
}

/// Creates the database file (and its folder) if it does not exist; returns whether it
/// was created.
pub async fn create_database(url: &str) -> Result<bool> {
    let options = SqliteConnectOptions::from_str(url).map_err(|source| Error::Connect {
        target: url.to_owned(),
        source: source.into(),
    })?;
    let path = options.get_filename().to_owned();
    if path.exists() {
        return Ok(false);
    }
    let driver = SqliteDriver::connect(url, ConnectOptions::default()).await?;
    driver.close().await;
    Ok(true)
}

/// Whether the database file exists.
pub async fn database_exists(url: &str) -> Result<bool> {
    let options = SqliteConnectOptions::from_str(url).map_err(|source| Error::Connect {
        target: url.to_owned(),
        source: source.into(),
    })?;
    Ok(options.get_filename().exists())
}

/// Removes the database file, with its write-ahead log and lock file.
pub async fn drop_database(url: &str) -> Result<()> {
    let options = SqliteConnectOptions::from_str(url).map_err(|source| Error::Connect {
        target: url.to_owned(),
        source: source.into(),
    })?;
    let _ = std::fs::remove_file(file_lock::lock_path(options.get_filename()));
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut side = options.get_filename().as_os_str().to_owned();
        side.push(suffix);
        let _ = std::fs::remove_file(side);
    }
    match std::fs::remove_file(options.get_filename()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::Io {
            action: "remove",
            path: options.get_filename().to_owned(),
            source,
        }),
    }
}

/// SQLite's "database is locked" (SQLITE_BUSY, 5, after the busy timeout) said as what it
/// is: another writer holds the file; other errors as they are.
fn busy_or(source: sqlx::Error, action: &str, waited: std::time::Duration) -> Error {
    let busy = source
        .as_database_error()
        .is_some_and(|db| matches!(db.code().as_deref(), Some("5" | "517" | "261")));
    match busy {
        true => Error::SqliteBusy {
            action: action.to_owned(),
            waited,
        },
        false => Error::Database {
            action: action.to_owned(),
            source: source.into(),
        },
    }
}
