//! `constraint-without-index`: PostgreSQL: `UNIQUE` or `PRIMARY KEY` added without `USING INDEX`.

use super::{Rows, Rule, RuleDef, Severity};
use crate::lint::{FileLint, Subject};
use sqlparser::ast::{AlterTableOperation, TableConstraint};

pub(super) const RULE: RuleDef = RuleDef {
    rule: Rule::ConstraintWithoutIndex,
    id: "constraint-without-index",
    severity: Severity::Error,
    rows: Rows::LockOn,
    why: "adding UNIQUE or PRIMARY KEY builds its index under an ACCESS EXCLUSIVE lock",
    fix: "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX",
    check: Some(check),
};

fn check(file: &mut FileLint, subject: &Subject, offset: usize) -> bool {
    if let Subject::Operation {
        table,
        operation:
            AlterTableOperation::AddConstraint {
                constraint: TableConstraint::Unique(_) | TableConstraint::PrimaryKey(_),
                ..
            },
    } = subject
        && file.locks().constraint_index_under_lock
    {
        file.on_existing(
            RULE.rule,
            offset,
            table,
            format!("UNIQUE or PRIMARY KEY added to `{table}` without USING INDEX"),
        );
    }
    false
}
