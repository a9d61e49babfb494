//! One report model for every command, rendered for people (tables) or as one JSON
//! document. Results go to stdout; error details go to stderr in the human format.

#[cfg(test)]
mod contract;
pub mod detail;
pub mod html;
mod human;
mod lint;
pub mod live;
pub mod markdown;
mod models;
pub mod saved;
pub mod sections;

use crate::options::Format;
use crate::{escape, redact};
pub use detail::{Detail, Run};
use schemars::JsonSchema;
use serde::Serialize;
use skein_core::Version;
use skein_core::error::Error as CoreError;

/// One command's whole output: what a deploy job reads. Every document carries the
/// version of its shape, the command and the profile; its body is the command's result
/// or, when the command stopped before touching any database, the error.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Document {
    /// The version of this shape (see `docs/report.schema.json`).
    pub schema_version: u32,
    /// `null` only when the command line did not parse far enough to name one.
    pub command: Option<Command>,
    /// The configuration profile; `null` when the command needs none (`import`) or
    /// stopped before one was chosen.
    pub profile: Option<String>,
    #[serde(flatten)]
    pub body: Body,
}

/// The command a document is the result of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, JsonSchema)]
pub enum Command {
    #[serde(rename = "up")]
    Up,
    #[serde(rename = "down")]
    Down,
    #[serde(rename = "redo")]
    Redo,
    #[serde(rename = "status")]
    Status,
    #[serde(rename = "history")]
    History,
    #[serde(rename = "new")]
    New,
    #[serde(rename = "stamp")]
    Stamp,
    #[serde(rename = "repair")]
    Repair,
    #[serde(rename = "adopt")]
    Adopt,
    #[serde(rename = "import")]
    Import,
    #[serde(rename = "db create")]
    DbCreate,
    #[serde(rename = "db drop")]
    DbDrop,
    #[serde(rename = "db reset")]
    DbReset,
    #[serde(rename = "init")]
    Init,
    #[serde(rename = "wait")]
    Wait,
    #[serde(rename = "show")]
    Show,
    #[serde(rename = "model new")]
    ModelNew,
    #[serde(rename = "model list")]
    ModelList,
    #[serde(rename = "inspect")]
    Inspect,
    #[serde(rename = "drift")]
    Drift,
    #[serde(rename = "check")]
    Check,
    #[serde(rename = "converge")]
    Converge,
    #[serde(rename = "lint")]
    Lint,
    #[serde(rename = "config show")]
    ConfigShow,
}

/// What a command produced.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Body {
    /// Every command that reaches databases: one report per database.
    Databases(Report),
    /// `new`: the files written, or with `--check`, how the migrations compare.
    New(sections::NewReport),
    /// `model new`: where the model was listed and how its database was made.
    ModelNew(sections::ModelNewReport),
    /// `config show`: each database's settings and where each came from.
    Config(sections::ConfigReport),
    /// `import`: the migrations converted from another tool's folder.
    Import(sections::ImportReport),
    /// `show`: one migration, its SQL and whether it is applied.
    Show(sections::ShowReport),
    /// `init`: the configuration and migration folder written.
    Init(sections::InitReport),
    /// A usage or configuration error: nothing was touched.
    Error(ErrorDocument),
}

/// The per-database results of a command.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Report {
    pub databases: Vec<DatabaseReport>,
    /// Why the models could not be listed (their `names_from` query failed): the run
    /// did the other databases, and failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unlisted: Option<ErrorReport>,
    /// Human output lists every name (`-v`), not the first screenful.
    #[serde(skip)]
    pub every_name: bool,
    /// The command looks for findings: a pending migration or a problem is one, as a
    /// drifted database always is (exit 3).
    #[serde(skip)]
    pub check: bool,
    /// `up --sql`/`down --sql`: the human output is the scripts.
    #[serde(skip)]
    pub sql: bool,
}

impl Report {
    pub fn new(databases: Vec<DatabaseReport>) -> Self {
        Report {
            databases,
            unlisted: None,
            every_name: false,
            check: false,
            sql: false,
        }
    }

    /// A database failed, was skipped or was interrupted.
    pub fn failed(&self) -> bool {
        self.unlisted.is_some() || self.databases.iter().any(|d| d.status.is_failure())
    }

    /// Something a check looks for was found.
    pub fn found(&self) -> bool {
        self.databases.iter().any(|d| {
            matches!(d.status, Status::Drifted | Status::Refused)
                || (self.check && matches!(d.status, Status::Pending | Status::Problems))
        })
    }
}

/// An error that stopped a command before it touched any database.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ErrorDocument {
    pub error: ErrorInfo,
}

/// What went wrong, and where when that is known.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ErrorInfo {
    pub kind: ErrorKind,
    pub message: String,
    /// The file, setting, database or argument the error is about.
    #[serde(rename = "where")]
    pub place: Option<Where>,
    /// The message for a terminal.
    #[serde(skip)]
    pub human: String,
}

/// What stopped a command before it touched anything: a mistake (exit 2), or a service
/// that could not be reached (exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The command line: an unknown flag, a missing argument, a name that is not configured.
    Usage,
    /// skein.toml, the environment or what they point at (files, secrets, URLs).
    Config,
    /// A service the configuration needs (a secret manager) could not be reached: nothing
    /// was touched, and the same run may work later (exit 1, not 2).
    Unavailable,
}

/// Where an error is: any of a file (and line), a database, a group, a setting or a
/// command-line argument.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct Where {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argument: Option<String>,
}

/// How one database ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Something was applied, reverted or recorded.
    Ok,
    /// Nothing to do.
    UpToDate,
    /// `status`: migrations are pending.
    Pending,
    /// `status`: applied migrations have problems (modified, missing, failed).
    Problems,
    Failed,
    /// Stopped by a signal between two migrations.
    Interrupted,
    /// `drift`: the live schema differs from the one its migrations give.
    Drifted,
    /// `up`: not started, because `skein lint` found an error in the pending migrations
    /// and `[lint] on_up = "error"`.
    Refused,
    /// Not attempted: a dependency failed, `--fail-fast` tripped or a signal arrived.
    Skipped,
}

impl Status {
    /// The database did not get where the command meant it to (exit 1).
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Failed | Status::Skipped | Status::Interrupted)
    }
}

/// What happened to one database: its name, how it ended, the error if it failed, and
/// what its command says of it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DatabaseReport {
    pub name: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
    /// When the work on this database started and ended (RFC 3339, UTC, milliseconds),
    /// for a command that runs over a fleet; absent for a database never started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    #[serde(flatten)]
    pub detail: Detail,
}

/// Another tool's history table found beside (or instead of) skein's.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ForeignHistory {
    pub table: String,
    /// Whether skein's history table exists: then skein owns the database and the other
    /// table blocks nothing (it is left for the team to drop); else `adopt` takes it over.
    pub owned: bool,
}

/// What `model list` says of a model beside its status.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ModelInfo {
    /// The set it is a member of (`models`, or a `[sets.<name>]`).
    pub set: String,
    pub listed_by: Vec<skein_config::ListedBy>,
    /// The newest migration of the template (the model's own may go further).
    pub template_head: Option<Version>,
}

impl DatabaseReport {
    pub fn new(name: &str, status: Status, detail: Detail) -> Self {
        DatabaseReport {
            name: name.to_owned(),
            status,
            error: None,
            started_at: None,
            finished_at: None,
            detail,
        }
    }

    /// A database the command could do nothing with because of `error`.
    pub fn failed(name: &str, error: &CoreError) -> Self {
        DatabaseReport {
            error: Some(ErrorReport::from_core(error)),
            ..DatabaseReport::new(name, failed_status(error), Detail::None {})
        }
    }

    /// A run (`up`, `down`...) that failed: what it did before the error, and what blocked
    /// its plan if that was the error.
    pub fn failed_run(name: &str, error: &CoreError, mut run: Run) -> Self {
        if let CoreError::Plan(skein_core::error::PlanError::Blocked(problems)) = error {
            run.problems = problems.clone();
        }
        DatabaseReport {
            error: Some(ErrorReport::from_core(error)),
            ..DatabaseReport::new(name, failed_status(error), Detail::Run(run))
        }
    }

    /// The report of work that ran from `started` until now.
    pub fn timed(self, started: jiff::Timestamp) -> Self {
        DatabaseReport {
            started_at: Some(timestamp(started)),
            finished_at: Some(timestamp(jiff::Timestamp::now())),
            ..self
        }
    }

    /// `up --create` or `db reset` created the database first.
    pub fn created(mut self) -> Self {
        match &mut self.detail {
            Detail::Run(run) => run.created = true,
            Detail::Plan(plan) => plan.created = true,
            _ => {}
        }
        self
    }

    pub fn skipped(name: &str, reason: String) -> Self {
        DatabaseReport {
            error: Some(ErrorReport::message(reason)),
            ..DatabaseReport::new(name, Status::Skipped, Detail::None {})
        }
    }
}

/// A time as the report writes it: RFC 3339 in UTC, to the millisecond.
fn timestamp(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// How a database that met `error` ended.
fn failed_status(error: &CoreError) -> Status {
    match error {
        CoreError::Interrupted { .. } | CoreError::Stopped { .. } => Status::Interrupted,
        CoreError::SchemaDiffers { .. } => Status::Drifted,
        _ => Status::Failed,
    }
}

/// How a database's live schema compares with the one its migrations give.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DriftInfo {
    pub fingerprint: String,
    pub expected_fingerprint: String,
    /// Identifies the replay that gave the expected schema: databases whose migrations
    /// have the same statements share one.
    pub replay: String,
    pub differences: Vec<skein_core::schema::diff::Difference>,
}

/// An error, with its place in a migration file when it has one.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ErrorReport {
    pub message: String,
    /// The message for a terminal: see [`human_error_chain`].
    #[serde(skip)]
    pub human: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl ErrorReport {
    pub fn from_core(error: &CoreError) -> Self {
        // A replay's failure is located in the file that failed, as a run's is.
        let located = match error {
            CoreError::Replay(inner) => inner.as_ref(),
            other => other,
        };
        let statement = match located {
            CoreError::Statement(s) => Some(s.as_ref()),
            CoreError::PartiallyApplied { cause, .. } => Some(cause.as_ref()),
            _ => None,
        };
        if let CoreError::Source(source) = located {
            return ErrorReport {
                file: source
                    .path()
                    .map(|p| crate::context::relative(p).display().to_string()),
                line: source.line(),
                ..ErrorReport::from_any(error)
            };
        }
        ErrorReport {
            message: error_chain(error),
            human: human_error_chain(error),
            file: statement.map(|s| s.file.display().to_string()),
            line: statement.map(|s| s.position.line),
            column: statement.map(|s| s.position.column),
            code: statement.and_then(|s| s.code.clone()),
        }
    }
}

impl ErrorReport {
    /// A message of skein's own, without a place in a migration file.
    pub fn message(text: String) -> Self {
        ErrorReport {
            human: crate::escape::controls(&text).into_owned(),
            message: text,
            file: None,
            line: None,
            column: None,
            code: None,
        }
    }

    /// Any error, without a place in a migration file.
    pub fn from_any(error: &(dyn std::error::Error + 'static)) -> Self {
        ErrorReport {
            message: error_chain(error),
            human: human_error_chain(error),
            file: None,
            line: None,
            column: None,
            code: None,
        }
    }
}

/// The error and its causes, each once, joined by `: `.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(server) = skein_core::error::server_error(cause) {
            text.push_str(": ");
            text.push_str(&server);
            break;
        }
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// [`error_chain`] for a terminal: the text that comes from outside skein (server
/// messages, file and object names, values from the config) has its control characters
/// escaped, while the lines skein puts together (one problem per line, a statement's
/// detail and hint) stay lines.
pub fn human_error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut raw = error.to_string();
    let mut text = human_link(error, &raw);
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(server) = skein_core::error::server_error(cause) {
            text.push_str(": ");
            text.push_str(&escape::controls(&server));
            break;
        }
        let cause_text = cause.to_string();
        if !raw.contains(&cause_text) {
            raw.push_str(": ");
            raw.push_str(&cause_text);
            text.push_str(": ");
            text.push_str(&human_link(cause, &cause_text));
        }
        source = cause.source();
    }
    text
}

/// One error of a chain for a terminal; `raw` is its `Display`.
fn human_link(error: &(dyn std::error::Error + 'static), raw: &str) -> String {
    use skein_config::ConfigError;
    use skein_core::error::{PlanError, StatementError, describe_problems};
    let lines = |lines: &mut dyn Iterator<Item = &str>| {
        lines
            .map(|line| escape::controls(line).into_owned())
            .collect::<Vec<_>>()
            .join("\n")
    };
    if let Some(statement) = error.downcast_ref::<StatementError>() {
        return statement.render(escape::controls);
    }
    if let Some(core) = error.downcast_ref::<CoreError>() {
        return match core {
            CoreError::Statement(statement) => statement.render(escape::controls),
            CoreError::Plan(PlanError::Blocked(problems)) => {
                describe_problems(problems, escape::controls)
            }
            _ => escape::controls(raw).into_owned(),
        };
    }
    if let Some(config) = error.downcast_ref::<ConfigError>() {
        return match config {
            ConfigError::Settings(problems) => {
                format!(
                    "invalid configuration: {}",
                    lines(&mut problems.iter().flat_map(|p| p.split('\n')))
                )
            }
            ConfigError::Secrets { problems, .. } => {
                lines(&mut problems.iter().map(String::as_str))
            }
            ConfigError::Empty { path } => format!(
                "{} sets no database; a minimal one:\n\n{}",
                escape::controls(&path.display().to_string()),
                skein_config::error::MINIMAL
            ),
            _ => escape::controls(raw).into_owned(),
        };
    }
    if let Some(problems) = error.downcast_ref::<crate::preflight::ConfigProblems>() {
        return lines(&mut problems.0.iter().map(String::as_str));
    }
    if let Some(text) = error.downcast_ref::<LinedError>() {
        return lines(&mut text.0.split('\n'));
    }
    escape::controls(raw).into_owned()
}

/// An error whose message has lines of its own (another program's traceback, a list of
/// problems): shown on a terminal with its line breaks, each line's other control
/// characters escaped.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LinedError(pub String);

/// The version of the JSON documents' shape. Any change to the shape bumps it (a test
/// holds the schema of each version); `docs/report.schema.json` is the schema.
pub const SCHEMA_VERSION: u32 = 5;

pub fn version_text(version: Option<Version>) -> String {
    version.map_or_else(|| "base".to_owned(), |v| v.to_string())
}

/// Writes the document: for people (results on stdout, errors on stderr), or as one
/// JSON document on stdout. `--format sql` is `inspect`'s schema as SQL. This is the only
/// place that writes a command's result.
pub fn render(doc: &Document, format: Format) {
    match format {
        Format::Json => {
            redact::out(&serde_json::to_string_pretty(doc).expect("a document serialises"));
            // What stopped the command is said on stderr too, for the job's log.
            human::stopped(doc);
        }
        Format::Human | Format::Sql => human::render(doc, format == Format::Sql),
        Format::Markdown => {
            let value = serde_json::to_value(doc).expect("a document serialises");
            redact::out(markdown::render(&value).trim_end());
            human::stopped(doc);
        }
        Format::Html => {
            let value = serde_json::to_value(doc).expect("a document serialises");
            redact::out_raw(&html::page(&value));
            human::stopped(doc);
        }
        Format::Github => match &doc.body {
            Body::Databases(report) => {
                let annotations = report.github_annotations();
                if !annotations.is_empty() {
                    redact::out_raw(&annotations);
                }
                human::stopped(doc);
            }
            _ => human::render(doc, false),
        },
    }
}
