//! MySQL and MariaDB: the driver, inspector and DDL writer, and what the engine asks of
//! them.

pub(crate) mod ddl;
pub(crate) mod driver;
pub mod inspect;

use super::{Backend, HistoryColumns, Kind, Locks, NameLimit};
use crate::dialect::Dialect;
use crate::driver::{ConnectOptions, Connection};
use crate::error::Result;
use futures_util::future::BoxFuture;

pub struct MySql;

impl Backend for MySql {
    fn connect<'a>(
        &self,
        url: &'a str,
        options: ConnectOptions,
    ) -> BoxFuture<'a, Result<Connection>> {
        Box::pin(async move {
            Ok(Connection::new(
                driver::MySqlDriver::connect(url, options).await?,
            ))
        })
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
        Dialect::MySql
    }

    fn kind(&self) -> Kind {
        Kind::MySql
    }

    fn identifier_quote(&self) -> char {
        '`'
    }

    /// A backslash is an escape in MySQL unless the session's `sql_mode` has
    /// NO_BACKSLASH_ESCAPES: text with one is written as hex, which reads the same either
    /// way.
    fn string_literal(&self, text: &str) -> String {
        if text.contains('\\') {
            format!("CONVERT(X'{}' USING utf8mb4)", hex::encode(text))
        } else {
            super::standard_string_literal(text)
        }
    }

    fn param(&self, _n: usize) -> String {
        "?".to_owned()
    }

    /// The session keeps the server's time zone; the history is kept in UTC.
    fn now(&self) -> &'static str {
        "UTC_TIMESTAMP(6)"
    }

    fn timestamp_literal(&self, literal: &str) -> String {
        format!("CAST({literal} AS DATETIME(6))")
    }

    fn history_columns(&self) -> HistoryColumns {
        HistoryColumns {
            timestamp: "DATETIME(6)",
            default_now: "CURRENT_TIMESTAMP(6)",
            short_text: "VARCHAR(100)",
            // A transactional table whatever the server's default storage engine.
            table_options: " ENGINE=InnoDB",
        }
    }

    fn applied_at_text(&self) -> &'static str {
        "DATE_FORMAT(applied_at, '%Y-%m-%dT%H:%i:%s.%fZ')"
    }

    /// BOOLEAN is TINYINT(1): the comparison makes it a boolean.
    fn success_value(&self) -> &'static str {
        "success <> 0"
    }

    fn inserts_applied_at(&self) -> bool {
        true
    }

    /// MySQL's inserts give `applied_at` themselves: the new row's value is taken.
    fn replacing(&self, columns: &[&str], _applied_at: &str) -> String {
        let set: Vec<String> = columns
            .iter()
            .map(|c| format!("{c} = VALUES({c})"))
            .collect();
        format!(
            " ON DUPLICATE KEY UPDATE {}, applied_at = VALUES(applied_at)",
            set.join(", ")
        )
    }

    fn tables_named(&self, list: &str) -> String {
        format!(
            "SELECT table_name FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name IN ({list})"
        )
    }

    /// The mysql client stops at the first error unless told --force.
    fn script_preamble(&self) -> &'static str {
        "\n"
    }

    /// The mysql client ends a statement at the first `;`, even inside a `BEGIN ... END`
    /// body: such a statement gets a delimiter of its own.
    fn script_statement(&self, statement: &str) -> String {
        if !statement.contains(';') {
            return format!("{statement};\n");
        }
        let delimiter = ["$$", "//", "$$$", "@@@"]
            .into_iter()
            .find(|d| !statement.contains(d))
            .unwrap_or("\\");
        format!("DELIMITER {delimiter}\n{statement}{delimiter}\nDELIMITER ;\n")
    }

    fn split<'a>(&self, sql: &'a str) -> Vec<crate::split::Statement<'a>> {
        crate::split::split_mysql(sql)
    }

    fn sql_parser(&self) -> Box<dyn sqlparser::dialect::Dialect> {
        Box::new(sqlparser::dialect::MySqlDialect {})
    }

    fn transactional_ddl(&self) -> bool {
        false
    }

    fn begin_opens_a_block(&self) -> bool {
        true
    }

    fn text_cast(&self) -> &'static str {
        "CHAR"
    }

    fn change_sql(&self, change: &crate::schema::change::Change) -> Option<String> {
        ddl::sql(change)
    }

    fn change_statements(
        &self,
        change: &crate::schema::change::Change,
    ) -> Option<Vec<crate::schema::ddl::Statement>> {
        if let crate::schema::change::Change::CreateTable { name, table, .. } = change {
            return ddl::create_table(name, table);
        }
        crate::schema::ddl::split_change(self, change, self.change_sql(change)?)
    }

    fn dump(&self, schema: &crate::schema::Schema) -> Option<String> {
        ddl::dump(schema)
    }

    fn locks(&self) -> &'static Locks {
        &Locks {
            concurrent_index: false,
            not_valid_constraints: false,
            set_not_null_scans: false,
            rewrites_on_alter: false,
            constraint_index_under_lock: false,
            rewrite_commands: false,
            lock_timeout: false,
            foreign_key_copies: true,
            rebuilds_by_hand: false,
            implicit_not_null_default: true,
        }
    }

    fn table_sizes(&self) -> Option<(&'static str, Option<&'static str>)> {
        Some((
            "SELECT CAST(TABLE_NAME AS CHAR), CAST(TABLE_ROWS AS SIGNED) \
             FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'",
            None,
        ))
    }

    fn database_name(&self, url: &str) -> crate::error::Result<Option<String>> {
        driver::database_name(url)
    }

    fn database_name_limit(&self) -> Option<NameLimit> {
        Some(NameLimit {
            most: 64,
            unit: "characters",
        })
    }

    fn database_identity(&self, url: &str) -> Option<String> {
        let options = driver::connect_options(url).ok()?;
        Some(format!(
            "MySQL database `{}` on {}:{}",
            options.get_database()?,
            options.get_host().to_ascii_lowercase(),
            options.get_port()
        ))
    }

    fn schema_qualified_history_is_its_own(&self) -> bool {
        false
    }
}
