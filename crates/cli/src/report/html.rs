//! `--format html` and `skein report FILE.json`: a fleet's result as one self-contained
//! page (inline CSS and JS, no request leaves it, readable with JavaScript off). The page
//! is built from the JSON document, so that a JSON report kept by a deploy job (of any
//! schema version skein wrote) makes the same page later. The template escapes every
//! value (minijinja's HTML auto-escaping); the page's script reads only the table it is
//! in.

use super::SCHEMA_VERSION;
use serde::Serialize;
use serde_json::Value;

/// The page's template.
const TEMPLATE: &str = include_str!("page.html");

/// Why a file is not a report skein can show.
#[derive(Debug, thiserror::Error)]
pub enum NotAReport {
    #[error("{path}: not JSON ({error}); `skein report` reads what `--format json` wrote")]
    Json { path: String, error: String },
    #[error(
        "{path}: not a skein report (no `schema_version`, or no `databases` or `error`); `skein report` reads what `--format json` wrote"
    )]
    Shape { path: String },
    #[error(
        "{path}: schema version {version} is newer than this skein reads (up to {SCHEMA_VERSION}); use a newer skein"
    )]
    Newer { path: String, version: u64 },
}

/// The JSON document read from `path` (for the error), if it is a report skein can show.
pub fn read_report(path: &str, text: &str) -> Result<Value, NotAReport> {
    let value: Value = serde_json::from_str(text).map_err(|e| NotAReport::Json {
        path: path.to_owned(),
        error: e.to_string(),
    })?;
    let version = value.get("schema_version").and_then(Value::as_u64);
    let has_body = value.get("databases").is_some_and(Value::is_array)
        || value.get("error").is_some_and(Value::is_object);
    let Some(version) = version.filter(|_| has_body && value.is_object()) else {
        return Err(NotAReport::Shape {
            path: path.to_owned(),
        });
    };
    if version > u64::from(SCHEMA_VERSION) || version == 0 {
        return Err(NotAReport::Newer {
            path: path.to_owned(),
            version,
        });
    }
    Ok(value)
}

/// The page of a JSON document.
pub fn page(doc: &Value) -> String {
    let view = View::of(doc);
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.add_template("page.html", TEMPLATE)
        .expect("the page template parses");
    env.get_template("page.html")
        .expect("the page template is there")
        .render(minijinja::context! { page => view })
        .expect("the page renders")
}

/// What the page (and the Markdown summary) shows, worked out from the document.
#[derive(Debug, Serialize)]
pub(super) struct View {
    pub command: String,
    pub profile: String,
    /// When the run started (UTC) and how long it took, from the databases' times.
    pub started: Option<String>,
    pub took: Option<String>,
    pub total: usize,
    /// Databases per status, the most pressing first.
    pub counts: Vec<Count>,
    /// Every database, the most pressing first, then by name (naturally).
    pub rows: Vec<Row>,
    /// What stopped the command before any database (a usage or configuration error), or
    /// why the models could not be listed.
    pub error: Option<String>,
    drift: Vec<DriftGroup>,
    lint: Vec<Finding>,
    /// The run's timeline, when the databases have start and end times.
    timeline: bool,
}

#[derive(Debug, Serialize)]
pub(super) struct Count {
    pub status: String,
    pub label: &'static str,
    pub n: usize,
}

#[derive(Debug, Serialize)]
pub(super) struct Row {
    pub name: String,
    /// The name's key for natural sorting (m2 before m10): digits zero-padded.
    key: String,
    pub status: String,
    pub label: &'static str,
    pub version: String,
    pub steps: usize,
    ms: Option<u64>,
    /// Where the bar of the timeline starts and how wide it is, in % of the run.
    start_pct: f64,
    width_pct: f64,
    pub error: Option<String>,
    /// The error's file and line.
    pub place: Option<String>,
}

#[derive(Debug, Serialize)]
struct DriftGroup {
    fingerprint: String,
    expected: String,
    names: Vec<String>,
    differences: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Finding {
    rule: String,
    severity: String,
    place: String,
    message: String,
    fix: String,
    /// The table the statement changes and its largest row count among the databases:
    /// what makes a finding an error on a large table.
    table: String,
    rows: Option<u64>,
    databases: Vec<String>,
}

/// Statuses in the order the page counts them, with the words it shows.
const STATUSES: [(&str, &str); 9] = [
    ("failed", "failed"),
    ("interrupted", "interrupted"),
    ("problems", "problems"),
    ("drifted", "drifted"),
    ("refused", "refused"),
    ("skipped", "skipped"),
    ("pending", "pending"),
    ("ok", "ok"),
    ("up_to_date", "up to date"),
];

fn label(status: &str) -> &'static str {
    STATUSES
        .iter()
        .find(|(s, _)| *s == status)
        .map_or("unknown", |(_, label)| label)
}

fn urgency(status: &str) -> usize {
    STATUSES
        .iter()
        .position(|(s, _)| *s == status)
        .unwrap_or(STATUSES.len())
}

/// A name's key for natural sorting: each run of digits padded to 20 places.
fn natural_key(name: &str) -> String {
    let mut key = String::new();
    let mut digits = String::new();
    for c in name.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if !digits.is_empty() {
            key.push_str(&format!("{:0>20}", digits));
            digits.clear();
        }
        if c != '\0' {
            key.extend(c.to_lowercase());
        }
    }
    key
}

/// A value as text for the page, its control characters but line breaks escaped (HTML
/// has no place for them; the template escapes the rest).
fn text(value: Option<&Value>) -> String {
    let raw = match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    crate::escape::controls_in_lines(&raw).into_owned()
}

fn version(value: Option<&Value>) -> String {
    match value {
        Some(Value::Number(n)) => n.to_string(),
        _ => "base".to_owned(),
    }
}

fn timestamp(value: Option<&Value>) -> Option<jiff::Timestamp> {
    value?.as_str()?.parse().ok()
}

impl View {
    pub(super) fn of(doc: &Value) -> View {
        let databases: &[Value] = doc
            .get("databases")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice);
        let times: Vec<Option<(jiff::Timestamp, jiff::Timestamp)>> = databases
            .iter()
            .map(|db| {
                Some((
                    timestamp(db.get("started_at"))?,
                    timestamp(db.get("finished_at"))?,
                ))
            })
            .collect();
        let start = times.iter().flatten().map(|t| t.0).min();
        let end = times.iter().flatten().map(|t| t.1).max();
        let span_ms = match (start, end) {
            (Some(s), Some(e)) => Some(e.duration_since(s).as_millis().max(1) as f64),
            _ => None,
        };
        let mut rows: Vec<Row> = databases
            .iter()
            .zip(&times)
            .map(|(db, time)| {
                let status = text(db.get("status"));
                let before = version(db.get("version_before"));
                let after = version(db.get("version_after"));
                let version = match (db.get("version_after"), before == after) {
                    (None, _) => String::new(),
                    (_, true) => after,
                    (_, false) => format!("{before} → {after}"),
                };
                let steps = db
                    .get("steps")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                let (mut start_pct, mut width_pct, mut ms) = (0.0, 0.0, None);
                if let (Some((s, e)), Some(origin), Some(span)) = (time, start, span_ms) {
                    let took = e.duration_since(*s).as_millis().max(0) as f64;
                    start_pct = s.duration_since(origin).as_millis() as f64 / span * 100.0;
                    width_pct = (took / span * 100.0).max(0.2);
                    ms = Some(took as u64);
                }
                let error = db.get("error");
                let place = error.and_then(|e| {
                    let file = text(Some(e.get("file")?));
                    Some(match e.get("line").and_then(Value::as_u64) {
                        Some(line) => format!("{file}:{line}"),
                        None => file.to_owned(),
                    })
                });
                let name = text(db.get("name"));
                Row {
                    key: natural_key(&name),
                    name,
                    label: label(&status),
                    status,
                    version,
                    steps,
                    ms,
                    start_pct: (start_pct * 100.0).round() / 100.0,
                    width_pct: (width_pct * 100.0).round() / 100.0,
                    error: error.map(|e| text(e.get("message"))),
                    place,
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            urgency(&a.status)
                .cmp(&urgency(&b.status))
                .then(a.key.cmp(&b.key))
        });
        let counts = STATUSES
            .iter()
            .filter_map(|(status, label)| {
                let n = rows.iter().filter(|r| r.status == *status).count();
                (n > 0).then(|| Count {
                    status: (*status).to_owned(),
                    label,
                    n,
                })
            })
            .collect();
        let error = doc
            .get("error")
            .map(|e| text(e.get("message")))
            .or_else(|| {
                doc.get("unlisted")
                    .map(|e| format!("the models could not be listed: {}", text(e.get("message"))))
            });
        View {
            command: text(doc.get("command")),
            profile: text(doc.get("profile")),
            started: start.map(|s| s.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()),
            took: span_ms.map(|ms| match ms {
                ms if ms < 1000.0 => format!("{ms:.0} ms"),
                ms => format!("{:.1} s", ms / 1000.0),
            }),
            total: rows.len(),
            counts,
            timeline: span_ms.is_some() && rows.len() > 1,
            drift: drift_groups(databases),
            lint: lint_findings(databases),
            error,
            rows,
        }
    }
}

/// Drifted databases grouped by their live fingerprint, each group with its differences.
fn drift_groups(databases: &[Value]) -> Vec<DriftGroup> {
    let mut groups: Vec<DriftGroup> = Vec::new();
    for db in databases {
        let Some(drift) = db.get("drift") else {
            continue;
        };
        let differences: Vec<String> = drift
            .get("differences")
            .and_then(Value::as_array)
            .map_or(Vec::new(), |d| {
                d.iter().map(|d| text(d.get("description"))).collect()
            });
        if differences.is_empty() {
            continue;
        }
        let fingerprint = text(drift.get("fingerprint"));
        let name = text(db.get("name"));
        match groups.iter_mut().find(|g| g.fingerprint == fingerprint) {
            Some(group) => group.names.push(name),
            None => groups.push(DriftGroup {
                expected: text(drift.get("expected_fingerprint")),
                fingerprint,
                names: vec![name],
                differences,
            }),
        }
    }
    groups
}

/// Lint findings once per place and rule, with the databases they are in.
fn lint_findings(databases: &[Value]) -> Vec<Finding> {
    let mut findings: Vec<Finding> = Vec::new();
    for db in databases {
        let list = db
            .get("lint")
            .and_then(|l| l.get("findings"))
            .and_then(Value::as_array);
        for finding in list.into_iter().flatten() {
            let place = format!(
                "{}:{}:{}",
                text(finding.get("file")),
                text(finding.get("line")),
                text(finding.get("column"))
            );
            let rule = text(finding.get("rule"));
            let name = text(db.get("name"));
            let rows = finding.get("rows").and_then(Value::as_u64);
            match findings
                .iter_mut()
                .find(|f| f.place == place && f.rule == rule)
            {
                Some(found) => {
                    found.databases.push(name);
                    found.rows = found.rows.max(rows);
                }
                None => findings.push(Finding {
                    severity: text(finding.get("severity")),
                    message: text(finding.get("message")),
                    fix: text(finding.get("fix")),
                    table: text(finding.get("table")),
                    rows,
                    rule,
                    place,
                    databases: vec![name],
                }),
            }
        }
    }
    findings.sort_by(|a, b| {
        let rank = |s: &str| match s {
            "error" => 0,
            "warning" => 1,
            _ => 2,
        };
        rank(&a.severity)
            .cmp(&rank(&b.severity))
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.place.cmp(&b.place))
    });
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `skein report` reads files from anywhere: a document of the right outline whose
    /// parts have other types, or times in the wrong order, still makes a page.
    #[test]
    fn odd_documents_make_a_page_without_panicking() {
        let odd = serde_json::json!({
            "schema_version": 1,
            "command": ["up"],
            "profile": 7,
            "databases": [
                1, null, "x", [],
                {"name": 5, "status": ["ok"], "steps": {}, "error": "text",
                 "started_at": "2026-01-01T00:00:05Z", "finished_at": "2026-01-01T00:00:01Z"},
                {"name": "m1", "status": "drifted", "drift": 3, "lint": {"findings": [1, {"rule": null}]}},
                {"name": "m2", "status": "failed", "error": {"file": 3, "line": -1, "message": null},
                 "started_at": "not a time", "finished_at": null, "version_before": "x", "version_after": 1e300}
            ],
            "error": "not an object",
            "unlisted": {"message": {"a": 1}}
        });
        let page = page(&odd);
        assert_eq!(page.matches("<tr data-status=").count(), 7);
        let summary = super::super::markdown::render(&odd);
        assert!(summary.contains("**7 databases**"), "{summary}");
    }

    #[test]
    fn names_sort_naturally() {
        let mut names = ["m10", "m2", "M1", "m2a", "a"];
        names.sort_by_key(|n| natural_key(n));
        assert_eq!(names, ["a", "M1", "m2", "m2a", "m10"]);
    }

    #[test]
    fn hostile_text_is_text() {
        let doc = serde_json::json!({
            "schema_version": SCHEMA_VERSION,
            "command": "up",
            "profile": "p\"><script>alert(1)</script>",
            "databases": [{
                "name": "<script>alert('m')</script>",
                "status": "failed",
                "error": {"message": "near \"<b>x</b>\" & 'y'\u{1b}[31m", "file": "a<i>.sql", "line": 3}
            }]
        });
        let page = page(&doc);
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(page.contains("&lt;script&gt;alert("), "{page}");
        assert!(!page.contains("<b>x</b>"));
        assert!(!page.contains("<i>.sql"));
    }

    #[test]
    fn a_file_that_is_not_a_report_is_refused() {
        assert!(matches!(
            read_report("x.json", "{\"a\": 1}"),
            Err(NotAReport::Shape { .. })
        ));
        assert!(matches!(
            read_report("x.json", "not json"),
            Err(NotAReport::Json { .. })
        ));
        assert!(matches!(
            read_report("x.json", "{\"schema_version\": 99, \"databases\": []}"),
            Err(NotAReport::Newer { .. })
        ));
        for version in 1..=SCHEMA_VERSION {
            let doc = format!(
                "{{\"schema_version\": {version}, \"command\": \"status\", \"profile\": null, \"databases\": []}}"
            );
            assert!(page(&read_report("x.json", &doc).unwrap()).contains("<table"));
        }
    }
}
