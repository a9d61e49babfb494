//! The backend's tag, and the SQL of the history table built from what each backend says
//! of itself ([`crate::backend::Backend`]): its DDL and the statements that record a
//! migration. Drivers execute it; `up --sql` prints it. Every identifier skein puts into
//! SQL is quoted by [`Dialect::quote_identifier`].

use crate::history::HistoryTable;

/// A database backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Postgres,
    Sqlite,
    #[serde(rename = "mysql")]
    MySql,
}

impl Dialect {
    /// The dialect of a database URL, by its scheme.
    pub fn of_url(url: &str) -> Option<Dialect> {
        crate::backend::of_url(url).map(|backend| backend.dialect())
    }

    pub fn name(self) -> &'static str {
        self.backend().name()
    }

    /// The character that quotes an identifier.
    pub fn identifier_quote(self) -> char {
        self.backend().identifier_quote()
    }

    /// `name` as one quoted identifier, whatever it holds: the quote character is
    /// doubled. Every identifier skein puts into SQL goes through here.
    pub fn quote_identifier(self, name: &str) -> String {
        quote_with(self.identifier_quote(), name)
    }

    /// The history table's name, quoted for this backend.
    pub(crate) fn table(self, table: &HistoryTable) -> String {
        table.quoted(self)
    }

    /// The `n`th (from 1) bind parameter.
    pub(crate) fn param(self, n: usize) -> String {
        self.backend().param(n)
    }

    /// A time written by another tool (`2024-03-01 10:00:00.123+00`), as the history table
    /// stores times; the server reads it, and refuses text it cannot read.
    pub fn timestamp_literal(self, text: &str) -> String {
        self.backend().timestamp_literal(&self.string_literal(text))
    }

    /// The current time, as the history table stores it.
    fn now(self) -> &'static str {
        self.backend().now()
    }

    /// A SQL string literal holding `text` exactly, whatever the session's settings.
    pub fn string_literal(self, text: &str) -> String {
        self.backend().string_literal(text)
    }

    /// Statements that create the history table if it does not exist.
    pub fn create_history(self, table: &HistoryTable) -> Vec<String> {
        let backend = self.backend();
        let quoted = self.table(table);
        let columns = backend.history_columns();
        let mut statements = Vec::new();
        if let Some(schema) = &table.schema
            && backend.schema_qualified_history()
        {
            statements.push(format!(
                "CREATE SCHEMA IF NOT EXISTS {}",
                self.quote_identifier(schema)
            ));
        }
        statements.push(format!(
            "CREATE TABLE IF NOT EXISTS {quoted} (\n    \
             version BIGINT PRIMARY KEY,\n    \
             description TEXT NOT NULL,\n    \
             checksum {short_text} NOT NULL,\n    \
             kind {short_text} NOT NULL,\n    \
             applied_at {timestamp} NOT NULL DEFAULT {default_now},\n    \
             applied_by TEXT NOT NULL,\n    \
             execution_ms BIGINT NOT NULL,\n    \
             success BOOLEAN NOT NULL\n){}",
            columns.table_options,
            short_text = columns.short_text,
            timestamp = columns.timestamp,
            default_now = columns.default_now,
        ));
        statements
    }

    /// Selects which of `names` are tables the connection sees without a schema (those in
    /// the search path on PostgreSQL, the connection's database on MySQL): one catalog
    /// query, the names given as plain identifiers (no quote is needed).
    pub fn tables_named(self, names: &[&str]) -> String {
        let list = names
            .iter()
            .map(|name| format!("'{name}'"))
            .collect::<Vec<_>>()
            .join(", ");
        self.backend().tables_named(&list)
    }

    /// Selects every history row, `applied_at` as RFC 3339 text.
    pub fn select_history(self, table: &HistoryTable) -> String {
        let applied_at = self.backend().applied_at_text();
        let success = self.backend().success_value();
        format!(
            "SELECT version, description, checksum, kind, {applied_at}, applied_by, execution_ms, {success} \
             FROM {} ORDER BY version",
            self.table(table)
        )
    }

    /// Inserts a row; binds: version, description, checksum, kind, applied_by, execution_ms, success.
    ///
    /// `replace`: a repeatable migration's row, which replaces the row of its previous
    /// application (in the same statement, so in the step's transaction).
    pub fn insert_history(self, table: &HistoryTable, replace: bool) -> String {
        let params: Vec<String> = (1..=7).map(|n| self.param(n)).collect();
        let (applied_at, now) = self.explicit_applied_at();
        format!(
            "INSERT INTO {} (version, description, checksum, kind, applied_by, execution_ms, success{applied_at}) \
             VALUES ({}{now}){}",
            self.table(table),
            params.join(", "),
            self.replacing(replace, self.now())
        )
    }

    /// The clause that makes an insert of a repeatable's row replace its earlier row.
    fn replacing(self, replace: bool, applied_at: &str) -> String {
        if !replace {
            return String::new();
        }
        self.backend().replacing(
            &[
                "description",
                "checksum",
                "kind",
                "applied_by",
                "execution_ms",
                "success",
            ],
            applied_at,
        )
    }

    /// MySQL's column default would be in the session's time zone: its inserts give
    /// `applied_at` in UTC themselves.
    fn explicit_applied_at(self) -> (&'static str, String) {
        if self.backend().inserts_applied_at() {
            (", applied_at", format!(", {}", self.now()))
        } else {
            ("", String::new())
        }
    }

    /// Marks a row finished; binds: execution_ms, version.
    pub fn finish_history(self, table: &HistoryTable) -> String {
        format!(
            "UPDATE {} SET success = TRUE, execution_ms = {}, applied_at = {} WHERE version = {}",
            self.table(table),
            self.param(1),
            self.now(),
            self.param(2)
        )
    }

    /// Marks a row unfinished while its down file runs outside a transaction: `kind` gets
    /// the suffix `:down`, so that a failure says which way it went. Binds: version.
    pub fn mark_reverting(self, table: &HistoryTable) -> String {
        format!(
            "UPDATE {} SET success = FALSE, kind = {REVERTING_KIND} WHERE version = {}",
            self.table(table),
            self.param(1)
        )
    }

    /// Marks a row applied again, as it was before a down file failed. Binds: version.
    pub fn restore_history(self, table: &HistoryTable) -> String {
        format!(
            "UPDATE {} SET success = TRUE, kind = {RESTORED_KIND} WHERE version = {}",
            self.table(table),
            self.param(1)
        )
    }

    /// Sets a row's checksum; binds: checksum, version.
    pub fn set_checksum(self, table: &HistoryTable) -> String {
        format!(
            "UPDATE {} SET checksum = {} WHERE version = {}",
            self.table(table),
            self.param(1),
            self.param(2)
        )
    }

    /// Deletes a row; binds: version.
    pub fn delete_history(self, table: &HistoryTable) -> String {
        format!(
            "DELETE FROM {} WHERE version = {}",
            self.table(table),
            self.param(1)
        )
    }

    /// Counts rows of one version; binds: version.
    pub fn count_version(self, table: &HistoryTable) -> String {
        format!(
            "SELECT COUNT(*) FROM {} WHERE version = {}",
            self.table(table),
            self.param(1)
        )
    }
}

/// How a literal history INSERT gives its measured columns: `execution_ms` and, when the
/// INSERT names it, `applied_at` (the column list's `, applied_at` and the values' `, <expr>`,
/// or both empty for the column's default); `replaced_at` is what a repeatable's replaced
/// row gets.
struct HistoryColumns<'a> {
    execution_ms: &'a str,
    applied_at: &'a str,
    now: &'a str,
    replaced_at: &'a str,
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
        let execution_ms = match row.success {
            true => self.backend().transaction_ms().unwrap_or("0"),
            false => "0",
        };
        let (applied_at, now) = self.explicit_applied_at();
        let columns = HistoryColumns {
            execution_ms,
            applied_at,
            now: &now,
            replaced_at: self.now(),
        };
        self.insert_history_with(table, row, columns)
    }

    /// [`Dialect::insert_history_literal`] with `execution_ms` and `applied_at` given as SQL
    /// expressions (PostgreSQL's chained steps, which share one `now()`).
    pub fn insert_history_timed(
        self,
        table: &HistoryTable,
        row: HistoryValues<'_>,
        execution_ms: &str,
        applied_at: &str,
    ) -> String {
        let columns = HistoryColumns {
            execution_ms,
            applied_at: ", applied_at",
            now: &format!(", {applied_at}"),
            // A repeatable's row applied again takes the time of this application.
            replaced_at: "excluded.applied_at",
        };
        self.insert_history_with(table, row, columns)
    }

    fn insert_history_with(
        self,
        table: &HistoryTable,
        row: HistoryValues<'_>,
        columns: HistoryColumns<'_>,
    ) -> String {
        let HistoryColumns {
            execution_ms,
            applied_at,
            now,
            replaced_at,
        } = columns;
        format!(
            "INSERT INTO {} (version, description, checksum, kind, applied_by, execution_ms, success{applied_at}) \
             VALUES ({}, {}, {}, {}, {}, {execution_ms}, {}{now}){}",
            self.table(table),
            row.version,
            self.string_literal(row.description),
            self.string_literal(row.checksum),
            self.string_literal(row.kind),
            self.string_literal(row.applied_by),
            if row.success { "TRUE" } else { "FALSE" },
            self.replacing(
                row.kind == crate::history::MigrationKind::Repeatable.as_str(),
                replaced_at
            )
        )
    }

    /// A DELETE of one version's row, as a literal statement.
    pub fn delete_history_literal(self, table: &HistoryTable, version: i64) -> String {
        format!(
            "DELETE FROM {} WHERE version = {version}",
            self.table(table)
        )
    }

    /// Marks a row finished, as a literal statement (scripts).
    pub fn finish_literal(self, table: &HistoryTable, version: i64) -> String {
        format!(
            "UPDATE {} SET success = TRUE WHERE version = {version}",
            self.table(table)
        )
    }

    /// [`Dialect::mark_reverting`] as a literal statement (scripts).
    pub fn reverting_literal(self, table: &HistoryTable, version: i64) -> String {
        format!(
            "UPDATE {} SET success = FALSE, kind = {REVERTING_KIND} WHERE version = {version}",
            self.table(table)
        )
    }

    /// [`Dialect::restore_history`] as a literal statement.
    pub fn restore_literal(self, table: &HistoryTable, version: i64) -> String {
        format!(
            "UPDATE {} SET success = TRUE, kind = {RESTORED_KIND} WHERE version = {version}",
            self.table(table)
        )
    }
}

/// `kind` of a row whose down file is running (portable: no string concatenation).
const REVERTING_KIND: &str = "CASE kind WHEN 'migration' THEN 'migration:down' \
     WHEN 'stamp' THEN 'stamp:down' WHEN 'baseline' THEN 'baseline:down' ELSE kind END";

/// `kind` of a row put back as it was before its down file ran.
const RESTORED_KIND: &str = "CASE kind WHEN 'migration:down' THEN 'migration' \
     WHEN 'stamp:down' THEN 'stamp' WHEN 'baseline:down' THEN 'baseline' ELSE kind END";

/// `name` between `quote`s, each `quote` in it doubled: how every identifier skein writes
/// into SQL is quoted.
pub fn quote_with(quote: char, name: &str) -> String {
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push(quote);
    for c in name.chars() {
        if c == quote {
            quoted.push(quote);
        }
        quoted.push(c);
    }
    quoted.push(quote);
    quoted
}

/// One identifier as standard SQL writes it (PostgreSQL and SQLite read it so): as it is
/// when it is plain lower case, else in double quotes.
pub fn quote_if_needed(part: &str) -> String {
    let plain = part.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && part
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        part.to_owned()
    } else {
        quote_with('"', part)
    }
}

/// A SQL string literal: single quotes doubled (standard_conforming_strings).
pub fn string_literal(text: &str) -> String {
    crate::backend::standard_string_literal(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_literals_with_a_backslash_are_hex() {
        assert_eq!(Dialect::MySql.string_literal("it's"), "'it''s'");
        assert_eq!(
            Dialect::MySql.string_literal("CORP\\al"),
            "CONVERT(X'434f52505c616c' USING utf8mb4)"
        );
        assert_eq!(Dialect::Postgres.string_literal("a\\b"), "'a\\b'");
    }

    #[test]
    fn identifiers_double_their_quote_character() {
        let hostile = "i` (i int);DROP DATABASE victim;CREATE TABLE `j\"x";
        assert_eq!(
            Dialect::MySql.quote_identifier(hostile),
            "`i`` (i int);DROP DATABASE victim;CREATE TABLE ``j\"x`"
        );
        assert_eq!(
            Dialect::Postgres.quote_identifier(hostile),
            "\"i` (i int);DROP DATABASE victim;CREATE TABLE `j\"\"x\""
        );
        assert_eq!(Dialect::Sqlite.quote_identifier("a\"b"), "\"a\"\"b\"");
    }
}
