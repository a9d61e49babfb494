//! `no-lock-timeout`: PostgreSQL: a lock-taking statement in a file that sets no `lock_timeout`.

use super::{Rows, Rule, RuleDef, Severity};
use crate::lint::{FileLint, Subject, table_name};
use sqlparser::ast::Statement;

pub(super) const RULE: RuleDef = RuleDef {
    rule: Rule::NoLockTimeout,
    id: "no-lock-timeout",
    severity: Severity::Warning,
    rows: Rows::NotAbout,
    why: "a DDL statement queues behind any long transaction on its table, and every query after it queues behind it: without lock_timeout, one slow reader stops the table",
    fix: "SET lock_timeout = '5s' at the top of the file (or in `init_sql`), so that the migration fails fast and can be retried",
    check: Some(check),
};

fn check(file: &mut FileLint, subject: &Subject, offset: usize) -> bool {
    let table = match subject {
        Subject::Statement(Statement::CreateIndex(index)) => table_name(&index.table_name),
        Subject::Statement(Statement::AlterTable(alter)) => table_name(&alter.name),
        _ => return false,
    };
    if !file.locks().lock_timeout
        || file.lock_timeout
        || file.warned_lock_timeout
        || file.seen.created.contains(&table)
    {
        return false;
    }
    // Once a file: the fix is one line at its top.
    file.warned_lock_timeout = true;
    file.found(
        RULE.rule,
        offset,
        Some(&table),
        format!("`{table}` is locked and the file sets no lock_timeout"),
    );
    false
}
