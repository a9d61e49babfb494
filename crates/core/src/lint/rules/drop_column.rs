//! `drop-column`: `DROP COLUMN`.

use super::{Rows, Rule, RuleDef, Severity};
use crate::lint::{FileLint, Subject};
use sqlparser::ast::AlterTableOperation;

pub(super) const RULE: RuleDef = RuleDef {
    rule: Rule::DropColumn,
    id: "drop-column",
    severity: Severity::Error,
    rows: Rows::NotAbout,
    why: "the column's data is lost, and code still reading it fails",
    fix: "stop the code using it first, deploy, then drop it in a later migration (after a backup if the data matters)",
    check: Some(check),
};

fn check(file: &mut FileLint, subject: &Subject, offset: usize) -> bool {
    if let Subject::Operation {
        table,
        operation: AlterTableOperation::DropColumn { column_names, .. },
    } = subject
    {
        for column in column_names {
            file.found(
                RULE.rule,
                offset,
                Some(table),
                format!("column `{table}`.`{}` dropped", column.value),
            );
        }
    }
    false
}
