//! `foreign-key-on-existing`: MySQL: a foreign key added to an existing table.

use super::{Rows, Rule, RuleDef, Severity};
use crate::lint::{FileLint, Subject};
use sqlparser::ast::{AlterTableOperation, TableConstraint};

pub(super) const RULE: RuleDef = RuleDef {
    rule: Rule::ForeignKeyOnExisting,
    id: "foreign-key-on-existing",
    severity: Severity::Error,
    rows: Rows::LockOn,
    why: "adding a foreign key to a table with rows copies the table (ALGORITHM=COPY) unless foreign_key_checks is off",
    fix: "SET foreign_key_checks = 0 for the statement (ALGORITHM=INPLACE), after checking the data yourself",
    check: Some(check),
};

fn check(file: &mut FileLint, subject: &Subject, offset: usize) -> bool {
    if let Subject::Operation {
        table,
        operation:
            AlterTableOperation::AddConstraint {
                constraint: TableConstraint::ForeignKey(_),
                ..
            },
    } = subject
        && file.locks().foreign_key_copies
        && !file.foreign_key_checks_off
    {
        file.on_existing(
            RULE.rule,
            offset,
            table,
            format!("foreign key added to `{table}`"),
        );
    }
    false
}
