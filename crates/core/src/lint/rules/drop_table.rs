//! `drop-table`: `DROP TABLE`.

use super::{Rows, Rule, RuleDef, Severity};
use crate::lint::{FileLint, Subject, table_name};
use sqlparser::ast::{ObjectType, Statement};

pub(super) const RULE: RuleDef = RuleDef {
    rule: Rule::DropTable,
    id: "drop-table",
    severity: Severity::Error,
    rows: Rows::NotAbout,
    why: "the table's data is lost, and code still reading it fails",
    fix: "stop the code using it first, deploy, then drop it in a later migration (after a backup if the data matters)",
    check: Some(check),
};

fn check(file: &mut FileLint, subject: &Subject, offset: usize) -> bool {
    if let Subject::Statement(Statement::Drop {
        object_type: ObjectType::Table,
        names,
        ..
    }) = subject
    {
        for name in names {
            let table = table_name(name);
            file.found(
                RULE.rule,
                offset,
                Some(&table),
                format!("DROP TABLE `{table}`"),
            );
        }
    }
    false
}
