//! One report model for every command, rendered for people (tables) or as one JSON
//! document. Results go to stdout; error details go to stderr in the human format.

use crate::cli::Format;
use crate::redact;
use comfy_table::{Table, presets};
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
    pub findings: Vec<skein_core::schema::expect::Finding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
}

impl DatabaseReport {
    pub fn new(name: &str, status: Status) -> Self {
        DatabaseReport {
            name: name.to_owned(),
            status,
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
        }
    }

    pub fn failed(name: &str, error: &CoreError) -> Self {
        let status = match error {
            CoreError::Interrupted { .. } => Status::Interrupted,
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
    pub differences: Vec<skein_core::schema::diff::Difference>,
}

/// An error, with its place in a migration file when it has one.
#[derive(Debug, Serialize)]
pub struct ErrorReport {
    pub message: String,
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
        let statement = match error {
            CoreError::Statement(s) => Some(s.as_ref()),
            CoreError::PartiallyApplied { cause, .. } => Some(cause.as_ref()),
            _ => None,
        };
        ErrorReport {
            message: error_chain(error),
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
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 database".to_owned()
    } else {
        format!("{n} databases")
    }
}

pub fn version_text(version: Option<Version>) -> String {
    version.map_or_else(|| "base".to_owned(), |v| v.to_string())
}

fn table() -> Table {
    let mut table = Table::new();
    table.load_preset(presets::NOTHING);
    table
}

fn status_text(status: Status) -> &'static str {
    match status {
        Status::Ok => "ok",
        Status::UpToDate => "up to date",
        Status::Pending => "pending",
        Status::Problems => "problems",
        Status::Failed => "failed",
        Status::Interrupted => "interrupted",
        Status::Drifted => "drifted",
        Status::Skipped => "skipped",
    }
}

impl Report {
    /// Prints the report on stdout (and error details on stderr for people).
    pub fn print(&self, format: Format) {
        match format {
            Format::Json | Format::Sql => {
                let json = serde_json::to_string_pretty(self).expect("reports serialise");
                redact::out(&json);
            }
            Format::Human => {
                let body = match self.command {
                    "status" => self.status_table(),
                    "history" => self.history_table(),
                    "stamp" | "repair" => self.edits_text(),
                    "db create" => self.create_text(),
                    "drift" => self.drift_text(),
                    "check" => self.check_text(),
                    _ if self.databases.iter().any(|d| d.plan.is_some()) => self.plan_text(),
                    _ => self.run_table(),
                };
                if !body.is_empty() {
                    redact::out(&body);
                }
                for db in &self.databases {
                    if let Some(error) = &db.error {
                        redact::err(&format!(
                            "{}: {}: {}",
                            db.name,
                            status_text(db.status),
                            error.message
                        ));
                    }
                }
            }
        }
    }

    fn status_table(&self) -> String {
        let mut table = table();
        table.set_header(["database", "version", "head", "pending", "status"]);
        for db in &self.databases {
            table.add_row([
                db.name.clone(),
                version_text(db.version_after),
                version_text(db.head),
                db.pending.map(|p| p.to_string()).unwrap_or_default(),
                status_text(db.status).to_owned(),
            ]);
        }
        let mut text = table.to_string();
        for db in &self.databases {
            for problem in &db.problems {
                text.push_str(&format!("\n{}: {problem}", db.name));
            }
        }
        text
    }

    fn run_table(&self) -> String {
        let mut table = table();
        table.set_header(["database", "status", "version", "steps", "time"]);
        for db in &self.databases {
            let ms: i64 = db.steps.iter().filter_map(|s| s.ms).sum();
            let version = if db.version_before == db.version_after {
                version_text(db.version_after)
            } else {
                format!(
                    "{} -> {}",
                    version_text(db.version_before),
                    version_text(db.version_after)
                )
            };
            table.add_row([
                db.name.clone(),
                status_text(db.status).to_owned(),
                version,
                db.steps.len().to_string(),
                format!("{ms} ms"),
            ]);
        }
        table.to_string()
    }

    fn plan_text(&self) -> String {
        let mut lines = Vec::new();
        for db in &self.databases {
            let Some(plan) = &db.plan else { continue };
            lines.push(format!(
                "{}: {} step(s), {} -> {}",
                db.name,
                plan.steps.len(),
                version_text(plan.version_before),
                version_text(plan.version_after)
            ));
            for step in &plan.steps {
                let mode = if step.transactional {
                    ""
                } else {
                    " (no transaction)"
                };
                let arrow = match step.direction {
                    skein_core::plan::Direction::Up => "up  ",
                    skein_core::plan::Direction::Down => "down",
                };
                lines.push(format!(
                    "  {arrow} {} {}{mode}",
                    step.version, step.description
                ));
            }
        }
        lines.join("\n")
    }

    fn history_table(&self) -> String {
        let mut table = table();
        table.set_header(["version", "description", "state", "applied at", "by", "ms"]);
        for db in &self.databases {
            for entry in &db.migrations {
                let applied = entry.applied.as_ref();
                table.add_row([
                    entry.version.to_string(),
                    entry.description.clone(),
                    serde_json::to_value(entry.state)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    applied.map(|a| a.applied_at.clone()).unwrap_or_default(),
                    applied.map(|a| a.applied_by.clone()).unwrap_or_default(),
                    applied
                        .map(|a| a.execution_ms.to_string())
                        .unwrap_or_default(),
                ]);
            }
        }
        table.to_string()
    }

    /// Databases grouped by what they have: those that match their migrations, then each
    /// group of identical divergent schemas with its differences.
    fn drift_text(&self) -> String {
        use std::collections::BTreeMap;
        let mut groups: BTreeMap<(bool, String), Vec<&DatabaseReport>> = BTreeMap::new();
        for db in &self.databases {
            if let Some(drift) = &db.drift {
                let differs = !drift.differences.is_empty();
                groups
                    .entry((differs, drift.fingerprint.clone()))
                    .or_default()
                    .push(db);
            }
        }
        let mut lines = Vec::new();
        for ((differs, fingerprint), dbs) in groups {
            let names: Vec<&str> = dbs.iter().map(|d| d.name.as_str()).collect();
            let versions: std::collections::BTreeSet<String> =
                dbs.iter().map(|d| version_text(d.version_after)).collect();
            let at = versions.into_iter().collect::<Vec<_>>().join(", ");
            if !differs {
                let verb = if names.len() == 1 {
                    "matches its"
                } else {
                    "match their"
                };
                lines.push(format!(
                    "{} {verb} migrations at {at} (fingerprint {fingerprint}): {}",
                    count(names.len()),
                    names.join(", ")
                ));
                continue;
            }
            let drift = dbs[0].drift.as_ref().expect("grouped by drift");
            let verb = if names.len() == 1 {
                "differs from its"
            } else {
                "differ from their"
            };
            lines.push(format!(
                "{} {verb} migrations at {at} (fingerprint {fingerprint}, expected {}): {}",
                count(names.len()),
                drift.expected_fingerprint,
                names.join(", ")
            ));
            for difference in &drift.differences {
                lines.push(format!("  - {}", difference.description));
                if let Some(sql) = &difference.sql {
                    for line in sql.lines() {
                        lines.push(format!("      {line}"));
                    }
                }
            }
        }
        lines.join("\n")
    }

    fn check_text(&self) -> String {
        let mut lines = Vec::new();
        for db in self.databases.iter().filter(|d| d.error.is_none()) {
            if db.findings.is_empty() {
                lines.push(format!("{}: every expect rule holds", db.name));
            }
            for finding in &db.findings {
                lines.push(format!(
                    "{}: {}: {}",
                    db.name, finding.severity, finding.message
                ));
            }
        }
        lines.join("\n")
    }

    fn create_text(&self) -> String {
        let lines: Vec<String> = self
            .databases
            .iter()
            .filter(|db| db.error.is_none())
            .map(|db| match db.status {
                Status::Ok => format!("{}: created", db.name),
                _ => format!("{}: exists", db.name),
            })
            .collect();
        lines.join("\n")
    }

    fn edits_text(&self) -> String {
        let mut lines = Vec::new();
        for db in &self.databases {
            if db.edits.is_empty() && db.error.is_none() {
                lines.push(format!("{}: nothing to change", db.name));
            }
            for edit in &db.edits {
                lines.push(format!(
                    "{}: {} {}: {}",
                    db.name, edit.version, edit.description, edit.action
                ));
            }
        }
        lines.join("\n")
    }
}
