//! `unbounded-write-with-ddl`: `UPDATE` or `DELETE` without `WHERE` in the same transaction as DDL.

use super::{Rows, Rule, RuleDef, Severity};
use crate::lint::{FileLint, Subject};
use sqlparser::ast::Statement;

pub(super) const RULE: RuleDef = RuleDef {
    rule: Rule::UnboundedWriteWithDdl,
    id: "unbounded-write-with-ddl",
    severity: Severity::Error,
    rows: Rows::NotAbout,
    why: "an UPDATE or DELETE of every row in the transaction of a schema change holds the DDL's lock for as long as the rewrite of every row takes",
    fix: "move the backfill to a migration of its own, in batches, outside the schema change's transaction",
    check: Some(check),
};

fn check(file: &mut FileLint, subject: &Subject, offset: usize) -> bool {
    let what = match subject {
        Subject::Statement(Statement::Update(update)) if update.selection.is_none() => "UPDATE",
        Subject::Statement(Statement::Delete(delete)) if delete.selection.is_none() => "DELETE",
        _ => return false,
    };
    if file.transactional && file.has_ddl {
        file.found(
            RULE.rule,
            offset,
            None,
            format!("{what} without WHERE in the transaction of a schema change"),
        );
    }
    false
}
