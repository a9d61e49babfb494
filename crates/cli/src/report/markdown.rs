//! `--format markdown`: a fleet's result as GitHub-flavoured Markdown, short enough for a
//! CI job summary (`$GITHUB_STEP_SUMMARY`): the command, the counts per status, when it
//! ran, and the databases that are not up to date after it (neither `up to date` nor
//! `ok`), the most pressing first, cut after
//! [`ROWS`]; a 5,000-database fleet gives at most 60 lines. Text from outside skein is
//! escaped so that it reads as text, never as Markdown or HTML.

use super::html::View;
use crate::escape::controls;
use serde_json::Value;
use std::fmt::Write as _;

/// The most databases the summary lists; the rest are counted.
pub const ROWS: usize = 40;

/// The longest error text in a row, in characters.
const ERROR_CHARS: usize = 160;

/// The JSON document as Markdown (from a run, or from a saved report: the same summary).
pub fn render(doc: &Value) -> String {
    let view = View::of(doc);
    let mut out = format!(
        "### skein {} (profile {})\n\n",
        text(&view.command),
        text(if view.profile.is_empty() {
            "-"
        } else {
            &view.profile
        })
    );
    if doc.get("databases").is_none() {
        let _ = writeln!(
            out,
            "**error:** {}",
            text(&clip(view.error.as_deref().unwrap_or_default()))
        );
        return out;
    }
    let counts: Vec<String> = view
        .counts
        .iter()
        .map(|c| format!("{} {}", thousands(c.n), c.label))
        .collect();
    let _ = writeln!(
        out,
        "**{}**: {}",
        match view.total {
            1 => "1 database".to_owned(),
            n => format!("{} databases", thousands(n)),
        },
        if counts.is_empty() {
            "none selected".to_owned()
        } else {
            counts.join(" · ")
        }
    );
    if let (Some(started), Some(took)) = (&view.started, &view.took) {
        let _ = writeln!(out, "\nStarted {started}, took {took}.");
    }
    if let Some(error) = &view.error {
        let _ = writeln!(out, "\n**{}**", text(&clip(error)));
    }
    // Those that need a look: neither up to date nor brought up to date (`ok`).
    let rows: Vec<_> = view
        .rows
        .iter()
        .filter(|r| r.status != "up_to_date" && r.status != "ok")
        .collect();
    if rows.is_empty() {
        return out;
    }
    let more = rows.len().saturating_sub(ROWS);
    out.push_str("\n| database | status | version | steps | error |\n|---|---|---|---|---|\n");
    for row in rows.into_iter().take(ROWS) {
        let error = row
            .error
            .as_ref()
            .map(|e| {
                let place = row
                    .place
                    .as_ref()
                    .map(|p| format!("`{}` ", code(p)))
                    .unwrap_or_default();
                format!("{place}{}", text(&clip(e)))
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            text(&row.name),
            row.label,
            text(&row.version),
            row.steps,
            error
        );
    }
    if more > 0 {
        let _ = writeln!(
            out,
            "\n… and {} more not up to date: the HTML report (`--format html`, or `skein report` of the JSON) lists every database.",
            thousands(more)
        );
    }
    out
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
    use crate::report::{
        Body, Command, DatabaseReport, Detail, Document, ErrorReport, Report, SCHEMA_VERSION,
        Status,
    };

    fn fleet(count: usize, failed: usize) -> Value {
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
        serde_json::to_value(Document {
            schema_version: SCHEMA_VERSION,
            command: Some(Command::Up),
            profile: Some("prod".to_owned()),
            body: Body::Databases(Report::new(databases)),
        })
        .unwrap()
    }

    #[test]
    fn a_five_thousand_database_summary_fits_in_sixty_lines() {
        let page = render(&fleet(5000, 70));
        assert!(page.lines().count() <= 60, "{}", page.lines().count());
        assert!(
            page.contains("**5,000 databases**: 70 failed · 4,930 up to date"),
            "{page}"
        );
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
