//! `table-rebuild`: SQLite: a table rebuilt by hand (copied to a new table, dropped, the copy renamed).

use super::{Rows, Rule, RuleDef, Severity};
use crate::lint::{FileLint, Subject};
use sqlparser::ast::AlterTableOperation;

pub(super) const RULE: RuleDef = RuleDef {
    rule: Rule::TableRebuild,
    id: "table-rebuild",
    severity: Severity::Warning,
    rows: Rows::NotAbout,
    why: "the whole table is copied while the database's write lock is held, and with foreign keys enforced, dropping the old table deletes or fails on the rows that refer to it",
    fix: "follow SQLite's procedure: foreign keys off (skein's default), the copy and rename in one transaction, `PRAGMA foreign_key_check` before the commit (as skein runs it); on a large table, run it when writers can wait",
    check: Some(check),
};

fn check(file: &mut FileLint, subject: &Subject, offset: usize) -> bool {
    let _ = offset;
    // The driver found the rebuild: a copy renamed to the name of a table this file
    // dropped is one change to that table, not a drop and a rename.
    if let Subject::Operation {
        table,
        operation: AlterTableOperation::RenameTable { .. },
    } = subject
        && let Some(rebuilt) = file.rebuild.clone()
    {
        file.found(
            RULE.rule,
            rebuilt.drop_offset,
            Some(&rebuilt.table),
            format!(
                "`{}` is rebuilt (dropped, and `{table}` renamed to it)",
                rebuilt.table
            ),
        );
    }
    false
}
