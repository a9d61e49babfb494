//! `rename`: `RENAME` of a table or column.

use super::{Rows, Rule, RuleDef, Severity};
use crate::lint::{FileLint, Subject, table_name};
use sqlparser::ast::{AlterTableOperation, Statement};

pub(super) const RULE: RuleDef = RuleDef {
    rule: Rule::Rename,
    id: "rename",
    severity: Severity::Warning,
    rows: Rows::NotAbout,
    why: "the code that is still running uses the old name and fails from the moment the migration commits",
    fix: "add the new name alongside (a new column, or a view with the old name), move the code, then remove the old one",
    check: Some(check),
};

fn check(file: &mut FileLint, subject: &Subject, offset: usize) -> bool {
    let mut renamed = Vec::new();
    match subject {
        Subject::Statement(Statement::RenameTable(renames)) => {
            for rename in renames {
                let table = table_name(&rename.old_name);
                renamed.push((table.clone(), format!("table `{table}` renamed")));
            }
        }
        Subject::Operation { table, operation } => match operation {
            AlterTableOperation::ChangeColumn {
                old_name, new_name, ..
            } if old_name.value != new_name.value => renamed.push((
                table.to_string(),
                format!(
                    "column `{table}`.`{}` renamed to `{}`",
                    old_name.value, new_name.value
                ),
            )),
            AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => renamed.push((
                table.to_string(),
                format!(
                    "column `{table}`.`{}` renamed to `{}`",
                    old_column_name.value, new_column_name.value
                ),
            )),
            // A SQLite rebuild is `table-rebuild`, not a rename.
            AlterTableOperation::RenameTable { .. } if file.rebuild.is_none() => {
                renamed.push((table.to_string(), format!("table `{table}` renamed")));
            }
            _ => {}
        },
        _ => {}
    }
    for (table, message) in renamed {
        file.found(RULE.rule, offset, Some(&table), message);
    }
    false
}
