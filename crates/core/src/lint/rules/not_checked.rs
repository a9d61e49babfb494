//! `not-checked`: A statement the parser could not read.

use super::{Rows, Rule, RuleDef, Severity};

pub(super) const RULE: RuleDef = RuleDef {
    rule: Rule::NotChecked,
    id: "not-checked",
    severity: Severity::Info,
    rows: Rows::NotAbout,
    why: "the statement could not be parsed, so no rule looked at it",
    fix: "check it by hand, or mark it `-- skein:lint-ignore not-checked <reason>`",
    // Found by the linter itself, for a statement it cannot parse.
    check: None,
};
