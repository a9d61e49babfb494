//! `missing-down`: An up file without a down where the others have one.

use super::{Rows, Rule, RuleDef, Severity};
use crate::lint::{FileLint, Subject};

pub(super) const RULE: RuleDef = RuleDef {
    rule: Rule::MissingDown,
    id: "missing-down",
    severity: Severity::Warning,
    rows: Rows::NotAbout,
    why: "the other migrations can be reverted; this one cannot, so `skein down` stops at it",
    fix: "write its .down.sql, or name it <version>_<name>.sql if it is meant to be irreversible",
    check: Some(check),
};

fn check(file: &mut FileLint, subject: &Subject, offset: usize) -> bool {
    let migration = file.migration;
    if let Subject::File = subject
        && file.others_have_downs
        && migration.down.is_none()
        && migration.up.path.to_string_lossy().ends_with(".up.sql")
    {
        file.found(RULE.rule, offset, None, "it has no .down.sql".to_owned());
    }
    false
}
