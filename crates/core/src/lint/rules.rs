//! The lint rules: each has an id, a default severity, why it is dangerous and what to do
//! instead.

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

/// Every rule, in the order they are documented.
pub const ALL: [Rule; 19] = [
    Rule::IndexNotConcurrent,
    Rule::ConcurrentInTransaction,
    Rule::ConstraintNotValidated,
    Rule::SetNotNull,
    Rule::ColumnTypeChange,
    Rule::VolatileDefault,
    Rule::NotNullWithoutDefault,
    Rule::ConstraintWithoutIndex,
    Rule::TableRewrite,
    Rule::NoLockTimeout,
    Rule::UnboundedWriteWithDdl,
    Rule::ForeignKeyOnExisting,
    Rule::TableRebuild,
    Rule::DropTable,
    Rule::DropColumn,
    Rule::Rename,
    Rule::MissingDown,
    Rule::TemplatePlaceholder,
    Rule::NotChecked,
];

impl Rule {
    /// The id, as written in `-- skein:lint-ignore` and in the JSON.
    pub fn id(self) -> &'static str {
        match self {
            Rule::IndexNotConcurrent => "index-not-concurrent",
            Rule::ConcurrentInTransaction => "concurrent-in-transaction",
            Rule::ConstraintNotValidated => "constraint-not-validated",
            Rule::SetNotNull => "set-not-null",
            Rule::ColumnTypeChange => "column-type-change",
            Rule::VolatileDefault => "volatile-default",
            Rule::NotNullWithoutDefault => "not-null-without-default",
            Rule::ConstraintWithoutIndex => "constraint-without-index",
            Rule::TableRewrite => "table-rewrite",
            Rule::NoLockTimeout => "no-lock-timeout",
            Rule::UnboundedWriteWithDdl => "unbounded-write-with-ddl",
            Rule::ForeignKeyOnExisting => "foreign-key-on-existing",
            Rule::TableRebuild => "table-rebuild",
            Rule::DropTable => "drop-table",
            Rule::DropColumn => "drop-column",
            Rule::Rename => "rename",
            Rule::MissingDown => "missing-down",
            Rule::TemplatePlaceholder => "template-placeholder",
            Rule::NotChecked => "not-checked",
        }
    }

    pub fn from_id(id: &str) -> Option<Rule> {
        ALL.into_iter().find(|rule| rule.id() == id)
    }

    /// The severity when nothing else is known (no table size, no configuration).
    pub fn severity(self) -> Severity {
        match self {
            Rule::NotChecked => Severity::Info,
            Rule::NoLockTimeout
            | Rule::MissingDown
            | Rule::TemplatePlaceholder
            | Rule::Rename
            | Rule::TableRewrite
            | Rule::TableRebuild => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// Whether the rule is about a lock held on a table that already has rows: it does
    /// not apply to a table the same migrations create, and a small table makes it a
    /// warning.
    pub fn is_about_existing_rows(self) -> bool {
        matches!(
            self,
            Rule::IndexNotConcurrent
                | Rule::ConstraintNotValidated
                | Rule::SetNotNull
                | Rule::ColumnTypeChange
                | Rule::VolatileDefault
                | Rule::NotNullWithoutDefault
                | Rule::ConstraintWithoutIndex
                | Rule::ForeignKeyOnExisting
        )
    }

    /// Whether a small table makes the rule a warning: a lock held briefly is harmless,
    /// but a NOT NULL column without a default fails on a table with any row at all, and
    /// a row-count estimate cannot promise there are none.
    pub fn is_lock_on_existing_rows(self) -> bool {
        self.is_about_existing_rows() && self != Rule::NotNullWithoutDefault
    }

    /// Why the statement is dangerous.
    pub fn why(self) -> &'static str {
        match self {
            Rule::IndexNotConcurrent => {
                "CREATE INDEX holds a SHARE lock on the table while it reads every row: writes wait for the whole build"
            }
            Rule::ConcurrentInTransaction => {
                "CREATE INDEX CONCURRENTLY cannot run inside a transaction block; the migration fails"
            }
            Rule::ConstraintNotValidated => {
                "adding a foreign key or CHECK scans every row under a lock that blocks writes (a foreign key locks the referenced table too)"
            }
            Rule::SetNotNull => {
                "SET NOT NULL scans every row under an ACCESS EXCLUSIVE lock: reads and writes wait"
            }
            Rule::ColumnTypeChange => {
                "changing a column's type rewrites the table and its indexes under an ACCESS EXCLUSIVE lock (unless the new type is binary-compatible)"
            }
            Rule::VolatileDefault => {
                "a volatile default (random(), clock_timestamp(), gen_random_uuid()...) is computed for every row: the table is rewritten under an ACCESS EXCLUSIVE lock"
            }
            Rule::NotNullWithoutDefault => {
                "a NOT NULL column without a default cannot be added to a table that has rows: the migration fails on every database with data"
            }
            Rule::ConstraintWithoutIndex => {
                "adding UNIQUE or PRIMARY KEY builds its index under an ACCESS EXCLUSIVE lock"
            }
            Rule::TableRewrite => {
                "VACUUM FULL and CLUSTER rewrite the table under an ACCESS EXCLUSIVE lock"
            }
            Rule::NoLockTimeout => {
                "a DDL statement queues behind any long transaction on its table, and every query after it queues behind it: without lock_timeout, one slow reader stops the table"
            }
            Rule::UnboundedWriteWithDdl => {
                "an UPDATE or DELETE of every row in the transaction of a schema change holds the DDL's lock for as long as the rewrite of every row takes"
            }
            Rule::ForeignKeyOnExisting => {
                "adding a foreign key to a table with rows copies the table (ALGORITHM=COPY) unless foreign_key_checks is off"
            }
            Rule::TableRebuild => {
                "the whole table is copied while the database's write lock is held, and with foreign keys enforced, dropping the old table deletes or fails on the rows that refer to it"
            }
            Rule::DropTable => "the table's data is lost, and code still reading it fails",
            Rule::DropColumn => "the column's data is lost, and code still reading it fails",
            Rule::Rename => {
                "the code that is still running uses the old name and fails from the moment the migration commits"
            }
            Rule::MissingDown => {
                "the other migrations can be reverted; this one cannot, so `skein down` stops at it"
            }
            Rule::TemplatePlaceholder => {
                "a variable's value (a names_from row, [models.vars]) goes into the SQL as it is: a value with a quote changes the statement, or runs SQL of its own"
            }
            Rule::NotChecked => "the statement could not be parsed, so no rule looked at it",
        }
    }

    /// The safe way.
    pub fn fix(self) -> &'static str {
        match self {
            Rule::IndexNotConcurrent => {
                "CREATE INDEX CONCURRENTLY, in a file of its own marked `-- skein:no-transaction`"
            }
            Rule::ConcurrentInTransaction => {
                "put `-- skein:no-transaction` at the top of the file, with the index alone in it"
            }
            Rule::ConstraintNotValidated => {
                "ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a later migration (it takes a weaker lock)"
            }
            Rule::SetNotNull => {
                "add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL (PostgreSQL 12+ uses the check and skips the scan), then drop the check"
            }
            Rule::ColumnTypeChange => {
                "add a new column, backfill it in batches, switch the code over, then drop the old one"
            }
            Rule::VolatileDefault => {
                "add the column without a default (or with a constant), then backfill in batches"
            }
            Rule::NotNullWithoutDefault => {
                "give it a default, or add it nullable, backfill, then set NOT NULL"
            }
            Rule::ConstraintWithoutIndex => {
                "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX"
            }
            Rule::TableRewrite => "use pg_repack, or plain VACUUM",
            Rule::NoLockTimeout => {
                "SET lock_timeout = '5s' at the top of the file (or in `init_sql`), so that the migration fails fast and can be retried"
            }
            Rule::UnboundedWriteWithDdl => {
                "move the backfill to a migration of its own, in batches, outside the schema change's transaction"
            }
            Rule::ForeignKeyOnExisting => {
                "SET foreign_key_checks = 0 for the statement (ALGORITHM=INPLACE), after checking the data yourself"
            }
            Rule::TableRebuild => {
                "follow SQLite's procedure: foreign keys off (skein's default), the copy and rename in one transaction, `PRAGMA foreign_key_check` before the commit (as skein runs it); on a large table, run it when writers can wait"
            }
            Rule::DropTable | Rule::DropColumn => {
                "stop the code using it first, deploy, then drop it in a later migration (after a backup if the data matters)"
            }
            Rule::Rename => {
                "add the new name alongside (a new column, or a view with the old name), move the code, then remove the old one"
            }
            Rule::MissingDown => {
                "write its .down.sql, or name it <version>_<name>.sql if it is meant to be irreversible"
            }
            Rule::TemplatePlaceholder => {
                "write `{{ name | literal }}` for a value (a quoted string) or `{{ name | ident }}` for a table or column name"
            }
            Rule::NotChecked => {
                "check it by hand, or mark it `-- skein:lint-ignore not-checked <reason>`"
            }
        }
    }
}
