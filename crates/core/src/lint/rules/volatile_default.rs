//! `volatile-default`: PostgreSQL: `ADD COLUMN` with a volatile default.

use super::{Rows, Rule, RuleDef, Severity};
use crate::lint::{AddedColumn, FileLint, Subject};
use sqlparser::ast::AlterTableOperation;

pub(super) const RULE: RuleDef = RuleDef {
    rule: Rule::VolatileDefault,
    id: "volatile-default",
    severity: Severity::Error,
    rows: Rows::LockOn,
    why: "a volatile default (random(), clock_timestamp(), gen_random_uuid()...) is computed for every row: the table is rewritten under an ACCESS EXCLUSIVE lock",
    fix: "add the column without a default (or with a constant), then backfill in batches",
    check: Some(check),
};

fn check(file: &mut FileLint, subject: &Subject, offset: usize) -> bool {
    let Subject::Operation {
        table,
        operation: AlterTableOperation::AddColumn { column_def, .. },
    } = subject
    else {
        return false;
    };
    if !file.locks().rewrites_on_alter {
        return false;
    }
    let added = AddedColumn::of(column_def);
    let column = &column_def.name.value;
    if added.generated {
        file.on_existing(
            RULE.rule,
            offset,
            table,
            format!(
                "column `{column}` added to `{table}` is filled for every row (identity, serial or generated)"
            ),
        );
    } else if added.default.as_deref().is_some_and(is_volatile) {
        file.on_existing(
            RULE.rule,
            offset,
            table,
            format!("column `{column}` added to `{table}` with a volatile default"),
        );
    }
    false
}

/// A default that PostgreSQL computes for every row.
fn is_volatile(default: &str) -> bool {
    let lower = default.to_ascii_lowercase();
    [
        "random(",
        "clock_timestamp(",
        "gen_random_uuid(",
        "uuid_generate_v1",
        "uuid_generate_v4(",
        "timeofday(",
        "nextval(",
    ]
    .iter()
    .any(|f| lower.contains(f))
}
