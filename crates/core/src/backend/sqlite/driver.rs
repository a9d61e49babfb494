//! SQLite: the embedded default. There is no session lock, so every step runs in a
//! `BEGIN IMMEDIATE` transaction (one writer at a time, others wait up to the busy
//! timeout) and first checks that no other process recorded it meanwhile.

use crate::backend::session::{Session, StepRules};
use crate::dialect::Dialect;
use crate::driver::{
    ConnectOptions, Driver, HistoryChange, LockWait, StepOutcome, StepRun, file_lock,
    init_sql_error,
};
use crate::error::{Error, Result, StatementError};
use crate::history::AppliedMigration;
use crate::migration::Script;
use crate::position::line_column;
use crate::split::{Statement, split};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{AssertSqlSafe, Connection as _};
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub struct SqliteDriver {
    session: Session<sqlx::Sqlite>,
    /// The database file; `None` in memory (nothing else can reach it).
    file: Option<PathBuf>,
    /// The migration lock, while held (see `file_lock`).
    lock: Option<file_lock::FileLock>,
}

/// What a step adds on SQLite: there is no session lock, so each step checks under the
/// write lock that no other process recorded it meanwhile.
fn rules(options: &ConnectOptions) -> StepRules {
    StepRules {
        recheck: true,
        violations: (!options.sqlite_foreign_keys).then_some(FOREIGN_KEY_CHECK),
        nothing_ran: None,
    }
}

/// With foreign keys off while migrating, what the step left must still hold them.
const FOREIGN_KEY_CHECK: &str =
    "SELECT \"table\", parent FROM pragma_foreign_key_check ORDER BY 1, 2";

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
        // As on the servers (`session::connect`): skein times its steps itself.
        let connect = sqlx::ConnectOptions::log_slow_statements(
            connect,
            log::LevelFilter::Off,
            std::time::Duration::MAX,
        );
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
            session: Session::new(
                conn,
                options,
                Dialect::Sqlite,
                "BEGIN IMMEDIATE",
                busy_or,
                locate,
            ),
            file,
            lock: None,
        })
    }
}

/// Places SQLite's error for one statement: at the statement's start (SQLite gives no
/// position).
fn locate(script: &Script, statement: &Statement<'_>, err: sqlx::Error) -> Error {
    let Some(db_err) = err.as_database_error() else {
        return Error::Database {
            action: format!("running {}", script.path.display()),
            source: err.into(),
        };
    };
    Error::Statement(Box::new(StatementError {
        file: script.path.clone(),
        position: line_column(&script.sql, statement.offset),
        message: db_err.message().to_owned(),
        code: db_err.code().map(|c| c.into_owned()),
        detail: None,
        hint: None,
        context: None,
    }))
}

impl Driver for SqliteDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn history_exists(&mut self) -> Result<bool> {
        let failure = self.session.failure("looking for the history table");
        let exists: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
        )
        .bind(self.session.options.history_table.name.clone())
        .fetch_one(&mut self.session.conn)
        .await
        .map_err(failure)?;
        Ok(exists > 0)
    }

    async fn read_history(&mut self) -> Result<Vec<AppliedMigration>> {
        if !self.history_exists().await? {
            return Ok(Vec::new());
        }
        self.session.read_history().await
    }

    async fn ensure_history(&mut self) -> Result<()> {
        for statement in Dialect::Sqlite.create_history(&self.session.options.history_table) {
            self.session
                .execute(&statement, "creating the history table")
                .await?;
        }
        Ok(())
    }

    /// The lock file beside the database, held for the whole run; each step also takes
    /// SQLite's write lock (`BEGIN IMMEDIATE`) for its transaction.
    async fn lock(&mut self) -> Result<()> {
        if let Some(file) = &self.file {
            let options = &self.session.options;
            let wait = LockWait::new(options);
            let path = file_lock::lock_path(file);
            self.lock = Some(file_lock::acquire(&path, &options.client, wait).await?);
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
        let statements = split(&step.script.sql);
        let rules = rules(&self.session.options);
        if step.script.no_transaction {
            self.session
                .run_outside_transaction(step, &statements, rules)
                .await
        } else {
            self.session
                .run_in_transaction(step, &statements, rules)
                .await
        }
    }

    async fn change_history(&mut self, changes: &[HistoryChange]) -> Result<()> {
        self.session.change_history(changes).await
    }

    async fn execute_sql(&mut self, sql: &str) -> Result<()> {
        let sql = if sql == "BEGIN" {
            "BEGIN IMMEDIATE"
        } else {
            sql
        };
        self.session.execute(sql, &format!("running `{sql}`")).await
    }

    async fn inspect(&mut self) -> Result<crate::schema::Schema> {
        let options = &self.session.options;
        let schema =
            crate::schema::inspect::sqlite::inspect(&mut self.session.conn, &options.history_table)
                .await?;
        Ok(options.leave_out_ignored(schema))
    }

    async fn query_rows(&mut self, sql: &str) -> Result<crate::driver::rows::Rows> {
        self.session.query_rows(sql).await
    }

    async fn close(self) {
        self.session.close().await;
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
