//! The lint rules, one file each: its id, its default severity, how a table's rows bear on
//! it, why the statement is dangerous, what to do instead, and the check that finds it.
//! [`RULES`] lists them once, in the order they are documented.

mod column_type_change;
mod concurrent_in_transaction;
mod constraint_not_validated;
mod constraint_without_index;
mod drop_column;
mod drop_table;
mod foreign_key_on_existing;
mod index_not_concurrent;
mod missing_down;
mod no_lock_timeout;
mod not_checked;
mod not_null_without_default;
mod rename;
mod set_not_null;
mod table_rebuild;
mod table_rewrite;
mod template_placeholder;
mod unbounded_write_with_ddl;
mod volatile_default;

use super::{FileLint, Subject};
#[cfg(test)]
pub(crate) use column_type_change::rewrites;
use schemars::JsonSchema;
use serde::Serialize;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// A rule, as `-- skein:lint-ignore <id>` and the JSON name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// PostgreSQL: `CREATE INDEX` without `CONCURRENTLY` on an existing table.
    IndexNotConcurrent,
    /// PostgreSQL: `CREATE INDEX CONCURRENTLY` in a file that runs in a transaction.
    ConcurrentInTransaction,
    /// PostgreSQL: a foreign key or CHECK added without `NOT VALID`.
    ConstraintNotValidated,
    /// PostgreSQL: `SET NOT NULL` on an existing column.
    SetNotNull,
    /// `ALTER COLUMN ... TYPE` (MySQL: `MODIFY`/`CHANGE` with a new type).
    ColumnTypeChange,
    /// PostgreSQL: `ADD COLUMN` with a volatile default.
    VolatileDefault,
    /// A `NOT NULL` column without a default added to an existing table.
    NotNullWithoutDefault,
    /// PostgreSQL: `UNIQUE` or `PRIMARY KEY` added without `USING INDEX`.
    ConstraintWithoutIndex,
    /// PostgreSQL: `VACUUM FULL` or `CLUSTER`.
    TableRewrite,
    /// PostgreSQL: a lock-taking statement in a file that sets no `lock_timeout`.
    NoLockTimeout,
    /// `UPDATE` or `DELETE` without `WHERE` in the same transaction as DDL.
    UnboundedWriteWithDdl,
    /// MySQL: a foreign key added to an existing table.
    ForeignKeyOnExisting,
    /// SQLite: a table rebuilt by hand (copied to a new table, dropped, the copy renamed).
    TableRebuild,
    /// `DROP TABLE`.
    DropTable,
    /// `DROP COLUMN`.
    DropColumn,
    /// `RENAME` of a table or column.
    Rename,
    /// An up file without a down where the others have one.
    MissingDown,
    /// A model template's `{{ variable }}` put into the SQL without `literal` or `ident`.
    TemplatePlaceholder,
    /// A statement the parser could not read.
    NotChecked,
}

/// How the rows of the table a statement changes bear on a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// Not at all.
    NotAbout,
    /// A lock held on rows: a table the migrations create has none (no finding), and a
    /// small one makes the finding a warning.
    LockOn,
    /// The statement fails on a table with any row: a table the migrations create has
    /// none, but a row-count estimate cannot promise there are none, so it stays an error.
    FailsOn,
}

/// Looks at one subject (at `offset` of the file) and records what it finds; returns
/// whether it read a statement the parser could not (so that it is not `not-checked`).
pub(crate) type Check = fn(&mut FileLint<'_, '_>, &Subject<'_>, usize) -> bool;

/// One rule, whole.
pub struct RuleDef {
    pub rule: Rule,
    /// As `-- skein:lint-ignore <id>` and the JSON write it.
    pub id: &'static str,
    /// The severity when nothing else is known (no table size, no configuration).
    pub severity: Severity,
    pub rows: Rows,
    /// Why the statement is dangerous.
    pub why: &'static str,
    /// The safe way.
    pub fix: &'static str,
    /// `None` for a rule found elsewhere (`not-checked` by the linter itself,
    /// `template-placeholder` over a model template).
    pub(crate) check: Option<Check>,
}

/// Every rule, once, in the order they are documented (and of [`Rule`]'s variants).
pub const RULES: [&RuleDef; 19] = [
    &index_not_concurrent::RULE,
    &concurrent_in_transaction::RULE,
    &constraint_not_validated::RULE,
    &set_not_null::RULE,
    &column_type_change::RULE,
    &volatile_default::RULE,
    &not_null_without_default::RULE,
    &constraint_without_index::RULE,
    &table_rewrite::RULE,
    &no_lock_timeout::RULE,
    &unbounded_write_with_ddl::RULE,
    &foreign_key_on_existing::RULE,
    &table_rebuild::RULE,
    &drop_table::RULE,
    &drop_column::RULE,
    &rename::RULE,
    &missing_down::RULE,
    &template_placeholder::RULE,
    &not_checked::RULE,
];

/// Every rule, in the order they are documented.
pub const ALL: [Rule; 19] = {
    let mut all = [Rule::NotChecked; 19];
    let mut i = 0;
    while i < RULES.len() {
        all[i] = RULES[i].rule;
        i += 1;
    }
    all
};

impl Rule {
    /// Its definition.
    pub fn def(self) -> &'static RuleDef {
        RULES[self as usize]
    }

    /// The id, as written in `-- skein:lint-ignore` and in the JSON.
    pub fn id(self) -> &'static str {
        self.def().id
    }

    pub fn from_id(id: &str) -> Option<Rule> {
        RULES
            .iter()
            .find(|rule| rule.id == id)
            .map(|rule| rule.rule)
    }

    /// The severity when nothing else is known (no table size, no configuration).
    pub fn severity(self) -> Severity {
        self.def().severity
    }

    /// Whether the rule is about a table that already has rows: it does not apply to a
    /// table the same migrations create.
    pub fn is_about_existing_rows(self) -> bool {
        self.def().rows != Rows::NotAbout
    }

    /// Whether a small table makes the rule a warning: a lock held briefly is harmless.
    pub fn is_lock_on_existing_rows(self) -> bool {
        self.def().rows == Rows::LockOn
    }

    /// Why the statement is dangerous.
    pub fn why(self) -> &'static str {
        self.def().why
    }

    /// The safe way.
    pub fn fix(self) -> &'static str {
        self.def().fix
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_and_the_names_agree() {
        for (i, rule) in RULES.iter().enumerate() {
            assert_eq!(rule.rule as usize, i, "{} is out of place", rule.id);
            let json = serde_json::to_value(rule.rule).unwrap();
            assert_eq!(json, rule.id, "the JSON name is the id");
            assert_eq!(Rule::from_id(rule.id), Some(rule.rule));
        }
        assert_eq!(ALL.len(), RULES.len());
    }
}
