//! SQLite: its driver, inspector and DDL writer, and what the engine asks of it.

pub(crate) mod ddl;
pub(crate) mod driver;
pub mod inspect;

use super::{Backend, HistoryColumns};
use crate::dialect::Dialect;

pub struct Sqlite;

/// SQLite's current time, as RFC 3339 text in UTC (it has no time type).
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

impl Backend for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["sqlite"]
    }

    fn default_port(&self) -> Option<u16> {
        None
    }

    fn identifier_quote(&self) -> char {
        '"'
    }

    fn now(&self) -> &'static str {
        NOW
    }

    fn timestamp_literal(&self, literal: &str) -> String {
        // NULL for text SQLite cannot read: the NOT NULL column then refuses it.
        format!("strftime('%Y-%m-%dT%H:%M:%fZ', {literal})")
    }

    fn history_columns(&self) -> HistoryColumns {
        HistoryColumns {
            timestamp: "TEXT",
            default_now: "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            short_text: "TEXT",
            table_options: "",
        }
    }

    fn applied_at_text(&self) -> &'static str {
        "applied_at"
    }

    fn tables_named(&self, list: &str) -> String {
        format!("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ({list})")
    }

    fn script_preamble(&self) -> &'static str {
        ".bail on\n\n"
    }

    fn sql_parser(&self) -> Box<dyn sqlparser::dialect::Dialect> {
        Box::new(sqlparser::dialect::SQLiteDialect {})
    }

    fn schema_qualified_history(&self) -> bool {
        false
    }
}
