//! `not-null-without-default`: A `NOT NULL` column without a default added to an existing table.

use super::{Rows, Rule, RuleDef, Severity};
use crate::lint::{AddedColumn, FileLint, Subject};
use sqlparser::ast::AlterTableOperation;

pub(super) const RULE: RuleDef = RuleDef {
    rule: Rule::NotNullWithoutDefault,
    id: "not-null-without-default",
    severity: Severity::Error,
    rows: Rows::FailsOn,
    why: "a NOT NULL column without a default cannot be added to a table that has rows: the migration fails on every database with data",
    fix: "give it a default, or add it nullable, backfill, then set NOT NULL",
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
    let added = AddedColumn::of(column_def);
    let locks = file.locks();
    // Where an identity, serial or generated column is filled for every row, that is a
    // rewrite (`volatile-default`), not a missing default.
    let filled = locks.rewrites_on_alter && added.generated;
    if added.not_null && added.default.is_none() && !filled && !locks.implicit_not_null_default {
        file.on_existing(
            RULE.rule,
            offset,
            table,
            format!(
                "NOT NULL column `{}` added to `{table}` without a default",
                column_def.name.value
            ),
        );
    }
    false
}
