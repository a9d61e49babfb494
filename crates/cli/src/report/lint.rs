//! `lint`'s human output: each finding once, at file:line:column, with why and the fix;
//! a finding the databases share names the worst of them.

use super::Report;
use crate::escape::controls;
use skein_core::lint::Finding;
use skein_core::lint::rules::Severity;
use std::collections::BTreeMap;

/// Where a finding is: file, line, column and rule.
type Place<'a> = (String, usize, usize, &'a str);

/// The worst of a finding found in several databases: it, its database, and in how many.
type Worst<'a> = (&'a Finding, &'a str, usize);

impl Report {
    /// `--format github`: one workflow command per finding, which GitHub shows on the
    /// file's line in a pull request; then the failures as errors without a file.
    pub(super) fn github_annotations(&self) -> String {
        let escape = |text: &str| {
            text.replace('%', "%25")
                .replace('\r', "%0D")
                .replace('\n', "%0A")
        };
        let property = |text: &str| escape(text).replace(':', "%3A").replace(',', "%2C");
        let mut out = String::new();
        // Once per place and rule, as GitHub shows only so many annotations per step.
        for ((file, line, column, rule), (finding, worst, count)) in self.grouped().0 {
            let level = match finding.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let databases = match count {
                1 => worst.to_owned(),
                n => format!("{n} databases, worst {worst}"),
            };
            out.push_str(&format!(
                "::{level} file={},line={line},col={column},title={}::{}: {} (fix: {})\n",
                property(&file),
                property(&format!("skein lint {rule}")),
                escape(&databases),
                escape(&finding.message),
                escape(finding.fix)
            ));
        }
        for report in &self.databases {
            if let Some(error) = &report.error {
                out.push_str(&format!(
                    "::error title={}::{}\n",
                    property(&format!("skein lint {}", report.name)),
                    escape(&error.message)
                ));
            }
        }
        out
    }

    /// Each finding once by place and rule, with the database where it is worst and in
    /// how many it is; then the statements read, not checked and ignored.
    fn grouped(&self) -> (BTreeMap<Place<'_>, Worst<'_>>, [usize; 3]) {
        // The same file, place and rule in several databases (a model template): once,
        // with the database where it is worst.
        let mut found: BTreeMap<Place, Worst> = BTreeMap::new();
        let mut counts = [0; 3];
        for report in &self.databases {
            let Some(outcome) = report.detail.lint() else {
                continue;
            };
            counts[0] += outcome.statements;
            counts[1] += outcome.unchecked;
            counts[2] += outcome.ignored;
            for finding in &outcome.findings {
                let file = crate::context::relative(&finding.file)
                    .display()
                    .to_string();
                let key = (file, finding.line, finding.column, finding.rule.id());
                let entry = found.entry(key).or_insert((finding, &report.name, 0));
                entry.2 += 1;
                if (finding.severity, finding.rows) > (entry.0.severity, entry.0.rows) {
                    entry.0 = finding;
                    entry.1 = &report.name;
                }
            }
        }
        (found, counts)
    }

    pub(super) fn lint_text(&self) -> String {
        let (found, [statements, unchecked, ignored]) = self.grouped();
        let mut lines = Vec::new();
        let (mut errors, mut warnings) = (0, 0);
        for ((file, line, column, rule), (finding, worst, count)) in &found {
            // Statements the parser could not read are counted below; -v lists them.
            if finding.severity == Severity::Info && !self.every_name {
                continue;
            }
            let severity = match finding.severity {
                Severity::Error => {
                    errors += 1;
                    "error"
                }
                Severity::Warning => {
                    warnings += 1;
                    "warning"
                }
                Severity::Info => "info",
            };
            let mut head = format!(
                "{}:{line}:{column}: {severity}[{rule}]: {}",
                controls(file),
                controls(&finding.message)
            );
            if *count > 1 {
                head.push_str(&format!(
                    " (in {count} databases; worst: {})",
                    controls(worst)
                ));
            }
            lines.push(head);
            if finding.severity != Severity::Info {
                lines.push(format!("  why: {}", finding.why));
                lines.push(format!("  fix: {}", finding.fix));
            }
        }
        let databases = self
            .databases
            .iter()
            .filter(|r| r.detail.lint().is_some())
            .count();
        lines.push(format!(
            "{statements} statement(s) of {databases} database(s) checked: {errors} error(s), {warnings} warning(s), {unchecked} not checked, {ignored} ignored"
        ));
        lines.join("\n")
    }
}
