//! `index-not-concurrent`: PostgreSQL: `CREATE INDEX` without `CONCURRENTLY` on an existing table.

use super::{Rows, Rule, RuleDef, Severity};
use crate::lint::{FileLint, Subject, table_name};
use sqlparser::ast::Statement;

pub(super) const RULE: RuleDef = RuleDef {
    rule: Rule::IndexNotConcurrent,
    id: "index-not-concurrent",
    severity: Severity::Error,
    rows: Rows::LockOn,
    why: "CREATE INDEX holds a SHARE lock on the table while it reads every row: writes wait for the whole build",
    fix: "CREATE INDEX CONCURRENTLY, in a file of its own marked `-- skein:no-transaction`",
    check: Some(check),
};

fn check(file: &mut FileLint, subject: &Subject, offset: usize) -> bool {
    if let Subject::Statement(Statement::CreateIndex(index)) = subject
        && file.locks().concurrent_index
        && !index.concurrently
    {
        let table = table_name(&index.table_name);
        file.on_existing(
            RULE.rule,
            offset,
            &table,
            format!("CREATE INDEX on `{table}` without CONCURRENTLY"),
        );
    }
    false
}
