//! One report model for every command, rendered for people (tables) or as one JSON
//! document. Results go to stdout; error details go to stderr in the human format.

mod human;
mod models;

use crate::cli::Format;
use crate::{escape, redact};
use human::status_text;
use serde::Serialize;
use skein_core::Version;
use skein_core::engine::{HistoryEdit, StepReport};
use skein_core::error::Error as CoreError;
use skein_core::plan::{Entry, Plan, Problem};

/// The whole result of one command.
#[derive(Debug, Serialize)]
pub struct Report {
    pub command: &'static str,
    pub profile: String,
    pub databases: Vec<DatabaseReport>,
    /// Human output lists every name (`-v`), not the first screenful.
    #[serde(skip)]
    pub every_name: bool,
}

/// How one database ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
    /// Not attempted: a dependency failed, `--fail-fast` tripped or a signal arrived.
    Skipped,
}

/// What happened to one database.
#[derive(Debug, Serialize)]
pub struct DatabaseReport {
    pub name: String,
    pub status: Status,
    /// `up --create` created the database.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub created: bool,
    pub version_before: Option<Version>,
    pub version_after: Option<Version>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<Version>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<HistoryEdit>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub migrations: Vec<Entry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<DriftInfo>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<skein_core::schema::rules::Finding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
    /// `up --sql` / `down --sql`: the script, headed by the database it is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// `model list`: where the model's name came from and its template's head.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelInfo>,
}

/// What `model list` says of a model beside its status.
#[derive(Debug, Serialize)]
pub struct ModelInfo {
    pub listed_by: Vec<skein_config::ListedBy>,
    /// The newest migration of the template (the model's own may go further).
    pub template_head: Option<Version>,
}

impl DatabaseReport {
    pub fn new(name: &str, status: Status) -> Self {
        DatabaseReport {
            name: name.to_owned(),
            status,
            created: false,
            version_before: None,
            version_after: None,
            head: None,
            pending: None,
            steps: Vec::new(),
            problems: Vec::new(),
            plan: None,
            edits: Vec::new(),
            migrations: Vec::new(),
            drift: None,
            findings: Vec::new(),
            error: None,
            script: None,
            model: None,
        }
    }

    pub fn failed(name: &str, error: &CoreError) -> Self {
        let status = match error {
            CoreError::Interrupted { .. } | CoreError::Stopped { .. } => Status::Interrupted,
            CoreError::SchemaDiffers { .. } => Status::Drifted,
            _ => Status::Failed,
        };
        let mut report = DatabaseReport::new(name, status);
        report.error = Some(ErrorReport::from_core(error));
        if let CoreError::Plan(skein_core::error::PlanError::Blocked(problems)) = error {
            report.problems = problems.clone();
        }
        report
    }

    pub fn skipped(name: &str, reason: String) -> Self {
        let mut report = DatabaseReport::new(name, Status::Skipped);
        report.error = Some(ErrorReport {
            human: crate::escape::controls(&reason).into_owned(),
            message: reason,
            file: None,
            line: None,
            column: None,
            code: None,
        });
        report
    }
}

/// How a database's live schema compares with the one its migrations give.
#[derive(Debug, Serialize)]
pub struct DriftInfo {
    pub fingerprint: String,
    pub expected_fingerprint: String,
    /// Identifies the replay that gave the expected schema: databases whose migrations
    /// have the same statements share one.
    pub replay: String,
    pub differences: Vec<skein_core::schema::diff::Difference>,
}

/// An error, with its place in a migration file when it has one.
#[derive(Debug, Serialize)]
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
            ConfigError::Invalid(problems) => {
                format!(
                    "invalid configuration: {}",
                    lines(&mut problems.split('\n'))
                )
            }
            ConfigError::Secrets(problems) => lines(&mut problems.iter().map(String::as_str)),
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
    escape::controls(raw).into_owned()
}

/// The version of the JSON documents' shape; it changes when a field changes meaning or
/// goes away (new fields may come without it).
pub const SCHEMA_VERSION: u32 = 1;

/// Prints one JSON document on stdout: `doc` with `schema_version`, and `profile` when
/// the command has one and `doc` does not say it.
pub fn print_json(mut doc: serde_json::Value, profile: Option<&str>) {
    if let serde_json::Value::Object(map) = &mut doc {
        map.insert("schema_version".to_owned(), SCHEMA_VERSION.into());
        if let Some(profile) = profile {
            map.entry("profile").or_insert_with(|| profile.into());
        }
    }
    redact::out(&serde_json::to_string_pretty(&doc).expect("a document serialises"));
}

pub fn version_text(version: Option<Version>) -> String {
    version.map_or_else(|| "base".to_owned(), |v| v.to_string())
}

impl Report {
    /// Prints the report on stdout (and error details on stderr for people).
    pub fn print(&self, format: Format) {
        match format {
            Format::Json | Format::Sql => {
                print_json(serde_json::to_value(self).expect("reports serialise"), None);
            }
            Format::Human => {
                let body = match self.command {
                    "status" => self.status_table(),
                    "model list" => self.model_table(),
                    "history" => self.history_table(),
                    "stamp" | "repair" | "adopt" => self.edits_text(),
                    "db create" => self.create_text(),
                    "drift" => self.drift_text(),
                    "check" => self.check_text(),
                    _ if self.databases.iter().any(|d| d.plan.is_some()) => self.plan_text(),
                    _ => self.run_table(),
                };
                if !body.is_empty() {
                    redact::out(&body);
                }
                for line in self.error_lines() {
                    redact::err(&line);
                }
            }
        }
    }
}
