//! `set-not-null`: PostgreSQL: `SET NOT NULL` on an existing column.

use super::{Rows, Rule, RuleDef, Severity};
use crate::lint::{FileLint, Subject};
use sqlparser::ast::{AlterColumnOperation, AlterTableOperation};

pub(super) const RULE: RuleDef = RuleDef {
    rule: Rule::SetNotNull,
    id: "set-not-null",
    severity: Severity::Error,
    rows: Rows::LockOn,
    why: "SET NOT NULL scans every row under an ACCESS EXCLUSIVE lock: reads and writes wait",
    fix: "add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL (PostgreSQL 12+ uses the check and skips the scan), then drop the check",
    check: Some(check),
};

fn check(file: &mut FileLint, subject: &Subject, offset: usize) -> bool {
    if let Subject::Operation {
        table,
        operation:
            AlterTableOperation::AlterColumn {
                column_name,
                op: AlterColumnOperation::SetNotNull,
            },
    } = subject
        && file.locks().set_not_null_scans
    {
        let key = (table.to_string(), column_name.value.to_lowercase());
        // A validated CHECK (col IS NOT NULL) lets PostgreSQL skip the scan.
        if !file.seen.checked_not_null.contains(&key) {
            file.on_existing(
                RULE.rule,
                offset,
                table,
                format!("`{table}`.`{}` SET NOT NULL", column_name.value),
            );
        }
    }
    false
}
