//! The SQL that differs between backends, in one place: the history table's DDL and the
//! statements that record a migration. Drivers execute it; `up --sql` prints it.

use crate::history::HistoryTable;

/// A database backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    /// The dialect of a database URL, by its scheme.
    pub fn of_url(url: &str) -> Option<Dialect> {
        match crate::driver::scheme(url) {
            "postgres" | "postgresql" => Some(Dialect::Postgres),
            "sqlite" => Some(Dialect::Sqlite),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::Sqlite => "sqlite",
        }
    }

    /// Statements that create the history table if it does not exist.
    pub fn create_history(self, table: &HistoryTable) -> Vec<String> {
        let quoted = table.quoted('"');
        let (timestamp, default_now) = match self {
            Dialect::Postgres => ("TIMESTAMPTZ", "now()"),
            Dialect::Sqlite => ("TEXT", "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"),
        };
        let mut statements = Vec::new();
        if let (Some(schema), Dialect::Postgres) = (&table.schema, self) {
            statements.push(format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""));
        }
        statements.push(format!(
            "CREATE TABLE IF NOT EXISTS {quoted} (\n    \
             version BIGINT PRIMARY KEY,\n    \
             description TEXT NOT NULL,\n    \
             checksum TEXT NOT NULL,\n    \
             kind TEXT NOT NULL,\n    \
             applied_at {timestamp} NOT NULL DEFAULT {default_now},\n    \
             applied_by TEXT NOT NULL,\n    \
             execution_ms BIGINT NOT NULL,\n    \
             success BOOLEAN NOT NULL\n)"
        ));
        statements
    }

    /// Selects every history row, `applied_at` as RFC 3339 text.
    pub fn select_history(self, table: &HistoryTable) -> String {
        let applied_at = match self {
            Dialect::Postgres => {
                "to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
            }
            Dialect::Sqlite => "applied_at",
        };
        format!(
            "SELECT version, description, checksum, kind, {applied_at}, applied_by, execution_ms, success \
             FROM {} ORDER BY version",
            table.quoted('"')
        )
    }

    /// Inserts a row; binds: version, description, checksum, kind, applied_by, execution_ms, success.
    pub fn insert_history(self, table: &HistoryTable) -> String {
        format!(
            "INSERT INTO {} (version, description, checksum, kind, applied_by, execution_ms, success) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            table.quoted('"')
        )
    }

    /// Marks a row finished; binds: execution_ms, version.
    pub fn finish_history(self, table: &HistoryTable) -> String {
        let now = match self {
            Dialect::Postgres => "now()",
            Dialect::Sqlite => "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        };
        format!(
            "UPDATE {} SET success = TRUE, execution_ms = $1, applied_at = {now} WHERE version = $2",
            table.quoted('"')
        )
    }

    /// Marks a row unsuccessful; binds: version.
    pub fn fail_history(self, table: &HistoryTable) -> String {
        format!(
            "UPDATE {} SET success = FALSE WHERE version = $1",
            table.quoted('"')
        )
    }

    /// Sets a row's checksum; binds: checksum, version.
    pub fn set_checksum(self, table: &HistoryTable) -> String {
        format!(
            "UPDATE {} SET checksum = $1 WHERE version = $2",
            table.quoted('"')
        )
    }

    /// Deletes a row; binds: version.
    pub fn delete_history(self, table: &HistoryTable) -> String {
        format!("DELETE FROM {} WHERE version = $1", table.quoted('"'))
    }

    /// Counts rows of one version; binds: version.
    pub fn count_version(self, table: &HistoryTable) -> String {
        format!(
            "SELECT COUNT(*) FROM {} WHERE version = $1",
            table.quoted('"')
        )
    }
}

/// The values of a history row, for statements that carry them as literals.
#[derive(Debug, Clone, Copy)]
pub struct HistoryValues<'a> {
    pub version: i64,
    pub description: &'a str,
    pub checksum: &'a str,
    pub kind: &'a str,
    pub applied_by: &'a str,
    pub success: bool,
}

impl Dialect {
    /// An INSERT of a history row with its values as literals, for scripts and batches.
    /// PostgreSQL measures `execution_ms` itself: the time since the transaction began.
    pub fn insert_history_literal(self, table: &HistoryTable, row: HistoryValues<'_>) -> String {
        let execution_ms = match (self, row.success) {
            (Dialect::Postgres, true) => {
                "(extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint"
            }
            _ => "0",
        };
        format!(
            "INSERT INTO {} (version, description, checksum, kind, applied_by, execution_ms, success) \
             VALUES ({}, {}, {}, {}, {}, {execution_ms}, {})",
            table.quoted('"'),
            row.version,
            string_literal(row.description),
            string_literal(row.checksum),
            string_literal(row.kind),
            string_literal(row.applied_by),
            if row.success { "TRUE" } else { "FALSE" },
        )
    }

    /// A DELETE of one version's row, as a literal statement.
    pub fn delete_history_literal(self, table: &HistoryTable, version: i64) -> String {
        format!(
            "DELETE FROM {} WHERE version = {version}",
            table.quoted('"')
        )
    }
}

/// A SQL string literal: single quotes doubled (standard_conforming_strings).
pub fn string_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}
