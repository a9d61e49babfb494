//! `template-placeholder`: A model template's `{{ variable }}` put into the SQL without `literal` or `ident`.

use super::{Rows, Rule, RuleDef, Severity};

pub(super) const RULE: RuleDef = RuleDef {
    rule: Rule::TemplatePlaceholder,
    id: "template-placeholder",
    severity: Severity::Warning,
    rows: Rows::NotAbout,
    why: "a variable's value (a names_from row, [models.vars]) goes into the SQL as it is: a value with a quote changes the statement, or runs SQL of its own",
    fix: "write `{{ name | literal }}` for a value (a quoted string) or `{{ name | ident }}` for a table or column name",
    // Found by `skein lint` over a model template (the command line).
    check: None,
};
