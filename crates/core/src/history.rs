//! The history table: one row per applied (or stamped) migration.

use crate::dialect::Dialect;
use crate::error::Error;
use crate::migration::Version;
use serde::Serialize;

/// How a history row came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MigrationKind {
    /// Its up script ran.
    Migration,
    /// Recorded by `stamp` without running anything.
    Stamp,
    /// Recorded as the starting point of an existing database.
    Baseline,
    /// A repeatable migration's last application (applied again when its file changes).
    Repeatable,
}

impl MigrationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MigrationKind::Migration => "migration",
            MigrationKind::Stamp => "stamp",
            MigrationKind::Baseline => "baseline",
            MigrationKind::Repeatable => "repeatable",
        }
    }

    /// Reads the `kind` column (a `:down` suffix marks a running down file).
    pub fn parse(text: &str) -> Self {
        match text.strip_suffix(REVERTING_SUFFIX).unwrap_or(text) {
            "stamp" => MigrationKind::Stamp,
            "baseline" => MigrationKind::Baseline,
            "repeatable" => MigrationKind::Repeatable,
            _ => MigrationKind::Migration,
        }
    }
}

/// A row of the history table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct AppliedMigration {
    pub version: Version,
    pub description: String,
    pub checksum: String,
    pub kind: MigrationKind,
    /// As the server printed it (RFC 3339 on every backend).
    pub applied_at: String,
    pub applied_by: String,
    pub execution_ms: i64,
    /// `false`: a non-transactional migration failed (or is running) part-way.
    pub success: bool,
    /// The unfinished step is the down file's (its `kind` has the `:down` suffix).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reverting: bool,
}

/// The suffix of `kind` while a row's down file runs outside a transaction.
pub const REVERTING_SUFFIX: &str = ":down";

/// The history table's name, optionally schema-qualified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryTable {
    pub schema: Option<String>,
    pub name: String,
}

impl Default for HistoryTable {
    fn default() -> Self {
        HistoryTable {
            schema: None,
            name: "skein_history".to_owned(),
        }
    }
}

impl HistoryTable {
    /// Parses `table` or `schema.table`; only plain identifiers, so the name can be
    /// quoted safely into SQL.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let valid = |part: &str| {
            !part.is_empty()
                && part.len() <= 63
                && !part.starts_with(|c: char| c.is_ascii_digit())
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        let (schema, name) = match text.split_once('.') {
            Some((schema, name)) => (Some(schema), name),
            None => (None, text),
        };
        if !valid(name) || schema.is_some_and(|s| !valid(s)) {
            return Err(Error::HistoryTableName(text.to_owned()));
        }
        Ok(HistoryTable {
            schema: schema.map(str::to_owned),
            name: name.to_owned(),
        })
    }

    /// The name quoted for SQL in `dialect`.
    pub fn quoted(&self, dialect: Dialect) -> String {
        let name = dialect.quote_identifier(&self.name);
        match &self.schema {
            Some(schema) => format!("{}.{name}", dialect.quote_identifier(schema)),
            None => name,
        }
    }
}

impl std::fmt::Display for HistoryTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_table_names() {
        assert_eq!(
            HistoryTable::parse("skein_history")
                .unwrap()
                .quoted(Dialect::Postgres),
            "\"skein_history\""
        );
        assert_eq!(
            HistoryTable::parse("ops.history")
                .unwrap()
                .quoted(Dialect::Postgres),
            "\"ops\".\"history\""
        );
        for bad in ["", "a.b.c", "x;drop", "1abc", "a\"b", ".t"] {
            assert!(HistoryTable::parse(bad).is_err(), "{bad}");
        }
    }
}
