//! What `inspect` and `converge` say of a live schema: the types they add to a database's
//! report, and their human (and SQL) renderings.

use super::detail::ConvergeDetail;
use super::{DatabaseReport, Detail, Report, version_text};
use crate::escape::controls;
use crate::redact;
use comfy_table::{Table, presets};
use schemars::JsonSchema;
use serde::Serialize;
use skein_core::dialect::Dialect;
use skein_core::schema::Schema;
use skein_core::schema::converge::{ConvergeOutcome, ConvergePlan};
use skein_core::schema::diff::Difference;
use skein_core::schema::render::column_sql;

/// `inspect`: a database's live schema, normalised.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SchemaInfo {
    pub dialect: Dialect,
    pub fingerprint: String,
    pub schema: Schema,
}

/// `converge`: what would bring the database to its migrations' schema, and what applying
/// it did.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ConvergeInfo {
    pub plan: ConvergePlan,
    /// `null` without `--apply`, or when there was nothing to apply.
    pub applied: Option<ConvergeOutcome>,
    #[serde(skip)]
    pub allow_destructive: bool,
    /// The plan runs in one transaction (not on MySQL, whose DDL commits as it runs).
    #[serde(skip)]
    pub transactional: bool,
}

/// Text from outside skein (names and definitions from the live database).
fn outside(text: &str) -> String {
    controls(text).into_owned()
}

/// `inspect`'s output for people, or with `sql` the schema as SQL.
pub(super) fn inspect(report: &Report, sql: bool) {
    for db in &report.databases {
        let Detail::Inspect(info) = &db.detail else {
            continue;
        };
        if sql {
            let dump = info
                .dialect
                .backend()
                .dump(&info.schema)
                .unwrap_or_default();
            redact::out_raw(&dump);
        } else {
            redact::out(&inspect_text(&db.name, info));
        }
    }
}

fn inspect_text(name: &str, info: &SchemaInfo) -> String {
    let schema = &info.schema;
    let mut lines = vec![format!(
        "{name}: fingerprint {}, {} table(s), {} view(s), {} enum type(s), {} function(s)",
        info.fingerprint,
        schema.tables.len(),
        schema.views.len(),
        schema.enums.len(),
        schema.functions.len()
    )];
    for (table_name, table) in &schema.tables {
        let mut grid = Table::new();
        grid.load_preset(presets::NOTHING);
        for (column, definition) in table.ordered_columns() {
            grid.add_row(["  ".to_owned(), outside(&column_sql(column, definition))]);
        }
        for constraint in table.constraints.values() {
            grid.add_row(["  ".to_owned(), outside(&constraint.definition)]);
        }
        for index in table.indexes.values() {
            grid.add_row([
                "  ".to_owned(),
                outside(&format!("index {}: {}", index.name, index.definition)),
            ]);
        }
        lines.push(format!("\ntable {}\n{grid}", outside(table_name)));
    }
    for (enum_name, values) in &schema.enums {
        let values = values.join(", ");
        lines.push(format!(
            "\nenum {}",
            outside(&format!("{enum_name}: {values}"))
        ));
    }
    for view_name in schema.views.keys() {
        lines.push(format!("view {}", outside(view_name)));
    }
    for function in schema.functions.keys() {
        lines.push(format!("function {}", outside(function)));
    }
    lines.join("\n")
}

/// `converge`'s output for people: each plan once for the databases that share it, then
/// what applying it did to each.
pub(super) fn converge(report: &Report) {
    let mut groups: Vec<Vec<(&DatabaseReport, &ConvergeInfo)>> = Vec::new();
    for db in &report.databases {
        let Detail::Converge(ConvergeDetail { converge: info, .. }) = &db.detail else {
            continue;
        };
        let same = |(_, other): &(&DatabaseReport, &ConvergeInfo)| {
            other.plan.fingerprint == info.plan.fingerprint
                && other.plan.expected_fingerprint == info.plan.expected_fingerprint
        };
        match groups
            .iter_mut()
            .find(|group| group.first().is_some_and(same))
        {
            Some(group) => group.push((db, info)),
            None => groups.push(vec![(db, info)]),
        }
    }
    for group in groups {
        let (_, info) = group[0];
        let names: Vec<&str> = group.iter().map(|(db, _)| db.name.as_str()).collect();
        let who = match names.as_slice() {
            [one] => outside(one),
            many => format!(
                "{} databases share this plan ({})",
                many.len(),
                outside(&many.join(", "))
            ),
        };
        redact::out(&plan_text(&who, &info.plan, info.allow_destructive));
        if !info.transactional && !info.plan.is_empty() {
            redact::out(
                "-- MySQL commits DDL as it runs: the steps run one by one, and if one fails the steps before it stay",
            );
        }
        if group.iter().all(|(_, info)| info.applied.is_none()) && !info.plan.is_empty() {
            redact::out("run it with --apply");
        }
        for (db, info) in group {
            applied_lines(db, info);
        }
    }
}

fn applied_lines(db: &DatabaseReport, info: &ConvergeInfo) {
    let plan = &info.plan;
    match &info.applied {
        Some(ConvergeOutcome::Converged {
            statements: 0,
            stamped,
        }) if !stamped.is_empty() => redact::out(&format!(
            "{}: history recorded to {} ({} version(s), as baseline)",
            db.name,
            version_text(plan.head),
            stamped.len()
        )),
        Some(ConvergeOutcome::Converged { statements: 0, .. }) => {}
        Some(ConvergeOutcome::Converged {
            statements,
            stamped,
        }) => redact::out(&format!(
            "{}: converged: {statements} statement(s) run, fingerprint now {}, history stamped to {} ({} version(s) recorded)",
            db.name,
            plan.expected_fingerprint,
            version_text(plan.head),
            stamped.len()
        )),
        Some(ConvergeOutcome::StillDiffers { remaining }) => {
            redact::err(&if info.transactional {
                format!(
                    "{}: not converged; nothing was committed. What would remain:",
                    db.name
                )
            } else {
                format!(
                    "{}: not converged; the statements that ran stay (MySQL commits DDL as it runs). What remains:",
                    db.name
                )
            });
            for difference in remaining {
                let hint = if difference.destructive && !info.allow_destructive {
                    " (destructive: pass --allow-destructive)"
                } else {
                    ""
                };
                redact::err(&format!("  - {}{hint}", outside(&difference.description)));
            }
        }
        None => {}
    }
}

fn plan_text(name: &str, plan: &ConvergePlan, allow_destructive: bool) -> String {
    if plan.is_empty() {
        return format!(
            "{name}: already has the schema of its migrations (fingerprint {})",
            plan.fingerprint
        );
    }
    let mut lines = vec![format!(
        "{name}: fingerprint {}, expected {}: {} additive, {} destructive, {} manual step(s)",
        plan.fingerprint,
        plan.expected_fingerprint,
        plan.additive.len(),
        plan.destructive.len(),
        plan.manual.len()
    )];
    let mut section = |title: &str, differences: &[Difference]| {
        if differences.is_empty() {
            return;
        }
        lines.push(format!("-- {title}"));
        for difference in differences {
            lines.push(format!("-- {}", outside(&difference.description)));
            if let Some(sql) = &difference.sql {
                lines.extend(sql.split('\n').map(outside));
            }
        }
    };
    section("additive", &plan.additive);
    let destructive_title = if allow_destructive {
        "destructive"
    } else {
        "destructive (only with --allow-destructive)"
    };
    section(destructive_title, &plan.destructive);
    section("manual (SQL cannot do these; a person must)", &plan.manual);
    lines.join("\n")
}
