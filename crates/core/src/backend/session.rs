//! What every driver on sqlx does the same way, written once over sqlx's `Database`: a
//! statement of skein's own and its error, the history table's reads and writes, a user's
//! query as plain rows, a migration's statements one at a time (one error type for every
//! backend), polling a try-lock until the deadline, and the two ways to run a step
//! statement by statement: in one transaction with its history row, or outside one with
//! the row marking it unfinished. A driver keeps what is its own (how it connects, how a
//! server error is placed in a file, its lock's key and holder, PostgreSQL's one-message
//! step) and hands the rest to its [`Session`].

use crate::dialect::Dialect;
use crate::driver::{
    ConnectOptions, HistoryChange, LockWait, StepOutcome, StepRun, history_change, history_query,
    history_rows, mark_finished, mark_unfinished, rows,
};
use crate::error::{Error, Result};
use crate::history::{AppliedMigration, MigrationKind};
use crate::migration::Script;
use crate::plan::Direction;
use crate::split::Statement;
use sqlx::{AssertSqlSafe, Decode, Encode, Type};
use std::time::{Duration, Instant};

/// Places a server's error for one statement of `script` in its file: an
/// [`Error::Statement`] when the server refused the statement, another error (the
/// connection failed) when it did not answer.
pub(crate) type Locate = fn(&Script, &Statement<'_>, sqlx::Error) -> Error;

/// The error of a statement of skein's own that failed while doing `action` (SQLite says
/// when the database was busy for `waited`).
pub(crate) type Failed = fn(sqlx::Error, &str, Duration) -> Error;

/// The error of a statement of skein's own, as every server but SQLite says it.
pub(crate) fn failed(source: sqlx::Error, action: &str, _waited: Duration) -> Error {
    Error::Database {
        action: action.to_owned(),
        source: source.into(),
    }
}

/// A script that stopped: how many of its statements completed before the error.
pub(crate) struct ScriptFailure {
    pub completed: usize,
    pub error: Error,
}

/// What a backend adds to a step run statement by statement.
#[derive(Clone, Copy, Default)]
pub(crate) struct StepRules {
    /// Under the transaction's write lock, first check that no other process recorded the
    /// step meanwhile (SQLite, which has no session lock).
    pub recheck: bool,
    /// A query listing what the step broke, as (table, parent) pairs, run before the step is
    /// recorded: SQLite's foreign-key check while foreign keys are off.
    pub violations: Option<&'static str>,
    /// Outside a transaction, a first statement refused with this code ran nothing: the
    /// history row goes back to what it was and the error is the statement's own, so that
    /// the file can be fixed and run again (MySQL's parse error).
    pub nothing_ran: Option<&'static str>,
}

/// A connection with what skein needs to run migrations on it.
pub(crate) struct Session<DB: sqlx::Database> {
    pub conn: DB::Connection,
    pub options: ConnectOptions,
    dialect: Dialect,
    /// The statement that opens a transaction that writes (`BEGIN IMMEDIATE` on SQLite, so
    /// that a second writer waits at the start instead of failing at the first write).
    begin: &'static str,
    failed: Failed,
    locate: Locate,
}

/// `Duration` in whole milliseconds since `started`, as the history records it.
pub(crate) fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

impl<DB> Session<DB>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'r> Option<String>: Decode<'r, DB> + Type<DB>,
    for<'r> Option<i64>: Decode<'r, DB> + Type<DB>,
    for<'r> Option<i32>: Decode<'r, DB> + Type<DB>,
    for<'r> Option<i16>: Decode<'r, DB> + Type<DB>,
    for<'r> Option<f64>: Decode<'r, DB> + Type<DB>,
    for<'r> Option<bool>: Decode<'r, DB> + Type<DB>,
    for<'r> (String, String): sqlx::FromRow<'r, DB::Row>,
    usize: sqlx::ColumnIndex<DB::Row>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    pub fn new(
        conn: DB::Connection,
        options: ConnectOptions,
        dialect: Dialect,
        begin: &'static str,
        failed: Failed,
        locate: Locate,
    ) -> Self {
        Session {
            conn,
            options,
            dialect,
            begin,
            failed,
            locate,
        }
    }

    /// The error of a statement of skein's own that failed while doing `action`.
    pub fn failure(&self, action: &str) -> impl FnOnce(sqlx::Error) -> Error + use<DB> {
        let (failed, action, waited) = (self.failed, action.to_owned(), self.options.lock_timeout);
        move |source| failed(source, &action, waited)
    }

    /// Runs SQL of skein's own (one statement or several).
    pub async fn execute(&mut self, sql: &str, action: &str) -> Result<()> {
        let failure = self.failure(action);
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut self.conn)
            .await
            .map_err(failure)?;
        Ok(())
    }

    /// Every row of the history table (which exists).
    pub async fn read_history(&mut self) -> Result<Vec<AppliedMigration>> {
        let sql = self.dialect.select_history(&self.options.history_table);
        let failure = self.failure("reading the history table");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&mut self.conn)
            .await
            .map_err(failure)?;
        history_rows(&rows)
    }

    /// A query written by the user, its rows as plain values.
    pub async fn query_rows(&mut self, sql: &str) -> Result<rows::Rows> {
        let failure = self.failure(&format!("running `{sql}`"));
        let fetched = sqlx::query(AssertSqlSafe(sql.to_owned()))
            .fetch_all(&mut self.conn)
            .await
            .map_err(failure)?;
        rows::plain(&fetched)
    }

    /// One history change; an inserted row gets `ms` and `success`.
    pub async fn write(&mut self, change: &HistoryChange, ms: i64, success: bool) -> Result<()> {
        let failure = self.failure("changing the history table");
        history_query::<DB>(
            self.dialect,
            &self.options.history_table,
            change,
            ms,
            success,
        )
        .execute(&mut self.conn)
        .await
        .map_err(failure)?;
        Ok(())
    }

    /// History changes in one transaction.
    pub async fn change_history(&mut self, changes: &[HistoryChange]) -> Result<()> {
        self.execute(self.begin, "starting a transaction").await?;
        for change in changes {
            if let Err(err) = self.write(change, 0, true).await {
                self.rollback().await;
                return Err(err);
            }
        }
        self.execute("COMMIT", "committing the history change")
            .await
    }

    /// Rolls back; if that fails the connection is gone, and the server rolls back itself.
    pub async fn rollback(&mut self) {
        let _ = self.execute("ROLLBACK", "rolling back").await;
    }

    /// Runs `statements` of `script` one at a time, as psql and the mysql client do.
    pub async fn run_statements(
        &mut self,
        script: &Script,
        statements: &[Statement<'_>],
    ) -> Result<(), ScriptFailure> {
        for (completed, statement) in statements.iter().enumerate() {
            if let Err(err) = sqlx::raw_sql(AssertSqlSafe(statement.sql))
                .execute(&mut self.conn)
                .await
            {
                return Err(ScriptFailure {
                    completed,
                    error: (self.locate)(script, statement, err),
                });
            }
        }
        Ok(())
    }

    /// Polls a try-lock (`sql` with `key` bound, answering whether it was taken) until it is
    /// taken (`Ok(true)`), the lock timeout passes (`Ok(false)`) or a stop is requested.
    pub async fn poll_lock<K, R>(
        &mut self,
        sql: &'static str,
        key: K,
        taken: fn(R) -> bool,
    ) -> Result<bool>
    where
        K: for<'q> Encode<'q, DB> + Type<DB> + Clone + Send,
        R: for<'r> Decode<'r, DB> + Type<DB> + Send + Unpin,
        (R,): for<'r> sqlx::FromRow<'r, DB::Row>,
    {
        let mut wait = LockWait::new(&self.options);
        loop {
            let failure = self.failure("taking the migration lock");
            let answer: R = sqlx::query_scalar(sql)
                .bind(key.clone())
                .fetch_one(&mut self.conn)
                .await
                .map_err(failure)?;
            if taken(answer) {
                return Ok(true);
            }
            if !wait.pause().await? {
                return Ok(false);
            }
        }
    }

    /// Runs a step's statements and its history change in one transaction.
    pub async fn run_in_transaction(
        &mut self,
        step: StepRun<'_>,
        statements: &[Statement<'_>],
        rules: StepRules,
    ) -> Result<StepOutcome> {
        self.execute(self.begin, "starting a transaction").await?;
        match self.run_locked(step, statements, rules).await {
            Ok(StepOutcome::Ran { ms }) => {
                self.execute("COMMIT", "committing the migration").await?;
                Ok(StepOutcome::Ran { ms })
            }
            other => {
                self.rollback().await;
                other
            }
        }
    }

    async fn run_locked(
        &mut self,
        step: StepRun<'_>,
        statements: &[Statement<'_>],
        rules: StepRules,
    ) -> Result<StepOutcome> {
        if rules.recheck && self.is_recorded(&step).await? != (step.direction == Direction::Down) {
            return Ok(StepOutcome::AlreadyDone);
        }
        let started = Instant::now();
        self.run_statements(step.script, statements)
            .await
            .map_err(|failure| failure.error)?;
        self.check(step.script, rules).await?;
        let ms = elapsed_ms(started);
        self.write(&history_change(&step), ms, true).await?;
        Ok(StepOutcome::Ran { ms })
    }

    /// Runs a step's statements outside a transaction: its history row marks it unfinished
    /// while they run, so a failure part-way is recorded as such.
    pub async fn run_outside_transaction(
        &mut self,
        step: StepRun<'_>,
        statements: &[Statement<'_>],
        rules: StepRules,
    ) -> Result<StepOutcome> {
        let (dialect, table) = (self.dialect, self.options.history_table.clone());
        let failure = self.failure("marking the history row");
        mark_unfinished::<DB>(dialect, &table, &step)
            .execute(&mut self.conn)
            .await
            .map_err(failure)?;
        let started = Instant::now();
        let ran = match self.run_statements(step.script, statements).await {
            Ok(()) => self.check(step.script, rules).await,
            Err(ScriptFailure { completed, error }) => {
                return Err(self.stopped_part_way(&step, completed, error, rules).await);
            }
        };
        ran.map_err(|err| match err {
            Error::Statement(cause) => Error::PartiallyApplied {
                version: step.version,
                path: step.script.path.clone(),
                cause,
            },
            other => other,
        })?;
        let ms = elapsed_ms(started);
        let failure = self.failure("marking the migration finished");
        mark_finished::<DB>(dialect, &table, &step, ms)
            .execute(&mut self.conn)
            .await
            .map_err(failure)?;
        Ok(StepOutcome::Ran { ms })
    }

    /// The error of a step outside a transaction whose statement failed after `completed`
    /// others: part-applied, unless nothing ran and the history could be put back.
    async fn stopped_part_way(
        &mut self,
        step: &StepRun<'_>,
        completed: usize,
        error: Error,
        rules: StepRules,
    ) -> Error {
        let Error::Statement(cause) = error else {
            return error;
        };
        let nothing_ran = completed == 0
            && rules
                .nothing_ran
                .is_some_and(|code| cause.code.as_deref() == Some(code));
        if !nothing_ran {
            return Error::PartiallyApplied {
                version: step.version,
                path: step.script.path.clone(),
                cause,
            };
        }
        let table = &self.options.history_table;
        let undo = match step.direction {
            Direction::Up => {
                let failure = self.failure("removing the unfinished history row");
                sqlx::query(AssertSqlSafe(self.dialect.delete_history(table)))
                    .bind(step.version)
                    .execute(&mut self.conn)
                    .await
                    .map(drop)
                    .map_err(failure)
            }
            Direction::Down => {
                let sql = self.dialect.restore_literal(table, step.version);
                self.execute(&sql, "restoring the history row").await
            }
        };
        match undo {
            Ok(()) => Error::Statement(cause),
            Err(err) => err,
        }
    }

    /// Whether the step's row is there: its version's (a repeatable's, with the step's
    /// checksum: an earlier application of another text does not count).
    async fn is_recorded(&mut self, step: &StepRun<'_>) -> Result<bool> {
        let count = self.dialect.count_version(&self.options.history_table);
        let failure = self.failure("reading the history table");
        let query = if step.kind == MigrationKind::Repeatable {
            let sql = format!("{count} AND checksum = {}", self.dialect.param(2));
            sqlx::query_scalar(AssertSqlSafe(sql))
                .bind(step.version)
                .bind(step.checksum.to_owned())
        } else {
            sqlx::query_scalar(AssertSqlSafe(count)).bind(step.version)
        };
        let count: i64 = query.fetch_one(&mut self.conn).await.map_err(failure)?;
        Ok(count > 0)
    }

    /// Runs the rules' violation check: what the step broke fails it, naming the tables.
    async fn check(&mut self, script: &Script, rules: StepRules) -> Result<()> {
        let Some(sql) = rules.violations else {
            return Ok(());
        };
        let failure = self.failure("checking foreign keys");
        let rows: Vec<(String, String)> = sqlx::query_as(sql)
            .fetch_all(&mut self.conn)
            .await
            .map_err(failure)?;
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

    pub async fn close(self) {
        use sqlx::Connection as _;
        let _ = self.conn.close().await;
    }
}

/// A connection with `options`; `target` (the URL without its secrets) names the server in
/// the error.
pub(crate) async fn connect<C: sqlx::Connection>(
    target: String,
    options: &C::Options,
) -> Result<C> {
    // skein times its steps itself; sqlx's warning about a slow statement would print a
    // whole message of migrations (and what it inserts) into the log.
    let options = sqlx::ConnectOptions::log_slow_statements(
        options.clone(),
        log::LevelFilter::Off,
        Duration::MAX,
    );
    C::connect_with(&options)
        .await
        .map_err(|source| Error::Connect {
            target,
            source: source.into(),
        })
}
