//! The engine's typed errors. Each message says what failed and what to do next;
//! the underlying cause is kept as `source` and printed once, by the caller.

use crate::migration::Version;
use crate::plan::Problem;
use crate::position::LineColumn;
use std::borrow::Cow;
use std::path::PathBuf;
use std::time::Duration;

/// How text from outside skein (file names, server messages, object names) is shown
/// inside a message: as it is, or escaped for a terminal by the caller.
pub type Outside = for<'a> fn(&'a str) -> Cow<'a, str>;

/// Text from outside, shown as it is.
pub fn as_is(text: &str) -> Cow<'_, str> {
    Cow::Borrowed(text)
}

/// A migration folder or file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read migration folder {}", dir.display())]
    Folder {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is a folder; a migration folder holds only migration files and the `repeatable` folder (move it elsewhere)", path.display())]
    UnexpectedFolder { path: PathBuf },
    #[error("two repeatable migrations are named `{name}`: {} and {}; keep one", first.display(), second.display())]
    DuplicateRepeatable {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("{} is not a regular file (a pipe, a socket or a device); a migration folder holds only migration files (remove it)", path.display())]
    NotAFile { path: PathBuf },
    #[error("{} is not a migration file name: {reason} (e.g. 20240101120000_create_users.up.sql)", path.display())]
    BadName { path: PathBuf, reason: &'static str },
    #[error("version {version} is used by two files: {} and {}; renumber one of them (`skein new` picks a fresh timestamp)", first.display(), second.display())]
    DuplicateVersion {
        version: Version,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("{} has no matching .up.sql file", path.display())]
    DownWithoutUp { path: PathBuf },
    #[error("{} is irreversible (plain .sql) but {} exists; rename the first to .up.sql", up.display(), down.display())]
    DownForIrreversible { up: PathBuf, down: PathBuf },
    #[error("{} and {} share a version but not a description; give them the same name", up.display(), down.display())]
    MismatchedPair { up: PathBuf, down: PathBuf },
    #[error("{} is not valid UTF-8 (at byte {byte}); save it as UTF-8", path.display())]
    NotUtf8 { path: PathBuf, byte: usize },
    #[error("{}:{line}: model `{model}`: {message}", path.display())]
    Render {
        path: PathBuf,
        line: usize,
        model: String,
        message: String,
    },
    #[error("{}:{line}: database `{database}`: {message}", path.display())]
    RenderFile {
        path: PathBuf,
        line: usize,
        database: String,
        message: String,
    },
    #[error("version {version} is both in the template ({}) and in model `{model}`'s folder ({}), and the two differ; a model's folder holds only migrations particular to it: delete its copy if the template's is meant, or renumber it (`skein new --db {model}`)", template.display(), own.display())]
    Conflict {
        version: Version,
        model: String,
        template: PathBuf,
        own: PathBuf,
    },
    #[error("{}:{line}: unknown directive `-- {directive}` (known: `-- skein:no-transaction`)", path.display())]
    UnknownDirective {
        path: PathBuf,
        line: usize,
        directive: String,
    },
}

impl SourceError {
    /// The file or folder the error is about (the first, when it names two).
    pub fn path(&self) -> Option<&std::path::Path> {
        Some(match self {
            SourceError::Folder { dir, .. } => dir,
            SourceError::Read { path, .. }
            | SourceError::UnexpectedFolder { path }
            | SourceError::NotAFile { path }
            | SourceError::BadName { path, .. }
            | SourceError::DownWithoutUp { path }
            | SourceError::NotUtf8 { path, .. }
            | SourceError::Render { path, .. }
            | SourceError::RenderFile { path, .. }
            | SourceError::UnknownDirective { path, .. } => path,
            SourceError::DuplicateVersion { first, .. }
            | SourceError::DuplicateRepeatable { first, .. } => first,
            SourceError::DownForIrreversible { up, .. }
            | SourceError::MismatchedPair { up, .. } => up,
            SourceError::Conflict { own, .. } => own,
        })
    }

    /// The line of [`SourceError::path`] the error is on, when it is one line's.
    pub fn line(&self) -> Option<usize> {
        match self {
            SourceError::Render { line, .. } | SourceError::UnknownDirective { line, .. } => {
                Some(*line)
            }
            _ => None,
        }
    }
}

/// A request that cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{}", describe_problems(.0, as_is))]
    Blocked(Vec<Problem>),
    #[error("version {0} is not one of this database's migrations")]
    UnknownVersion(Version),
    #[error("cannot go down {requested} step(s): only {applied} migration(s) are applied")]
    NotEnoughApplied { requested: u32, applied: usize },
    #[error("version {version} ({}) has no down file; it cannot be reverted (write {} or stamp past it)", path.display(), down_name(path))]
    Irreversible { version: Version, path: PathBuf },
    #[error(
        "{}:{}:{}: `{statement}` controls the transaction, but skein runs this file in a transaction of its own (a failure after it would leave the file half-applied with no history row); remove the BEGIN/COMMIT lines and let skein wrap the file, or put `-- skein:no-transaction` at the top to run it as written",
        path.display(), position.line, position.column
    )]
    TransactionControl {
        path: PathBuf,
        position: LineColumn,
        statement: String,
    },
    #[error("{} was never written (no statement, only the placeholder of a new file); write the migration, or delete the placeholder line (an empty file, or a comment saying why, is a deliberate no-op)", path.display())]
    EmptyUp { path: PathBuf },
    #[error("{} was never written (no statement: it is empty, or holds only the placeholder of a new file), so reverting version {version} would change nothing; write what undoes the migration (a deliberate no-op needs only a comment that says why)", path.display())]
    EmptyDown { version: Version, path: PathBuf },
    #[error(
        "version {version} is applied but its file is missing, so it cannot be reverted; restore the file"
    )]
    MissingForDown { version: Version },
}

fn down_name(up: &std::path::Path) -> String {
    let name = up
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.strip_suffix(".up.sql")
        .or_else(|| name.strip_suffix(".sql"))
        .map_or(name.clone(), |stem| format!("{stem}.down.sql"))
}

/// One line per problem; each problem's text (it names files and descriptions) through
/// `outside`.
pub fn describe_problems(problems: &[Problem], outside: Outside) -> String {
    let mut text = format!(
        "{} problem(s) must be fixed before migrating:",
        problems.len()
    );
    for problem in problems {
        text.push_str("\n  - ");
        text.push_str(&outside(&problem.to_string()));
    }
    text
}

/// A statement the server refused, located in its file.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct StatementError {
    pub file: PathBuf,
    #[serde(flatten)]
    pub position: LineColumn,
    pub message: String,
    /// SQLSTATE or the driver's error code.
    pub code: Option<String>,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// Where inside a function or DO block it failed (PostgreSQL's CONTEXT).
    pub context: Option<String>,
}

impl StatementError {
    /// The message: `file:line:column: message (code)`, then the detail, hint and context
    /// on lines of their own. The file name and the server's texts go through `outside`
    /// (each line of the context on its own); the lines and indents are skein's.
    pub fn render(&self, outside: Outside) -> String {
        let mut text = format!(
            "{}:{}:{}: {}",
            outside(&self.file.display().to_string()),
            self.position.line,
            self.position.column,
            outside(&self.message)
        );
        if let Some(code) = &self.code {
            text.push_str(&format!(" ({})", outside(code)));
        }
        if let Some(detail) = &self.detail {
            text.push_str(&format!("\n  detail: {}", outside(detail)));
        }
        if let Some(hint) = &self.hint {
            text.push_str(&format!("\n  hint: {}", outside(hint)));
        }
        if let Some(context) = &self.context {
            let lines: Vec<Cow<'_, str>> = context.split('\n').map(outside).collect();
            text.push_str(&format!("\n  context: {}", lines.join("\n           ")));
        }
        text
    }
}

impl std::fmt::Display for StatementError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(as_is))
    }
}

impl std::error::Error for StatementError {}

/// Anything that stops a run against one database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("cannot connect to {target}{}", missing_database(source))]
    Connect {
        target: String,
        #[source]
        source: DriverError,
    },
    #[error("{action} failed")]
    Database {
        action: String,
        #[source]
        source: DriverError,
    },
    #[error(transparent)]
    Statement(Box<StatementError>),
    #[error(
        "another skein is migrating this database: the lock was not free within {}s{}; retry later or raise --lock-timeout",
        timeout.as_secs(),
        holder.as_deref().map(|h| format!(" (held by {h})")).unwrap_or_default()
    )]
    LockTimeout {
        timeout: Duration,
        holder: Option<String>,
    },
    #[error(
        "{action}: the SQLite file is locked by another writer (a skein that holds its write lock, or an application with a write transaction open); skein waited {}s for it: wait for that writer to finish, or raise --lock-timeout",
        waited.as_secs_f32()
    )]
    SqliteBusy { action: String, waited: Duration },
    #[error("version {version} failed part-way outside a transaction ({}); {}", path.display(), fix_failed())]
    PartiallyApplied {
        version: Version,
        path: PathBuf,
        #[source]
        cause: Box<StatementError>,
    },
    #[error(
        "{} leaves {rows} row(s) that break a foreign key ({tables}); SQLite migrates with foreign keys off and checks them before the step commits: fix the data in the migration (or set sqlite_foreign_keys = true to have them enforced as it runs)",
        path.display()
    )]
    ForeignKeyViolation {
        path: PathBuf,
        rows: usize,
        tables: String,
    },
    #[error("{action} failed; fix the database's `init_sql` setting")]
    InitSql {
        action: String,
        #[source]
        source: DriverError,
    },
    #[error("stopped: {during}")]
    Stopped { during: &'static str },
    #[error(
        "version {version} ran longer than the step limit ({}s); {}; raise step_timeout (or --step-timeout) if it needs longer",
        limit.as_secs_f64(),
        match (*.confirmed, *.transactional) {
            (true, true) => "the server cancelled it and it was rolled back",
            (true, false) => "the server cancelled it part-way, outside a transaction: see `skein status`",
            (false, _) => "the server could not be reached to cancel it: see `skein status`",
        }
    )]
    StepTimeout {
        version: Version,
        limit: Duration,
        transactional: bool,
        /// The server confirmed the cancel.
        confirmed: bool,
    },
    #[error(
        "lost the server while {doing}: {} after {:.0}s; the server finishes or rolls back what it was sent (a migration in a transaction is whole or absent) and frees the lock when it notices; check the network, then `skein status`",
        if *.gone { "the session is gone" } else { "it stopped answering" },
        waited.as_secs_f64()
    )]
    ConnectionLost {
        doing: String,
        waited: Duration,
        gone: bool,
    },
    #[error(
        "cannot connect to {target}: tried {attempts} time(s) over {:.1}s{}; check that the server is up and reachable from here (host, port, firewall), or raise --connect-timeout",
        waited.as_secs_f64(),
        last.as_ref().map(|e| format!(", the last attempt failed with: {e}")).unwrap_or_else(|| ", the last attempt had no answer".to_owned())
    )]
    ConnectTimedOut {
        target: String,
        waited: Duration,
        attempts: u32,
        last: Option<DriverError>,
    },
    #[error("interrupted before {}; run the command again to go on", crate::plan::version_label(*next))]
    Interrupted { next: Version },
    #[error(
        "{target} is not a database URL skein knows: use postgres://..., mysql://... or sqlite://..."
    )]
    UnknownScheme { target: String },
    #[error("{target} names no database; add one to the URL (e.g. postgres://user@host/DATABASE)")]
    NoDatabaseInUrl { target: String },
    #[error("cannot {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{what} is not available for MySQL/MariaDB yet: skein does not write MySQL DDL; inspect, drift and check work there"
    )]
    MySqlDdl { what: String },
    #[error(
        "this database has `{table}`, another migration tool's history, and no skein history: `up` would run every migration again; `skein adopt` takes it over (it runs nothing), or drop `{table}` if it is left over"
    )]
    ForeignHistory { table: String },
    #[error(
        "the converged schema would leave {rows} row(s) that break a foreign key ({tables}); nothing was committed: fix those rows first (`PRAGMA foreign_key_check` lists them)"
    )]
    ConvergeForeignKeys { rows: usize, tables: String },
    #[error("required table(s) {} missing: converge does not recreate a required table empty; restore it from a backup (`skein check` says the same)", .tables.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", "))]
    RequiredTablesMissing { tables: Vec<String> },
    /// A database whose URL was not resolved before it was opened (a bug in the caller).
    #[error("database `{database}`: its URL was not resolved")]
    UrlNotResolved { database: String },
    #[error(transparent)]
    Adopt(#[from] crate::adopt::AdoptError),
    #[error(
        "column `{column}` has a type skein cannot read as a plain value (an unsigned integer, a date, a numeric...); cast it in the query (CAST({column} AS TEXT), on MySQL CAST({column} AS CHAR) or AS SIGNED)"
    )]
    UnreadableColumn { column: String },
    /// Replaying the migrations into a scratch database (drift, adopt, converge) failed;
    /// shared by every database whose replay it was.
    #[error("replaying its migrations into a scratch database failed")]
    Replay(#[source] std::sync::Arc<Error>),
    /// The live schema is not what the migrations said to be applied give (`adopt`, and
    /// `stamp` of a database with no skein history): nothing was recorded.
    #[error("the live schema is not what {what} give ({}); nothing recorded ({fix})", differences.join("; "))]
    SchemaDiffers {
        what: String,
        differences: Vec<String>,
        fix: &'static str,
    },
    #[error(
        "invalid history table name `{0}`: use `table` or `schema.table` with letters, digits and `_`"
    )]
    HistoryTableName(String),
    #[error(
        "history table `{table}` is schema-qualified, but on MySQL/MariaDB a schema is a database: every database would share that one history table; use a plain table name (each database then keeps its own)"
    )]
    QualifiedHistoryTable { table: String },
    #[error(
        "database name `{name}` is {length} {unit} long; the server keeps only the first {limit}, so two names that share them would be one database: shorten the name (the model name or the URL's database)"
    )]
    DatabaseNameTooLong {
        name: String,
        length: usize,
        limit: usize,
        unit: &'static str,
    },
}

/// An error a backend's driver returned, and what skein reads from it: the server's
/// code and message, whether it may pass. Callers see this, not the driver's own types, so
/// a backend whose driver is not sqlx reports through it too.
#[derive(Debug)]
pub struct DriverError {
    inner: Box<dyn std::error::Error + Send + Sync + 'static>,
    /// The server's error code (SQLSTATE; MySQL's error number), when the server answered.
    pub code: Option<String>,
    /// The server's message alone, when the server answered.
    pub message: Option<String>,
    /// A connection failure that may pass by itself (the server starting, out of
    /// connection slots, the network refusing or dropping the connection).
    pub transient: bool,
}

impl DriverError {
    /// `inner` with what the backend read from it.
    pub fn new(
        inner: impl std::error::Error + Send + Sync + 'static,
        code: Option<String>,
        message: Option<String>,
        transient: bool,
    ) -> Self {
        DriverError {
            inner: Box::new(inner),
            code,
            message,
            transient,
        }
    }
}

impl std::fmt::Display for DriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl std::error::Error for DriverError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source()
    }
}

/// A server's error as `message (code)`. sqlx's own text adds, for PostgreSQL, the line
/// of the server's C source that raised it, which only misleads.
pub fn server_error(cause: &(dyn std::error::Error + 'static)) -> Option<String> {
    let driver = cause.downcast_ref::<DriverError>()?;
    let message = driver.message.as_deref()?;
    Some(match &driver.code {
        Some(code) => format!("{message} ({code})"),
        None => message.to_owned(),
    })
}

/// A hint when the server says the database does not exist (PostgreSQL 3D000, MySQL 1049).
fn missing_database(source: &DriverError) -> &'static str {
    let missing = source.code.as_deref() == Some("3D000")
        || source.code.as_deref() == Some("1049")
        || source
            .message
            .as_deref()
            .is_some_and(|m| m.starts_with("Unknown database"));
    if missing {
        " (the database does not exist: `skein db create` makes it)"
    } else {
        ""
    }
}

fn fix_failed() -> &'static str {
    "its history row is marked failed; finish or undo its statements by hand, then run `skein repair`"
}

impl Error {
    /// Wraps a driver error with what was being done.
    pub fn database<E: Into<DriverError>>(action: impl Into<String>) -> impl FnOnce(E) -> Error {
        let action = action.into();
        move |source| Error::Database {
            action,
            source: source.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
