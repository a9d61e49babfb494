//! `constraint-not-validated`: PostgreSQL: a foreign key or CHECK added without `NOT VALID`.

use super::{Rows, Rule, RuleDef, Severity};
use crate::lint::{FileLint, Subject};
use sqlparser::ast::{AlterTableOperation, TableConstraint};

pub(super) const RULE: RuleDef = RuleDef {
    rule: Rule::ConstraintNotValidated,
    id: "constraint-not-validated",
    severity: Severity::Error,
    rows: Rows::LockOn,
    why: "adding a foreign key or CHECK scans every row under a lock that blocks writes (a foreign key locks the referenced table too)",
    fix: "ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a later migration (it takes a weaker lock)",
    check: Some(check),
};

fn check(file: &mut FileLint, subject: &Subject, offset: usize) -> bool {
    if let Subject::Operation {
        table,
        operation:
            AlterTableOperation::AddConstraint {
                constraint: TableConstraint::ForeignKey(_) | TableConstraint::Check(_),
                not_valid: false,
            },
    } = subject
        && file.locks().not_valid_constraints
    {
        file.on_existing(
            RULE.rule,
            offset,
            table,
            format!("constraint added to `{table}` without NOT VALID"),
        );
    }
    false
}
