//! PostgreSQL: its driver, inspector and DDL writer, and what the engine asks of it.

pub(crate) mod chain;
pub(crate) mod ddl;
pub(crate) mod driver;
pub mod inspect;

use super::{Backend, HistoryColumns, Kind, Locks, NameLimit, Rendering};
use crate::dialect::Dialect;
use crate::driver::{ConnectOptions, Connection};
use crate::error::Result;
use futures_util::future::BoxFuture;

pub struct Postgres;

impl Backend for Postgres {
    fn connect<'a>(
        &self,
        url: &'a str,
        options: ConnectOptions,
    ) -> BoxFuture<'a, Result<Connection>> {
        Box::pin(async move {
            Ok(Connection::new(
                driver::PostgresDriver::connect(url, options).await?,
            ))
        })
    }

    fn rolls_back_ddl(&self) -> bool {
        true
    }

    fn create_database<'a>(&self, url: &'a str) -> BoxFuture<'a, Result<bool>> {
        Box::pin(driver::create_database(url))
    }

    fn database_exists<'a>(&self, url: &'a str) -> BoxFuture<'a, Result<bool>> {
        Box::pin(driver::database_exists(url))
    }

    fn drop_database<'a>(&self, url: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(driver::drop_database(url))
    }

    fn cancel_session<'a>(&self, url: &'a str, id: i64) -> BoxFuture<'a, Option<bool>> {
        Box::pin(driver::cancel_session(url, id))
    }

    fn session_exists<'a>(&self, url: &'a str, id: i64) -> BoxFuture<'a, Option<bool>> {
        Box::pin(driver::session_exists(url, id))
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn kind(&self) -> Kind {
        Kind::Postgres
    }

    fn transaction_ms(&self) -> Option<&'static str> {
        Some("(extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint")
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

    fn locks(&self) -> &'static Locks {
        &Locks {
            concurrent_index: true,
            not_valid_constraints: true,
            set_not_null_scans: true,
            rewrites_on_alter: true,
            constraint_index_under_lock: true,
            rewrite_commands: true,
            lock_timeout: true,
            foreign_key_copies: false,
            rebuilds_by_hand: false,
            implicit_not_null_default: false,
        }
    }

    fn table_sizes(&self) -> Option<(&'static str, Option<&'static str>)> {
        Some((
            "SELECT c.relname::text, \
                    (CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint \
                          ELSE s.n_live_tup END)::bigint \
             FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid \
             WHERE c.relkind IN ('r', 'p') \
               AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
               AND n.nspname NOT LIKE 'pg_toast%'",
            Some(
                "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod) \
                 FROM pg_attribute a \
                 JOIN pg_class c ON c.oid = a.attrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped \
                   AND n.nspname NOT IN ('pg_catalog', 'information_schema')",
            ),
        ))
    }

    fn change_sql(&self, change: &crate::schema::change::Change) -> Option<String> {
        ddl::sql(change)
    }

    fn change_statements(
        &self,
        change: &crate::schema::change::Change,
    ) -> Option<Vec<crate::schema::ddl::Statement>> {
        if let crate::schema::change::Change::CreateTable {
            name,
            table,
            sequences,
        } = change
        {
            return Some(ddl::create_table(name, table, sequences));
        }
        crate::schema::ddl::split_change(self, change, self.change_sql(change)?)
    }

    fn rendering(&self) -> Rendering {
        Rendering {
            serial_columns: true,
            foreign_keys_last: true,
            views_stored_whole: false,
        }
    }

    fn current_timestamp(&self) -> &'static str {
        "now()"
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
