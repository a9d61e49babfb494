//! The report for people: tables and lines of text. The JSON renderer is serde's. Text
//! from outside skein (names, descriptions, history rows, server and schema texts) goes
//! through [`outside`], so that it cannot reach the terminal as control characters.

use super::{DatabaseReport, DriftInfo, Report, Status, version_text};
use crate::escape::controls;
use comfy_table::{Table, presets};

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
        Status::Skipped => "skipped",
    }
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 database".to_owned()
    } else {
        format!("{n} databases")
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
fn thousands(n: usize) -> String {
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

impl Report {
    pub(super) fn status_table(&self) -> String {
        let mut table = table();
        table.set_header(["database", "version", "head", "pending", "status"]);
        for db in &self.databases {
            table.add_row([
                outside(&db.name),
                version_text(db.version_after),
                version_text(db.head),
                db.pending.map(|p| p.to_string()).unwrap_or_default(),
                status_text(db.status).to_owned(),
            ]);
        }
        let mut text = table.to_string();
        for db in &self.databases {
            for problem in &db.problems {
                text.push_str(&format!(
                    "\n{}: {}",
                    outside(&db.name),
                    outside(&problem.to_string())
                ));
            }
        }
        text
    }

    pub(super) fn run_table(&self) -> String {
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
                outside(&db.name),
                status_text(db.status).to_owned(),
                version,
                db.steps.len().to_string(),
                format!("{ms} ms"),
            ]);
        }
        table.to_string()
    }

    pub(super) fn plan_text(&self) -> String {
        let mut lines = Vec::new();
        for db in &self.databases {
            let Some(plan) = &db.plan else { continue };
            lines.push(format!(
                "{}: {} step(s), {} -> {}",
                outside(&db.name),
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
                    step.version,
                    outside(&step.description)
                ));
            }
        }
        lines.join("\n")
    }

    pub(super) fn history_table(&self) -> String {
        let mut table = table();
        table.set_header(["version", "description", "state", "applied at", "by", "ms"]);
        for db in &self.databases {
            for entry in &db.migrations {
                let applied = entry.applied.as_ref();
                table.add_row([
                    entry.version.to_string(),
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
            let names: Vec<String> = dbs.iter().map(|d| outside(&d.name)).collect();
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
            let drift = dbs[0].drift.as_ref().expect("grouped by drift");
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
            .filter_map(|d| d.drift.as_ref())
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

    pub(super) fn check_text(&self) -> String {
        let mut lines = Vec::new();
        for db in self.databases.iter().filter(|d| d.error.is_none()) {
            if db.findings.is_empty() {
                lines.push(format!("{}: every expect rule holds", outside(&db.name)));
            }
            for finding in &db.findings {
                lines.push(format!(
                    "{}: {}: {}",
                    outside(&db.name),
                    finding.severity,
                    outside(&finding.message)
                ));
            }
        }
        lines.join("\n")
    }

    pub(super) fn create_text(&self) -> String {
        let lines: Vec<String> = self
            .databases
            .iter()
            .filter(|db| db.error.is_none())
            .map(|db| match db.status {
                Status::Ok => format!("{}: created", outside(&db.name)),
                _ => format!("{}: exists", outside(&db.name)),
            })
            .collect();
        lines.join("\n")
    }

    pub(super) fn edits_text(&self) -> String {
        let mut lines = Vec::new();
        for db in &self.databases {
            if db.edits.is_empty() && db.error.is_none() {
                lines.push(format!("{}: nothing to change", outside(&db.name)));
            }
            for edit in &db.edits {
                lines.push(format!(
                    "{}: {} {}: {}",
                    outside(&db.name),
                    edit.version,
                    outside(&edit.description),
                    outside(edit.action)
                ));
            }
        }
        lines.join("\n")
    }
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
}
