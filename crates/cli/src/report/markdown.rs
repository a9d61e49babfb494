//! `--format markdown`: a fleet's result as GitHub-flavoured Markdown, short enough for a
//! CI job summary (`$GITHUB_STEP_SUMMARY`): the command, the counts per status, when it
//! ran, and the databases that are not up to date, the most pressing first, cut after
//! [`ROWS`]; a 5,000-database fleet gives at most 60 lines. Text from outside skein is
//! escaped so that it reads as text, never as Markdown or HTML.

use super::{Body, DatabaseReport, Document, Report, Status, version_text};
use crate::escape::controls;
use std::fmt::Write as _;

/// The most databases the summary lists; the rest are counted.
pub const ROWS: usize = 40;

/// The longest error text in a row, in characters.
const ERROR_CHARS: usize = 160;

/// The document as Markdown: a report of databases in full, anything else as the error or
/// a line that says where the result is.
pub fn render(doc: &Document) -> String {
    let command = doc
        .command
        .and_then(|c| serde_json::to_value(c).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "skein".to_owned());
    let profile = doc.profile.as_deref().unwrap_or("-");
    let mut out = format!(
        "### skein {} (profile {})\n\n",
        text(&command),
        text(profile)
    );
    match &doc.body {
        Body::Databases(report) => summary(report, &mut out),
        Body::Error(e) => {
            let _ = writeln!(out, "**error:** {}", text(&e.error.message));
        }
        _ => out.push_str("No databases: this command's result is its JSON or human output.\n"),
    }
    out
}

fn summary(report: &Report, out: &mut String) {
    let databases = &report.databases;
    let counts: Vec<String> = super::human::STATUS_ORDER
        .iter()
        .filter_map(|&status| {
            let n = databases.iter().filter(|d| d.status == status).count();
            (n > 0).then(|| format!("{} {}", thousands(n), super::human::status_text(status)))
        })
        .collect();
    let _ = writeln!(
        out,
        "**{}**: {}",
        match databases.len() {
            1 => "1 database".to_owned(),
            n => format!("{} databases", thousands(n)),
        },
        if counts.is_empty() {
            "none selected".to_owned()
        } else {
            counts.join(" · ")
        }
    );
    if let Some(span) = span(databases) {
        let _ = writeln!(out, "\n{span}");
    }
    if let Some(unlisted) = &report.unlisted {
        let _ = writeln!(
            out,
            "\n**The models could not be listed:** {}",
            text(&clip(&unlisted.message))
        );
    }
    let mut rows: Vec<&DatabaseReport> = databases
        .iter()
        .filter(|d| d.status != Status::UpToDate)
        .collect();
    if rows.is_empty() {
        return;
    }
    rows.sort_by(|a, b| {
        super::human::urgency(a.status)
            .cmp(&super::human::urgency(b.status))
            .then_with(|| crate::natural::cmp(&a.name, &b.name))
    });
    let more = rows.len().saturating_sub(ROWS);
    rows.truncate(ROWS);
    out.push_str("\n| database | status | version | steps | error |\n|---|---|---|---|---|\n");
    for db in rows {
        let (before, after) = db.detail.versions();
        let version = if before == after {
            version_text(after)
        } else {
            format!("{} → {}", version_text(before), version_text(after))
        };
        let error = db
            .error
            .as_ref()
            .map(|e| {
                let place = match (&e.file, e.line) {
                    (Some(file), Some(line)) => format!("`{}:{line}` ", code(file)),
                    (Some(file), None) => format!("`{}` ", code(file)),
                    _ => String::new(),
                };
                format!("{place}{}", text(&clip(&e.message)))
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            text(&db.name),
            super::human::status_text(db.status),
            text(&version),
            db.detail.steps().len(),
            error
        );
    }
    if more > 0 {
        let _ = writeln!(
            out,
            "\n… and {} more not up to date: the HTML report (`--format html`) lists every database.",
            thousands(more)
        );
    }
}

/// When the run started and how long it took, from the databases' times.
fn span(databases: &[DatabaseReport]) -> Option<String> {
    let parse = |t: &Option<String>| t.as_deref()?.parse::<jiff::Timestamp>().ok();
    let started = databases
        .iter()
        .filter_map(|d| parse(&d.started_at))
        .min()?;
    let finished = databases
        .iter()
        .filter_map(|d| parse(&d.finished_at))
        .max()?;
    let ms = finished.duration_since(started).as_millis();
    Some(format!(
        "Started {} UTC, took {}.",
        started.strftime("%Y-%m-%d %H:%M:%S"),
        match ms {
            ms if ms < 1000 => format!("{ms} ms"),
            ms => format!("{:.1} s", ms as f64 / 1000.0),
        }
    ))
}

/// The first line of `message`, cut to [`ERROR_CHARS`] characters.
fn clip(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default();
    match line.char_indices().nth(ERROR_CHARS) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_owned(),
    }
}

/// Text from outside skein in Markdown: control characters escaped, HTML's `<`, `>` and
/// `&` as entities, and Markdown's punctuation behind a backslash, so that nothing in it
/// becomes a link, emphasis, a table cell or markup.
pub fn text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in controls(raw).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' | '!' | '(' | ')' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Text inside a code span: backticks cannot end it, and a table's `|` still needs its
/// escape.
fn code(raw: &str) -> String {
    controls(raw).replace('`', "'").replace('|', "\\|")
}

/// `4990` -> `4,990`.
fn thousands(n: usize) -> String {
    super::human::thousands(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Command, Detail, ErrorReport, SCHEMA_VERSION};

    fn fleet(count: usize, failed: usize) -> Document {
        let databases = (1..=count)
            .map(|i| {
                let name = format!("m{i}");
                match i <= failed {
                    true => DatabaseReport {
                        error: Some(ErrorReport::message(format!(
                            "boom <script>alert(1)</script> | [x](http://e) {i}\nsecond line"
                        ))),
                        ..DatabaseReport::new(&name, Status::Failed, Detail::None {})
                    },
                    false => DatabaseReport::new(&name, Status::UpToDate, Detail::None {}),
                }
            })
            .collect();
        Document {
            schema_version: SCHEMA_VERSION,
            command: Some(Command::Up),
            profile: Some("prod".to_owned()),
            body: Body::Databases(Report::new(databases)),
        }
    }

    #[test]
    fn a_five_thousand_database_summary_fits_in_sixty_lines() {
        let page = render(&fleet(5000, 70));
        assert!(page.lines().count() <= 60, "{}", page.lines().count());
        assert!(page.contains("**5,000 databases**: 4,930 up to date · 70 failed"));
        assert!(page.contains("… and 30 more not up to date"), "{page}");
        // Natural order: m2 before m10.
        assert!(page.find("| m2 |").unwrap() < page.find("| m10 |").unwrap());
    }

    #[test]
    fn outside_text_is_text() {
        let page = render(&fleet(1, 1));
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;"), "{page}");
        assert!(page.contains("\\[x\\]\\(http://e\\)"), "{page}");
        assert!(page.contains("\\| \\[x"), "{page}");
        assert!(!page.contains("second line"), "{page}");
    }
}
