//! The report for people: tables and lines of text. The JSON renderer is serde's. Text
//! from outside skein (names, descriptions, history rows, server and schema texts) goes
//! through [`outside`], so that it cannot reach the terminal as control characters.

use super::detail::DriftDetail;
use super::{
    Body, Command, DatabaseReport, Detail, Document, DriftInfo, Report, Status, version_text,
};
use crate::escape::controls;
use crate::redact;
use comfy_table::{Table, presets};
use skein_core::engine::HistoryEdit;
use skein_core::plan::Problem;

/// Writes `doc` for people: results on stdout, errors on stderr. With `sql`, `inspect`
/// writes the schema as SQL.
pub(super) fn render(doc: &Document, sql: bool) {
    match &doc.body {
        Body::Error(e) => redact::err(&format!("error: {}", e.error.human)),
        Body::New(new) => new.render(),
        Body::ModelNew(model) => model.render(),
        Body::Config(config) => config.render(),
        Body::Import(import) => import.render(),
        Body::Show(show) => show.render(),
        Body::Init(init) => init.render(),
        Body::Databases(report) => report.render(doc.command, sql),
    }
}

/// With JSON on stdout, what stopped the command, on stderr.
pub(super) fn stopped(doc: &Document) {
    match &doc.body {
        Body::Error(e) => redact::err(&format!("error: {}", e.error.human)),
        Body::Databases(Report {
            unlisted: Some(unlisted),
            ..
        }) => redact::err(&format!("error: {}", unlisted.human)),
        _ => {}
    }
}

/// How a command's databases are shown. Every command names its layout in
/// [`layout`], so a new command does not compile until it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// A row per database: status, version, steps and time (`up`, `down`, `redo`, `db
    /// reset`, `db drop`, `wait`); a plan's steps with `--dry-run`.
    Run,
    Status,
    History,
    Models,
    Edits,
    Create,
    Drift,
    Check,
    Lint,
    Inspect,
    Converge,
}

/// The layout of `command`'s databases.
fn layout(command: Command) -> Layout {
    match command {
        Command::Up | Command::Down | Command::Redo => Layout::Run,
        Command::DbDrop | Command::DbReset | Command::Wait => Layout::Run,
        Command::Status => Layout::Status,
        Command::History => Layout::History,
        Command::ModelList => Layout::Models,
        Command::Stamp | Command::Repair | Command::Adopt => Layout::Edits,
        Command::DbCreate => Layout::Create,
        Command::Drift => Layout::Drift,
        Command::Check => Layout::Check,
        Command::Lint => Layout::Lint,
        Command::Inspect => Layout::Inspect,
        Command::Converge => Layout::Converge,
        // These have a document of their own; a database they could not reach (`show`
        // of an unreachable database) is a row with its status and error.
        Command::New
        | Command::Import
        | Command::Show
        | Command::Init
        | Command::ModelNew
        | Command::ConfigShow => Layout::Run,
    }
}

impl Report {
    fn render(&self, command: Option<Command>, sql: bool) {
        if self.sql {
            return self.render_scripts();
        }
        let body = match command.map_or(Layout::Run, layout) {
            Layout::Inspect => {
                super::live::inspect(self, sql);
                String::new()
            }
            Layout::Converge => {
                super::live::converge(self);
                String::new()
            }
            Layout::Status => self.status_table(),
            Layout::Models if self.databases.is_empty() => {
                "no model databases (add one with `skein model new NAME`)".to_owned()
            }
            Layout::Models => self.model_table(),
            Layout::History => self.history_table(),
            Layout::Edits => self.edits_text(),
            Layout::Create => self.create_text(),
            Layout::Drift => self.drift_text(),
            Layout::Check => self.check_text(),
            Layout::Lint => self.lint_text(),
            Layout::Run => match self
                .databases
                .iter()
                .any(|d| matches!(d.detail, Detail::Plan(_)))
            {
                true => self.plan_text(),
                false => self.run_table(),
            },
        };
        if !body.is_empty() {
            redact::out(&body);
        }
        for line in self.error_lines() {
            redact::err(&line);
        }
        if let Some(unlisted) = &self.unlisted {
            redact::err(&format!("error: {}", unlisted.human));
        }
    }

    /// `--sql`: the scripts, each headed by its database, in the selection's order (they
    /// were written concurrently); then the failures.
    fn render_scripts(&self) {
        let scripts: Vec<&str> = self
            .databases
            .iter()
            .filter_map(|r| match &r.detail {
                Detail::Plan(plan) => plan.script.as_deref(),
                _ => None,
            })
            .collect();
        if !scripts.is_empty() {
            redact::out_raw(&scripts.join(
                "
",
            ));
        }
        for report in &self.databases {
            if let Some(error) = &report.error {
                redact::err(&format!("{}: {}", outside(&report.name), error.human));
            }
        }
    }
}

/// Text from outside skein, as shown in a cell or a line.
fn outside(text: &str) -> String {
    controls(text).into_owned()
}

fn table() -> Table {
    let mut table = Table::new();
    table.load_preset(presets::NOTHING);
    table
}

pub(super) fn status_text(status: Status) -> &'static str {
    match status {
        Status::Ok => "ok",
        Status::UpToDate => "up to date",
        Status::Pending => "pending",
        Status::Problems => "problems",
        Status::Failed => "failed",
        Status::Interrupted => "interrupted",
        Status::Drifted => "drifted",
        Status::Refused => "refused",
        Status::Skipped => "skipped",
    }
}

/// `1 database`, `5,000 databases`.
fn count(n: usize) -> String {
    if n == 1 {
        "1 database".to_owned()
    } else {
        format!("{} databases", thousands(n))
    }
}

/// How many names a human list shows before it says how many more there are.
const SCREENFUL: usize = 20;

/// Names sorted naturally (m2 before m10), cut after a screenful unless `every`.
fn name_list(names: &[String], every: bool) -> String {
    let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
    names.sort_by(|a, b| crate::natural::cmp(a, b));
    if every || names.len() <= SCREENFUL {
        return names.join(", ");
    }
    format!(
        "{}, ... and {} more (-v lists them all)",
        names[..SCREENFUL].join(", "),
        thousands(names.len() - SCREENFUL)
    )
}

/// `4990` -> `4,990`.
pub(super) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Statuses in the order a summary counts them.
pub(super) const STATUS_ORDER: [Status; 9] = [
    Status::Ok,
    Status::UpToDate,
    Status::Pending,
    Status::Problems,
    Status::Drifted,
    Status::Refused,
    Status::Failed,
    Status::Interrupted,
    Status::Skipped,
];

/// How pressing a status is: a summarised table lists the lowest first.
pub(super) fn urgency(status: Status) -> u8 {
    match status {
        Status::Failed => 0,
        Status::Interrupted => 1,
        Status::Problems => 2,
        Status::Drifted => 3,
        Status::Refused => 3,
        Status::Skipped => 4,
        Status::Pending => 5,
        Status::Ok => 6,
        Status::UpToDate => 7,
    }
}

/// A text that several databases may share, the first item that has it and the databases
/// that have it.
struct Group<'a, T> {
    text: String,
    item: T,
    names: Vec<&'a str>,
}

/// Items grouped by their text, each text once, in the order it first appears.
fn by_text<'a, T>(items: impl IntoIterator<Item = (&'a str, String, T)>) -> Vec<Group<'a, T>> {
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut groups: Vec<Group<'a, T>> = Vec::new();
    for (name, text, item) in items {
        match index.get(&text) {
            Some(&i) => groups[i].names.push(name),
            None => {
                index.insert(text.clone(), groups.len());
                groups.push(Group {
                    text,
                    item,
                    names: vec![name],
                });
            }
        }
    }
    groups
}

/// Indents every line of `text` by two spaces.
fn indented(text: &str) -> String {
    text.lines()
        .map(|line| format!("  {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A problem that several databases share, said once for all of them.
fn shared_problem(problem: &Problem, databases: usize) -> String {
    match problem {
        Problem::Modified { version, file, .. } => format!(
            "{} (version {version}) was edited after {} applied it; restore it, or if the edit is intended run `skein repair` to record its new checksum",
            outside(&file.display().to_string()),
            count(databases)
        ),
        _ => format!("{}: {}", count(databases), outside(&problem.to_string())),
    }
}

impl Report {
    /// Whether the human output summarises: a report of more than a screenful of
    /// databases counts them per status and lists only those that need a look (every
    /// row with `-v`), and says a text that many databases share once. A report of a
    /// screenful or fewer prints a row or line per database, as it always has.
    fn summarises(&self) -> bool {
        self.databases.len() > SCREENFUL
    }

    /// `5,000 databases: 4,990 up to date, 10 pending`.
    fn status_counts(&self) -> String {
        let parts: Vec<String> = STATUS_ORDER
            .iter()
            .map(|&status| {
                let n = self.databases.iter().filter(|d| d.status == status).count();
                (status, n)
            })
            .filter(|&(_, n)| n > 0)
            .map(|(status, n)| format!("{} {}", thousands(n), status_text(status)))
            .collect();
        format!("{}: {}", count(self.databases.len()), parts.join(", "))
    }

    /// The databases a table has a row for, and how many it leaves out. Every one, in
    /// the report's order, unless the report summarises without `-v`: then those not up
    /// to date, the most pressing first and each status in natural name order, cut
    /// after a screenful.
    fn table_rows(&self) -> (Vec<&DatabaseReport>, usize) {
        if !self.summarises() || self.every_name {
            return (self.databases.iter().collect(), 0);
        }
        let mut rows: Vec<&DatabaseReport> = self
            .databases
            .iter()
            .filter(|db| db.status != Status::UpToDate)
            .collect();
        rows.sort_by(|a, b| {
            urgency(a.status)
                .cmp(&urgency(b.status))
                .then_with(|| crate::natural::cmp(&a.name, &b.name))
        });
        let more = rows.len().saturating_sub(SCREENFUL);
        rows.truncate(SCREENFUL);
        (rows, more)
    }

    /// A table of [`Report::table_rows`], after the counts per status when the report
    /// summarises, and before a line saying how many rows it left out.
    fn summary_table(
        &self,
        header: [&str; 5],
        row: impl Fn(&DatabaseReport) -> [String; 5],
    ) -> Vec<String> {
        let mut parts = Vec::new();
        if self.summarises() {
            parts.push(self.status_counts());
        }
        let (rows, more) = self.table_rows();
        if !rows.is_empty() || !self.summarises() {
            let mut table = table();
            table.set_header(header);
            for db in rows {
                table.add_row(row(db));
            }
            parts.push(table.to_string());
        }
        if more > 0 {
            parts.push(format!(
                "... and {} more (-v lists every database)",
                thousands(more)
            ));
        }
        parts
    }

    /// The names of `names` for a person: naturally sorted, cut after a screenful
    /// unless `-v`.
    fn names(&self, names: &[&str]) -> String {
        let names: Vec<String> = names.iter().map(|n| outside(n)).collect();
        name_list(&names, self.every_name)
    }

    /// One line per database and text, `name: text`; when the report summarises, a
    /// text that several databases share is said once, `N databases: text`, with their
    /// names under it. `text` is already fit for a terminal.
    fn shared_lines<'a>(&self, items: impl IntoIterator<Item = (&'a str, String)>) -> Vec<String> {
        let items = items.into_iter().map(|(name, text)| (name, text, ()));
        if !self.summarises() {
            return items
                .map(|(name, text, ())| format!("{}: {text}", outside(name)))
                .collect();
        }
        by_text(items)
            .into_iter()
            .map(|group| match group.names.as_slice() {
                [name] => format!("{}: {}", outside(name), group.text),
                names => format!(
                    "{}: {}\n  {}",
                    count(names.len()),
                    group.text,
                    self.names(names)
                ),
            })
            .collect()
    }

    /// Each database's problems, `name: problem`; a problem several databases share is
    /// said once for all of them when the report summarises.
    fn problem_lines(&self) -> Vec<String> {
        let items = self.databases.iter().flat_map(|db| {
            db.detail
                .problems()
                .iter()
                .map(move |p| (db.name.as_str(), p))
        });
        if !self.summarises() {
            return items
                .map(|(name, p)| format!("{}: {}", outside(name), outside(&p.to_string())))
                .collect();
        }
        by_text(items.map(|(name, p)| (name, p.to_string(), p)))
            .into_iter()
            .map(|group| match group.names.as_slice() {
                [name] => format!("{}: {}", outside(name), outside(&group.text)),
                names => format!(
                    "{}\n  {}",
                    shared_problem(group.item, names.len()),
                    self.names(names)
                ),
            })
            .collect()
    }

    /// The errors, for stderr: `name: status: error` per database; when the report
    /// summarises, databases that ended alike with the same error are said once,
    /// `N databases failed: names`, with the error under it.
    pub(super) fn error_lines(&self) -> Vec<String> {
        let items = self.databases.iter().filter_map(|db| {
            let error = db.error.as_ref()?;
            let text = format!("{}: {}", status_text(db.status), error.human);
            Some((db.name.as_str(), text, (db.status, error.human.as_str())))
        });
        if !self.summarises() {
            return items
                .map(|(name, text, _)| format!("{}: {text}", outside(name)))
                .collect();
        }
        by_text(items)
            .into_iter()
            .map(|group| match group.names.as_slice() {
                [name] => format!("{}: {}", outside(name), group.text),
                names => {
                    let (status, error) = group.item;
                    format!(
                        "{} {}: {}\n{}",
                        count(names.len()),
                        status_text(status),
                        self.names(names),
                        indented(error)
                    )
                }
            })
            .collect()
    }

    pub(super) fn status_table(&self) -> String {
        let mut parts =
            self.summary_table(["database", "version", "head", "pending", "status"], |db| {
                let status = db.detail.status();
                [
                    outside(&db.name),
                    version_text(status.and_then(|s| s.version_after)),
                    version_text(status.and_then(|s| s.head)),
                    status
                        .and_then(|s| s.pending)
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                    status_text(db.status).to_owned(),
                ]
            });
        parts.extend(self.problem_lines());
        parts.extend(self.shared_lines(self.databases.iter().filter_map(|db| {
            let foreign = db.detail.status()?.foreign_history.as_ref()?;
            let table = outside(&foreign.table);
            let note = match foreign.owned {
                true => format!(
                    "{table} (another tool's history table) is still here; skein's history decides, and `DROP TABLE {table}` removes it"
                ),
                false => format!(
                    "{table} (another tool's history table) is here and skein's is not: `skein adopt` takes the database over"
                ),
            };
            Some((db.name.as_str(), note))
        })));
        parts.join("\n")
    }

    pub(super) fn run_table(&self) -> String {
        self.summary_table(["database", "status", "version", "steps", "time"], |db| {
            let steps = db.detail.steps();
            let ms: i64 = steps.iter().filter_map(|s| s.ms).sum();
            let (before, after) = db.detail.versions();
            let version = if before == after {
                version_text(after)
            } else {
                format!("{} -> {}", version_text(before), version_text(after))
            };
            [
                outside(&db.name),
                status_text(db.status).to_owned(),
                version,
                steps.len().to_string(),
                format!("{ms} ms"),
            ]
        })
        .join("\n")
    }

    /// Each database's plan: `name: N step(s), before -> after` and its steps; when the
    /// report summarises, databases with the same plan share one heading that names them.
    pub(super) fn plan_text(&self) -> String {
        let plans = self.databases.iter().filter_map(|db| {
            let Detail::Plan(plan) = &db.detail else {
                return None;
            };
            Some((db.name.as_str(), plan_lines(&plan.plan), ()))
        });
        let groups: Vec<Group<'_, ()>> = if self.summarises() {
            by_text(plans)
        } else {
            plans
                .map(|(name, text, ())| Group {
                    text,
                    item: (),
                    names: vec![name],
                })
                .collect()
        };
        let mut lines = Vec::new();
        for group in groups {
            let (heading, steps) = group.text.split_once('\n').unwrap_or((&group.text, ""));
            lines.push(match group.names.as_slice() {
                [name] => format!("{}: {heading}", outside(name)),
                names => format!("{}: {heading}: {}", count(names.len()), self.names(names)),
            });
            if !steps.is_empty() {
                lines.push(steps.to_owned());
            }
        }
        lines.join("\n")
    }

    pub(super) fn history_table(&self) -> String {
        let mut table = table();
        table.set_header(["version", "description", "state", "applied at", "by", "ms"]);
        for db in &self.databases {
            let Detail::History(history) = &db.detail else {
                continue;
            };
            for entry in &history.migrations {
                let applied = entry.applied.as_ref();
                table.add_row([
                    match entry.repeatable {
                        true => "repeatable".to_owned(),
                        false => entry.version.to_string(),
                    },
                    outside(&entry.description),
                    serde_json::to_value(entry.state)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    applied.map(|a| outside(&a.applied_at)).unwrap_or_default(),
                    applied.map(|a| outside(&a.applied_by)).unwrap_or_default(),
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
    pub(super) fn drift_text(&self) -> String {
        use std::collections::BTreeMap;
        let mut groups: BTreeMap<(bool, String), Vec<&DriftDetail>> = BTreeMap::new();
        let mut names: BTreeMap<(bool, String), Vec<&str>> = BTreeMap::new();
        for db in &self.databases {
            if let Detail::Drift(detail) = &db.detail {
                let drift = &detail.drift;
                let key = (!drift.differences.is_empty(), drift.fingerprint.clone());
                groups.entry(key.clone()).or_default().push(detail);
                names.entry(key).or_default().push(&db.name);
            }
        }
        let mut lines = Vec::new();
        for ((differs, fingerprint), dbs) in groups {
            let names: Vec<String> = names[&(differs, fingerprint.clone())]
                .iter()
                .map(|name| outside(name))
                .collect();
            let listed = name_list(&names, self.every_name);
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
                    "{} {verb} migrations at {at} (fingerprint {fingerprint}): {listed}",
                    count(names.len()),
                ));
                continue;
            }
            let drift = &dbs[0].drift;
            let verb = if names.len() == 1 {
                "differs from its"
            } else {
                "differ from their"
            };
            lines.push(format!(
                "{} {verb} migrations at {at} (fingerprint {fingerprint}, expected {}): {listed}",
                count(names.len()),
                drift.expected_fingerprint,
            ));
            for difference in &drift.differences {
                lines.push(format!("  - {}", outside(&difference.description)));
                if let Some(sql) = &difference.sql {
                    for line in sql.lines() {
                        lines.push(format!("      {}", outside(line)));
                    }
                }
            }
        }
        let compared: Vec<&DriftInfo> = self
            .databases
            .iter()
            .filter_map(|d| match &d.detail {
                Detail::Drift(detail) => Some(&detail.drift),
                _ => None,
            })
            .collect();
        let replays: std::collections::BTreeSet<&str> =
            compared.iter().map(|d| d.replay.as_str()).collect();
        if compared.len() > 1 {
            lines.push(format!(
                "expected schemas: {} replayed for {} (one per distinct set of migration statements)",
                match replays.len() {
                    1 => "1".to_owned(),
                    n => thousands(n),
                },
                count(compared.len())
            ));
        }
        lines.join("\n")
    }

    /// Each database's expect findings, or that every rule holds; see
    /// [`Report::shared_lines`].
    pub(super) fn check_text(&self) -> String {
        let items = self
            .databases
            .iter()
            .filter(|d| d.error.is_none())
            .filter_map(|db| match &db.detail {
                Detail::Check(check) => Some((db, &check.findings)),
                _ => None,
            })
            .flat_map(|(db, findings)| {
                let holds = findings
                    .is_empty()
                    .then(|| "every expect rule holds".to_owned());
                let findings = findings.iter().map(|finding| {
                    format!(
                        "{}: {}",
                        finding.severity.as_str(),
                        outside(&finding.message)
                    )
                });
                holds
                    .into_iter()
                    .chain(findings)
                    .map(move |text| (db.name.as_str(), text))
            });
        self.shared_lines(items).join("\n")
    }

    /// Which databases `db create` created and which existed.
    pub(super) fn create_text(&self) -> String {
        let items = self
            .databases
            .iter()
            .filter(|db| db.error.is_none())
            .map(|db| {
                let text = match db.status {
                    Status::Ok => "created",
                    _ => "exists",
                };
                (db.name.as_str(), text.to_owned())
            });
        self.shared_lines(items).join("\n")
    }

    /// What `stamp` or `repair` changed in each history.
    pub(super) fn edits_text(&self) -> String {
        let items = self.databases.iter().flat_map(|db| {
            let edits: &[HistoryEdit] = match &db.detail {
                Detail::Edits(detail) => &detail.edits,
                _ => &[],
            };
            let nothing =
                (edits.is_empty() && db.error.is_none()).then(|| "nothing to change".to_owned());
            let edits = edits.iter().map(|edit| {
                format!(
                    "{} {}: {}",
                    edit.version,
                    outside(&edit.description),
                    edit.action.describe()
                )
            });
            nothing
                .into_iter()
                .chain(edits)
                .map(move |text| (db.name.as_str(), text))
        });
        self.shared_lines(items).join("\n")
    }
}

/// A plan for a person: `N step(s), before -> after`, then a line per step.
fn plan_lines(plan: &skein_core::plan::Plan) -> String {
    let mut lines = vec![format!(
        "{} step(s), {} -> {}",
        plan.steps.len(),
        version_text(plan.version_before),
        version_text(plan.version_after)
    )];
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
            step.version_text(),
            outside(&step.description)
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_name_lists_are_sorted_naturally_and_cut_after_a_screenful() {
        let names: Vec<String> = (1..=5000).rev().map(|i| format!("m{i}")).collect();
        let short = name_list(&names, false);
        assert!(short.starts_with("m1, m2, m3, "), "{short}");
        assert!(
            short.ends_with("m20, ... and 4,980 more (-v lists them all)"),
            "{short}"
        );
        let all = name_list(&names, true);
        assert_eq!(all.matches(", ").count(), 4999);
        assert_eq!(name_list(&["b".into(), "a".into()], false), "a, b");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }

    /// `count` model databases with the same template file edited after they applied it.
    fn edited_template(count: usize) -> Report {
        let databases = (1..=count)
            .map(|i| {
                let status = super::super::detail::StatusDetail {
                    problems: vec![Problem::Modified {
                        version: 2,
                        file: "templates/model/2_x.up.sql".into(),
                        recorded: format!("sha256:{i}"),
                        actual: "sha256:0".into(),
                    }],
                    ..Default::default()
                };
                DatabaseReport::new(&format!("m{i}"), Status::Problems, Detail::Status(status))
            })
            .collect();
        Report::new(databases)
    }

    #[test]
    fn a_template_edit_that_many_databases_applied_is_said_once() {
        let lines = edited_template(480).problem_lines();
        assert_eq!(
            lines,
            [
                "templates/model/2_x.up.sql (version 2) was edited after 480 databases applied it; \
                 restore it, or if the edit is intended run `skein repair` to record its new checksum\n  \
                 m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, m16, m17, m18, \
                 m19, m20, ... and 460 more (-v lists them all)"
            ]
        );
        // A screenful of databases or fewer: a line each, as ever.
        let lines = edited_template(2).problem_lines();
        assert_eq!(lines.len(), 2);
        assert!(lines[1].starts_with(
            "m2: templates/model/2_x.up.sql (version 2) was edited after it was applied"
        ));
    }
}
