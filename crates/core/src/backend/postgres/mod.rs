//! PostgreSQL: its driver, inspector and DDL writer, and what the engine asks of it.

pub(crate) mod ddl;
pub(crate) mod driver;
pub mod inspect;

use super::{Backend, HistoryColumns, Kind, NameLimit};
use crate::dialect::Dialect;

pub struct Postgres;

impl Backend for Postgres {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn kind(&self) -> Kind {
        Kind::Postgres
    }

    fn identifier_quote(&self) -> char {
        '"'
    }

    fn now(&self) -> &'static str {
        "now()"
    }

    fn timestamp_literal(&self, literal: &str) -> String {
        format!("CAST({literal} AS timestamptz)")
    }

    fn history_columns(&self) -> HistoryColumns {
        HistoryColumns {
            timestamp: "TIMESTAMPTZ",
            default_now: "now()",
            short_text: "TEXT",
            table_options: "",
        }
    }

    fn applied_at_text(&self) -> &'static str {
        "to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
    }

    fn tables_named(&self, list: &str) -> String {
        format!(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = ANY (current_schemas(false)) AND table_name IN ({list})"
        )
    }

    fn script_preamble(&self) -> &'static str {
        "\\set ON_ERROR_STOP on\n\n"
    }

    fn sql_parser(&self) -> Box<dyn sqlparser::dialect::Dialect> {
        Box::new(sqlparser::dialect::PostgreSqlDialect {})
    }

    fn database_name(&self, url: &str) -> crate::error::Result<Option<String>> {
        driver::database_name(url)
    }

    /// NAMEDATALEN - 1.
    fn database_name_limit(&self) -> Option<NameLimit> {
        Some(NameLimit {
            most: 63,
            unit: "bytes",
        })
    }

    fn database_identity(&self, url: &str) -> Option<String> {
        let options = driver::connect_options(url).ok()?;
        let database = options
            .get_database()
            .unwrap_or(options.get_username())
            .to_owned();
        Some(format!(
            "PostgreSQL database `{database}` on {}:{}",
            options.get_host().to_ascii_lowercase(),
            options.get_port()
        ))
    }
}
