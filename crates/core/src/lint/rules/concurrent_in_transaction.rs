//! `concurrent-in-transaction`: PostgreSQL: `CREATE INDEX CONCURRENTLY` in a file that runs in a transaction.

use super::{Rows, Rule, RuleDef, Severity};
use crate::lint::{FileLint, Subject, table_name};
use sqlparser::ast::Statement;

pub(super) const RULE: RuleDef = RuleDef {
    rule: Rule::ConcurrentInTransaction,
    id: "concurrent-in-transaction",
    severity: Severity::Error,
    rows: Rows::NotAbout,
    why: "CREATE INDEX CONCURRENTLY cannot run inside a transaction block; the migration fails",
    fix: "put `-- skein:no-transaction` at the top of the file, with the index alone in it",
    check: Some(check),
};

fn check(file: &mut FileLint, subject: &Subject, offset: usize) -> bool {
    if let Subject::Statement(Statement::CreateIndex(index)) = subject
        && file.locks().concurrent_index
        && index.concurrently
        && file.transactional
    {
        let table = table_name(&index.table_name);
        file.found(
            RULE.rule,
            offset,
            Some(&table),
            "CREATE INDEX CONCURRENTLY in a file that runs in a transaction".to_owned(),
        );
    }
    false
}
