//! The database backends skein speaks to, one folder each: the driver that connects and
//! runs migrations, the schema inspector, the DDL writer for typed schema changes, and,
//! in its [`Backend`] implementation, what the rest of the engine asks of a backend
//! (its URL schemes, how it quotes, the history table's SQL, how a script is split and
//! parsed, what it can do in a transaction). [`BACKENDS`] lists them once; [`of_url`] is
//! where a URL's scheme is read.

pub mod mysql;
pub mod postgres;
pub mod sqlite;

use crate::dialect::Dialect;
use crate::split::Statement;

/// What the engine asks of a backend.
pub trait Backend: Send + Sync + 'static {
    /// The tag reports and the JSON carry.
    fn dialect(&self) -> Dialect;
    /// Its name in reports (`postgres`, `mysql`, `sqlite`).
    fn name(&self) -> &'static str;
    /// The URL schemes that reach it, the usual one first.
    fn schemes(&self) -> &'static [&'static str];
    /// The port a URL without one reaches; `None` for a file.
    fn default_port(&self) -> Option<u16>;

    /// The character that quotes an identifier.
    fn identifier_quote(&self) -> char;
    /// A SQL string literal holding `text` exactly.
    fn string_literal(&self, text: &str) -> String {
        standard_string_literal(text)
    }
    /// The `n`th (from 1) bind parameter.
    fn param(&self, n: usize) -> String {
        format!("${n}")
    }
    /// The current time, as the history table stores it.
    fn now(&self) -> &'static str;
    /// A time written by another tool, given as a string literal, as the history table
    /// stores times (the server reads it, and refuses text it cannot read).
    fn timestamp_literal(&self, literal: &str) -> String;

    /// The history table's column types: its time, that column's default, and text
    /// short enough to index.
    fn history_columns(&self) -> HistoryColumns;
    /// `applied_at` as RFC 3339 text, in a SELECT.
    fn applied_at_text(&self) -> &'static str;
    /// `success` as a boolean, in a SELECT.
    fn success_value(&self) -> &'static str {
        "success"
    }
    /// Inserts give `applied_at` themselves (the column default would be in the session's
    /// time zone).
    fn inserts_applied_at(&self) -> bool {
        false
    }
    /// The clause that makes an INSERT of `columns` replace the row of the same key.
    fn replacing(&self, columns: &[&str]) -> String {
        let set: Vec<String> = columns
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        format!(
            " ON CONFLICT (version) DO UPDATE SET {}, applied_at = {}",
            set.join(", "),
            self.now()
        )
    }
    /// A query of which of `list` (quoted names, comma-separated) are tables the
    /// connection sees without a schema.
    fn tables_named(&self, list: &str) -> String;

    /// The lines a `--sql` script starts with, so that its client stops at the first error.
    fn script_preamble(&self) -> &'static str;
    /// One statement of a `--sql` script, as this backend's client reads it.
    fn script_statement(&self, statement: &str) -> String {
        format!("{statement};\n")
    }
    /// A script's statements, each with its offset, as this backend's client reads them.
    fn split<'a>(&self, sql: &'a str) -> Vec<Statement<'a>> {
        crate::split::split(sql)
    }
    /// The parser dialect `lint` reads statements with.
    fn sql_parser(&self) -> Box<dyn sqlparser::dialect::Dialect>;

    /// DDL runs in a transaction and rolls back with it (MySQL commits each DDL statement).
    fn transactional_ddl(&self) -> bool {
        true
    }
    /// A history table may live in a schema of its own, made if need be.
    fn schema_qualified_history(&self) -> bool {
        true
    }
}

/// The history table's column types on one backend.
pub struct HistoryColumns {
    pub timestamp: &'static str,
    pub default_now: &'static str,
    pub short_text: &'static str,
    /// After the column list (a storage engine).
    pub table_options: &'static str,
}

/// Every backend, once.
pub static BACKENDS: [&dyn Backend; 3] = [&postgres::Postgres, &mysql::MySql, &sqlite::Sqlite];

/// The backend whose scheme `scheme` is.
pub fn of_scheme(scheme: &str) -> Option<&'static dyn Backend> {
    BACKENDS
        .iter()
        .copied()
        .find(|b| b.schemes().contains(&scheme))
}

/// The backend a database URL reaches, by its scheme.
pub fn of_url(url: &str) -> Option<&'static dyn Backend> {
    of_scheme(crate::driver::scheme(url))
}

impl Dialect {
    /// The backend this tag stands for.
    pub fn backend(self) -> &'static dyn Backend {
        BACKENDS
            .iter()
            .copied()
            .find(|b| b.dialect() == self)
            .expect("every dialect has a backend")
    }
}

/// A SQL string literal: single quotes doubled (standard_conforming_strings).
pub fn standard_string_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scheme_names_one_backend() {
        for backend in BACKENDS {
            assert_eq!(backend.dialect().backend().name(), backend.name());
            for scheme in backend.schemes() {
                assert_eq!(of_scheme(scheme).map(|b| b.name()), Some(backend.name()));
            }
        }
        assert_eq!(
            of_url("postgresql://h/db").map(|b| b.name()),
            Some("postgres")
        );
        assert_eq!(of_url("mariadb://h/db").map(|b| b.name()), Some("mysql"));
        assert!(of_url("oracle://h/db").is_none());
    }
}
