//! What the engine asks of a database: the [`Driver`] trait (connect, the history table,
//! the migration lock, applying a script), written once; each backend's driver lives in
//! its folder under `backend/`, and [`Connection`] picks one from the URL.

mod canceller;
pub(crate) mod file_lock;
mod identity;
pub mod rows;

pub use crate::backend::connection::Connection;
pub use canceller::{Canceller, Liveness};
pub use identity::{check_target, database_identity};

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::history::{AppliedMigration, HistoryTable, MigrationKind, REVERTING_SUFFIX};
use crate::migration::{Script, Version};
use crate::plan::Direction;
use crate::stop::Stop;
use std::future::Future;
use std::time::Duration;

/// What a driver needs besides the URL.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub history_table: HistoryTable,
    /// How long to wait for another skein's lock (and SQLite's busy timeout).
    pub lock_timeout: Duration,
    /// How long to keep retrying a connection that fails for a passing reason (server
    /// starting up, too many connections, connection refused or reset).
    pub connect_timeout: Duration,
    /// Only reading: a SQLite file that does not exist is read as empty, not created.
    pub read_only: bool,
    /// Ends every wait (connection retries, the lock wait) as soon as it is requested.
    pub stop: Stop,
    /// Statements run first on every connection (session setup: `SET lock_timeout ...`).
    pub init_sql: Vec<String>,
    /// SQLite: keep foreign keys enforced while migrating; by default they are off and
    /// `PRAGMA foreign_key_check` runs before each step commits.
    pub sqlite_foreign_keys: bool,
    /// Who this is (`user@host skein/<version>`), for others waiting on its lock.
    pub client: String,
    /// Tables (and views) that inspection leaves out, as the history table: names or
    /// patterns with `*` and `?` (`alembic_version`, `tmp_*`).
    pub ignore_tables: Vec<String>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            history_table: HistoryTable::default(),
            lock_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(30),
            read_only: false,
            stop: Stop::default(),
            init_sql: Vec::new(),
            sqlite_foreign_keys: false,
            client: format!("skein/{}", env!("CARGO_PKG_VERSION")),
            ignore_tables: Vec::new(),
        }
    }
}

/// The longest wait skein starts: timers and servers take nothing longer.
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

impl ConnectOptions {
    /// `schema` without the tables inspection leaves out: `ignore_tables`, and other
    /// tools' history tables (skein's own is never inspected).
    pub(crate) fn leave_out_ignored(&self, schema: crate::schema::Schema) -> crate::schema::Schema {
        schema
            .without_tables(&self.ignore_tables)
            .without_tables(&crate::adopt::FOREIGN_HISTORY_TABLES)
    }

    /// The options with every wait kept within [`MAX_WAIT`].
    pub(crate) fn bounded(mut self) -> Self {
        self.lock_timeout = self.lock_timeout.min(MAX_WAIT);
        self.connect_timeout = self.connect_timeout.min(MAX_WAIT);
        self
    }
}

/// One step to run: the script and what to record.
#[derive(Debug, Clone, Copy)]
pub struct StepRun<'a> {
    pub version: Version,
    pub description: &'a str,
    pub direction: Direction,
    pub script: &'a Script,
    /// Checksum of the up script, recorded when going up.
    pub checksum: &'a str,
    pub applied_by: &'a str,
    /// `Migration`, or `Repeatable` for a repeatable migration (whose row replaces the
    /// one of its previous application).
    pub kind: MigrationKind,
    /// The step's commit must be durable before the call returns. The engine clears it for
    /// every step of a run but the last: a driver may then commit without waiting for the
    /// disk (PostgreSQL), because the last step's commit, or [`Driver::unlock`] when the
    /// run ends early, waits for everything committed before it.
    pub durable: bool,
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepOutcome {
    /// It ran, in this many milliseconds.
    Ran { ms: i64 },
    /// Another process did it first (SQLite, which has no session lock).
    AlreadyDone,
}

/// A change to the history table that runs no migration (`stamp`, `repair`).
#[derive(Debug, Clone)]
pub enum HistoryChange {
    Insert {
        version: Version,
        description: String,
        checksum: String,
        kind: MigrationKind,
        applied_by: String,
    },
    Delete {
        version: Version,
    },
    SetChecksum {
        version: Version,
        checksum: String,
    },
    /// A row whose down file failed part-way, marked applied again.
    Restore {
        version: Version,
    },
}

/// Reads a history row whose columns are in the order of [`Dialect::select_history`].
fn applied_migration<'r, R>(row: &'r R) -> Result<AppliedMigration, sqlx::Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let kind: String = row.try_get(3)?;
    Ok(AppliedMigration {
        version: row.try_get(0)?,
        description: row.try_get(1)?,
        checksum: row.try_get(2)?,
        kind: MigrationKind::parse(&kind),
        reverting: kind.ends_with(REVERTING_SUFFIX),
        applied_at: row.try_get(4)?,
        applied_by: row.try_get(5)?,
        execution_ms: row.try_get(6)?,
        success: row.try_get(7)?,
    })
}

/// History rows as read by [`Dialect::select_history`].
pub(crate) fn history_rows<'r, R>(rows: &'r [R]) -> Result<Vec<AppliedMigration>>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    rows.iter()
        .map(applied_migration)
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Error::database("reading the history table"))
}

/// The statement, with its values bound, that makes one history change. An inserted row
/// gets `execution_ms` and `success` as given.
pub(crate) fn history_query<'q, DB>(
    dialect: Dialect,
    table: &HistoryTable,
    change: &HistoryChange,
    execution_ms: i64,
    success: bool,
) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    DB: sqlx::Database,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    use sqlx::AssertSqlSafe;
    match change {
        HistoryChange::Insert {
            version,
            description,
            checksum,
            kind,
            applied_by,
        } => sqlx::query(AssertSqlSafe(
            dialect.insert_history(table, *kind == MigrationKind::Repeatable),
        ))
        .bind(*version)
        .bind(description.clone())
        .bind(checksum.clone())
        .bind(kind.as_str().to_owned())
        .bind(applied_by.clone())
        .bind(execution_ms)
        .bind(success),
        HistoryChange::Delete { version } => {
            sqlx::query(AssertSqlSafe(dialect.delete_history(table))).bind(*version)
        }
        HistoryChange::Restore { version } => {
            sqlx::query(AssertSqlSafe(dialect.restore_history(table))).bind(*version)
        }
        HistoryChange::SetChecksum { version, checksum } => {
            sqlx::query(AssertSqlSafe(dialect.set_checksum(table)))
                .bind(checksum.clone())
                .bind(*version)
        }
    }
}

/// The history change that records a step.
pub(crate) fn history_change(step: &StepRun<'_>) -> HistoryChange {
    match step.direction {
        Direction::Up => HistoryChange::Insert {
            version: step.version,
            description: step.description.to_owned(),
            checksum: step.checksum.to_owned(),
            kind: step.kind,
            applied_by: step.applied_by.to_owned(),
        },
        Direction::Down => HistoryChange::Delete {
            version: step.version,
        },
    }
}

/// For a step run outside a transaction, the statement that marks it in progress: going
/// up, its row inserted as unfinished; going down, its row marked unfinished.
pub(crate) fn mark_unfinished<'q, DB>(
    dialect: Dialect,
    table: &HistoryTable,
    step: &StepRun<'_>,
) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    DB: sqlx::Database,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    use sqlx::AssertSqlSafe;
    match step.direction {
        Direction::Up => history_query(dialect, table, &history_change(step), 0, false),
        Direction::Down => {
            sqlx::query(AssertSqlSafe(dialect.mark_reverting(table))).bind(step.version)
        }
    }
}

/// For a step run outside a transaction, the statement that records it done: going up,
/// its row marked finished with its time; going down, its row removed.
pub(crate) fn mark_finished<'q, DB>(
    dialect: Dialect,
    table: &HistoryTable,
    step: &StepRun<'_>,
    ms: i64,
) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    DB: sqlx::Database,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    use sqlx::AssertSqlSafe;
    match step.direction {
        Direction::Up => sqlx::query(AssertSqlSafe(dialect.finish_history(table)))
            .bind(ms)
            .bind(step.version),
        Direction::Down => history_query(dialect, table, &history_change(step), ms, true),
    }
}

/// The error of an `init_sql` statement (numbered from 1) that failed.
pub(crate) fn init_sql_error(index: usize, statement: &str) -> impl FnOnce(sqlx::Error) -> Error {
    let action = format!("init_sql statement {} (`{statement}`)", index + 1);
    move |source| Error::InitSql {
        action,
        source: source.into(),
    }
}

/// Waiting for another session's lock: polls with a growing pause, up to a deadline,
/// and no longer than a stop request.
pub(crate) struct LockWait {
    deadline: tokio::time::Instant,
    timeout: Duration,
    pause: Duration,
    stop: Stop,
}

impl LockWait {
    pub(crate) fn new(options: &ConnectOptions) -> Self {
        let timeout = options.lock_timeout.min(MAX_WAIT);
        LockWait {
            deadline: tokio::time::Instant::now() + timeout,
            timeout,
            pause: Duration::from_millis(20),
            stop: options.stop.clone(),
        }
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sleeps before the next try; `Ok(false)` once the deadline has passed, an error
    /// when a stop is requested.
    pub(crate) async fn pause(&mut self) -> Result<bool> {
        let now = tokio::time::Instant::now();
        if now >= self.deadline {
            return Ok(false);
        }
        tokio::select! {
            () = tokio::time::sleep(self.pause.min(self.deadline - now)) => {}
            () = self.stop.requested() => return Err(Error::Stopped { during: "waiting for the migration lock" }),
        }
        self.pause = (self.pause * 2).min(Duration::from_millis(500));
        Ok(true)
    }
}

/// Runs `attempt` (a connection, or a step that starts with one) until it succeeds, fails
/// for a reason that will not pass, `timeout` runs out or a stop is requested. Passing
/// failures (server starting, too many connections, refused, reset) are retried with
/// backoff for the whole of `timeout`; the final error says so.
pub(crate) async fn with_connect_retries<T, F, Fut>(
    url: &str,
    timeout: Duration,
    stop: &Stop,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let timeout = timeout.min(MAX_WAIT);
    let started = tokio::time::Instant::now();
    let deadline = started + timeout;
    let mut backoff = Duration::from_millis(100);
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let outcome = tokio::select! {
            outcome = tokio::time::timeout_at(deadline, attempt()) => outcome,
            () = stop.requested() => return Err(Error::Stopped { during: "connecting" }),
        };
        let source = match outcome {
            Ok(Err(Error::Connect { source, .. })) if source.transient => source,
            Ok(result) => return result,
            Err(_) => {
                return Err(Error::ConnectTimedOut {
                    target: redact_url(url),
                    waited: started.elapsed(),
                    attempts,
                    last: None,
                });
            }
        };
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(Error::ConnectTimedOut {
                target: redact_url(url),
                waited: started.elapsed(),
                attempts,
                last: Some(source),
            });
        }
        tracing::info!(
            "connecting to {} failed ({source}); retrying",
            redact_url(url)
        );
        tokio::select! {
            () = tokio::time::sleep(backoff.min(deadline - now)) => {}
            () = stop.requested() => return Err(Error::Stopped { during: "connecting" }),
        }
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

/// A backend.
pub trait Driver: Send {
    fn dialect(&self) -> Dialect;

    /// Whether skein's history table exists (it may be empty: every migration reverted).
    fn history_exists(&mut self) -> impl Future<Output = Result<bool>> + Send;

    /// Every history row, by version; empty when the table does not exist yet.
    fn read_history(&mut self) -> impl Future<Output = Result<Vec<AppliedMigration>>> + Send;

    /// Creates the history table if needed (call with the lock held).
    fn ensure_history(&mut self) -> impl Future<Output = Result<()>> + Send;

    /// Takes the migration lock, waiting up to the configured timeout. The lock belongs to
    /// this connection's session: it lasts until [`Driver::unlock`] or until the session
    /// ends, so the server holds it exactly as long as this session may still be migrating,
    /// even when skein itself is killed.
    fn lock(&mut self) -> impl Future<Output = Result<()>> + Send;

    /// Makes every commit of this session durable, then releases the migration lock
    /// (closing the connection releases it too).
    fn unlock(&mut self) -> impl Future<Output = ()> + Send;

    /// Reaches this session from outside it (to cancel its statement or probe it);
    /// `None` where there is no server (SQLite).
    fn canceller(&self) -> Option<Canceller> {
        None
    }

    /// Who holds the migration lock now, if another session does (read-only).
    fn lock_holder(&mut self) -> impl Future<Output = Result<Option<String>>> + Send;

    /// Whether `script` runs in one transaction with its history row.
    fn runs_in_transaction(&self, script: &Script) -> bool {
        !script.no_transaction
    }

    /// Runs one step and records it in the history, atomically when it is transactional.
    fn run_step(&mut self, step: StepRun<'_>) -> impl Future<Output = Result<StepOutcome>> + Send;

    /// Runs the first of `steps`, or more of them in order where the backend can send them
    /// together (PostgreSQL: transactional steps in one message), each in its own
    /// transaction with its history row. Calls `done(i, outcome)` as step `i` is recorded,
    /// and returns how many ran; the engine sends the rest again. The first failure ends the
    /// call: the steps before it stay recorded, it is rolled back, and none after it runs.
    fn run_steps(
        &mut self,
        steps: &[StepRun<'_>],
        done: &mut (dyn FnMut(usize, StepOutcome) + Send),
    ) -> impl Future<Output = Result<usize>> + Send {
        async move {
            let outcome = self.run_step(steps[0]).await?;
            done(0, outcome);
            Ok(1)
        }
    }

    /// Whether [`Driver::run_steps`] may run more than one step per call: the engine then
    /// hands it every transactional step in a row.
    fn runs_steps_together(&self) -> bool {
        false
    }

    /// Applies history changes in one transaction.
    fn change_history(
        &mut self,
        changes: &[HistoryChange],
    ) -> impl Future<Output = Result<()>> + Send;

    /// The live schema, the history table left out.
    fn inspect(&mut self) -> impl Future<Output = Result<crate::schema::Schema>> + Send;

    /// Runs one statement of generated SQL (`converge`); `BEGIN`, `COMMIT` and `ROLLBACK`
    /// go through here too, so what runs between them is one transaction.
    fn execute_sql(&mut self, sql: &str) -> impl Future<Output = Result<()>> + Send;

    /// Runs a query written by the user (read-only use: the `names_from` query) and
    /// returns its rows as plain values.
    fn query_rows(&mut self, sql: &str) -> impl Future<Output = Result<rows::Rows>> + Send;

    /// Closes the connection politely.
    fn close(self) -> impl Future<Output = ()> + Send;
}

/// The error of a command that would write DDL for MySQL, which skein cannot do yet.
pub fn mysql_ddl_unsupported(what: &str) -> Error {
    Error::MySqlDdl {
        what: what.to_owned(),
    }
}

/// Creates the database `url` names if it does not exist; returns whether it was created.
/// A connection failure that may pass is retried for up to `connect_timeout`.
pub async fn create_database(url: &str, connect_timeout: Duration, stop: &Stop) -> Result<bool> {
    with_connect_retries(url, connect_timeout, stop, || create_database_once(url)).await
}

async fn create_database_once(url: &str) -> Result<bool> {
    crate::backend::of_kind(kind_of(url)?)
        .create_database(url)
        .await
}

/// The kind of database `url` reaches, or the error naming a scheme skein does not know.
pub(crate) fn kind_of(url: &str) -> Result<crate::backend::Kind> {
    crate::backend::Kind::of_scheme(scheme(url)).ok_or_else(|| Error::UnknownScheme {
        target: redact_url(url),
    })
}

/// Drops the database `url` names if it exists (`db drop`, `db reset`); says whether it
/// existed. Connections that fail for a passing reason are retried as
/// [`create_database`]'s are.
pub async fn remove_database(url: &str, connect_timeout: Duration, stop: &Stop) -> Result<bool> {
    with_connect_retries(url, connect_timeout, stop, || async {
        let exists = crate::backend::of_kind(kind_of(url)?)
            .database_exists(url)
            .await?;
        if exists {
            drop_database(url).await?;
        }
        Ok(exists)
    })
    .await
}

/// Waits until the server of `url` accepts connections (`skein wait`), for up to
/// `connect_timeout`. It connects to the server, not to the database, which may not be
/// made yet; a SQLite file needs no server.
pub async fn wait_for_server(url: &str, connect_timeout: Duration, stop: &Stop) -> Result<()> {
    with_connect_retries(url, connect_timeout, stop, || async {
        let kind = kind_of(url)?;
        if kind.is_file() {
            return Ok(());
        }
        crate::backend::of_kind(kind)
            .database_exists(url)
            .await
            .map(drop)
    })
    .await
}

/// Drops the database `url` names (used to undo a half-made model database).
pub async fn drop_database(url: &str) -> Result<()> {
    crate::backend::of_kind(kind_of(url)?)
        .drop_database(url)
        .await
}

/// `::1` for `[::1]`: an IPv6 host as a URL writes it, which sqlx passes on as it is.
pub(crate) fn unbracketed(host: &str) -> Option<String> {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .filter(|h| h.parse::<std::net::Ipv6Addr>().is_ok())
        .map(str::to_owned)
}

/// `url` with its database replaced by `database` (server URLs only).
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{database}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// Whether skein can connect to `url` (a backend takes its scheme).
pub fn knows_scheme(url: &str) -> bool {
    skein_schemes::knows(url)
}

/// The URL's scheme, as written (`sqlite::memory:` has scheme `sqlite`).
pub fn scheme(url: &str) -> &str {
    skein_schemes::scheme(url)
}

/// Parts of a query parameter's name that mark it as carrying a secret: `password`,
/// `sslpassword`, `passfile`, `pwd`, `client_secret`, `token`... Matched in the
/// lower-cased, percent-decoded name. skein-config keeps the same list for showing
/// templates (it does not depend on this crate); the CLI's tests check the two agree.
pub const SECRET_PARAMETER_WORDS: &[&str] = &["pass", "pwd", "secret", "token"];

/// Whether a URL query parameter named `name` carries a secret.
pub fn is_secret_parameter(name: &str) -> bool {
    let name = percent_encoding::percent_decode_str(name)
        .decode_utf8_lossy()
        .to_ascii_lowercase();
    SECRET_PARAMETER_WORDS
        .iter()
        .any(|word| name.contains(word))
}

/// The values of `url`'s secret-bearing query parameters, as written.
pub fn secret_parameters(url: &str) -> impl Iterator<Item = &str> {
    url.split_once('?')
        .map(|(_, query)| query.split('#').next().unwrap_or(query))
        .into_iter()
        .flat_map(|query| query.split('&'))
        .filter_map(|pair| pair.split_once('='))
        .filter(|(name, _)| is_secret_parameter(name))
        .map(|(_, value)| value)
}

/// The URL with any password replaced by `***`, for messages: the one in the user info
/// and the value of every secret-bearing query parameter (`?password=`, `sslpassword=`).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // Written without `//` (`postgres:secret@host/db`): no telling a user from a
        // password, so the whole user info goes.
        return match (url.split_once(':'), url.find('/').unwrap_or(url.len())) {
            (Some((scheme, rest)), end) if rest.contains('@') && url.rfind('@') < Some(end) => {
                let host = &url[url[..end].rfind('@').unwrap_or(0)..];
                format!("{scheme}:***{host}")
            }
            _ => url.to_owned(),
        };
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            let password = if userinfo.contains(':') { ":***" } else { "" };
            format!("{user}{password}@{host}")
        }
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, _)) if is_secret_parameter(name) => format!("{name}=***"),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/db?sslmode=disable", "other"),
            "postgres://u:p@h:5432/other?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "other"), "postgres://h/other");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:p%40ss@h:5432/db?x=1"),
            "postgres://u:***@h:5432/db?x=1"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
        assert_eq!(redact_url("sqlite://.skein/a.db"), "sqlite://.skein/a.db");
        assert_eq!(redact_url("postgres:s3cret@h/x"), "postgres:***@h/x");
        assert_eq!(
            redact_url("mysql:root:s3cret@h:3306/x"),
            "mysql:***@h:3306/x"
        );
        assert_eq!(redact_url("sqlite:app.db"), "sqlite:app.db");
        assert_eq!(redact_url("sqlite:data/a@b.db"), "sqlite:data/a@b.db");
        assert_eq!(
            redact_url("postgres://u@h/db?sslmode=require&password=hunter2&SSLPassword=k%20y"),
            "postgres://u@h/db?sslmode=require&password=***&SSLPassword=***"
        );
        assert_eq!(
            redact_url("mysql://u:pw@h/db?pass%77ord=x&ssl-mode=required"),
            "mysql://u:***@h/db?pass%77ord=***&ssl-mode=required"
        );
        assert_eq!(
            secret_parameters("postgres://h/db?password=a%40b&x=1&client_secret=c#frag")
                .collect::<Vec<_>>(),
            ["a%40b", "c"]
        );
    }
}
