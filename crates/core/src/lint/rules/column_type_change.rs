//! `column-type-change`: `ALTER COLUMN ... TYPE` (MySQL: `MODIFY`/`CHANGE` with a new type).

use super::{Rows, Rule, RuleDef, Severity};
use crate::lint::{FileLint, Subject};
use sqlparser::ast::{AlterColumnOperation, AlterTableOperation};

pub(super) const RULE: RuleDef = RuleDef {
    rule: Rule::ColumnTypeChange,
    id: "column-type-change",
    severity: Severity::Error,
    rows: Rows::LockOn,
    why: "changing a column's type rewrites the table and its indexes under an ACCESS EXCLUSIVE lock (unless the new type is binary-compatible)",
    fix: "add a new column, backfill it in batches, switch the code over, then drop the old one",
    check: Some(check),
};

fn check(file: &mut FileLint, subject: &Subject, offset: usize) -> bool {
    let Subject::Operation { table, operation } = subject else {
        return false;
    };
    let message = match operation {
        AlterTableOperation::AlterColumn {
            column_name,
            op:
                AlterColumnOperation::SetDataType {
                    data_type, using, ..
                },
        } if file.locks().rewrites_on_alter => {
            let key = (table.to_string(), column_name.value.to_lowercase());
            // Only widening a length or a precision keeps the table as it is.
            let widens = using.is_none()
                && !file.seen.retyped.contains(&key)
                && file
                    .input
                    .live
                    .columns
                    .get(&key)
                    .is_some_and(|old| !rewrites(old, &data_type.to_string()));
            if widens {
                return false;
            }
            format!(
                "`{table}`.`{}` changes type to {data_type}",
                column_name.value
            )
        }
        AlterTableOperation::ModifyColumn { col_name, .. } => {
            format!("`{table}`.`{}` is redefined (MODIFY)", col_name.value)
        }
        AlterTableOperation::ChangeColumn { old_name, .. } => {
            format!("`{table}`.`{}` is redefined (CHANGE)", old_name.value)
        }
        _ => return false,
    };
    file.on_existing(RULE.rule, offset, table, message);
    false
}

/// Whether PostgreSQL rewrites a column changed from `old` to `new` (types as
/// `format_type` and sqlparser write them). Not when the new type only widens a length
/// or a precision, or drops it (`varchar(20)` to `varchar(40)`, `varchar` or `text`;
/// `numeric(10,2)` to `numeric(12,2)`): those are binary-compatible.
pub(crate) fn rewrites(old: &str, new: &str) -> bool {
    /// The type's name, its arguments, and what follows them (`[]`, `with time zone`).
    fn parts(t: &str) -> (String, Vec<u32>, String) {
        let t = t
            .to_lowercase()
            .replace("character varying", "varchar")
            .replace("decimal", "numeric");
        let (name, args, rest) = match t.split_once('(') {
            Some((name, rest)) => {
                let (args, after) = rest.split_once(')').unwrap_or((rest, ""));
                (
                    name.trim().to_owned(),
                    args.to_owned(),
                    after.trim().to_owned(),
                )
            }
            None => (t.trim().to_owned(), String::new(), String::new()),
        };
        let args = args
            .split(',')
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        (name, args, rest)
    }
    let (old_name, old_args, old_rest) = parts(old);
    let (new_name, new_args, new_rest) = parts(new);
    if old_rest != new_rest {
        return true;
    }
    let text_like = |n: &str| n == "varchar" || n == "text";
    match (old_name.as_str(), new_name.as_str()) {
        (o, n) if text_like(o) && n == "text" => false,
        ("varchar", "varchar") => match (old_args.first(), new_args.first()) {
            (_, None) => false,
            (Some(o), Some(n)) => n < o,
            (None, Some(_)) => true,
        },
        ("text", "varchar") => !new_args.is_empty(),
        ("numeric", "numeric") => match (old_args.as_slice(), new_args.as_slice()) {
            (_, []) => false,
            ([op, os], [np, ns]) => !(np >= op && ns == os),
            ([op], [np]) => np < op,
            _ => true,
        },
        (o, n) => o != n || old_args != new_args,
    }
}
