//! `table-rewrite`: PostgreSQL: `VACUUM FULL` or `CLUSTER`.

use super::{Rows, Rule, RuleDef, Severity};
use crate::lint::{FileLint, Subject, first_line};
use sqlparser::ast::Statement;

pub(super) const RULE: RuleDef = RuleDef {
    rule: Rule::TableRewrite,
    id: "table-rewrite",
    severity: Severity::Warning,
    rows: Rows::NotAbout,
    why: "VACUUM FULL and CLUSTER rewrite the table under an ACCESS EXCLUSIVE lock",
    fix: "use pg_repack, or plain VACUUM",
    check: Some(check),
};

fn check(file: &mut FileLint, subject: &Subject, offset: usize) -> bool {
    if !file.locks().rewrite_commands {
        return false;
    }
    match subject {
        Subject::Statement(Statement::Vacuum(vacuum)) if vacuum.full => {
            file.found(
                RULE.rule,
                offset,
                None,
                "VACUUM FULL rewrites the table".to_owned(),
            );
            false
        }
        // Forms the parser does not read: `VACUUM (FULL, ...)`, `CLUSTER`.
        Subject::Unparsed(sql) => {
            let lower = sql.to_ascii_lowercase();
            let first = lower.split_whitespace().next();
            let vacuum_full = first == Some("vacuum") && {
                let rest = lower.trim_start()["vacuum".len()..].trim_start();
                let options = match rest.strip_prefix('(') {
                    Some(inside) => inside.split(')').next().unwrap_or_default(),
                    None => rest.split_whitespace().next().unwrap_or_default(),
                };
                options
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .any(|option| option == "full")
            };
            if vacuum_full || first == Some("cluster") {
                file.found(
                    RULE.rule,
                    offset,
                    None,
                    format!("`{}` rewrites the table", first_line(sql)),
                );
                return true;
            }
            false
        }
        _ => false,
    }
}
