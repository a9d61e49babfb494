//! SQLite: its driver, inspector and DDL writer, and what the engine asks of it.

pub(crate) mod ddl;
pub(crate) mod driver;
pub mod inspect;

use super::{Backend, HistoryColumns, Kind, Locks, Rendering};
use crate::dialect::Dialect;
use crate::driver::{ConnectOptions, Connection};
use crate::error::Result;
use futures_util::future::BoxFuture;

pub struct Sqlite;

/// SQLite's current time, as RFC 3339 text in UTC (it has no time type).
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

impl Backend for Sqlite {
    fn connect<'a>(
        &self,
        url: &'a str,
        options: ConnectOptions,
    ) -> BoxFuture<'a, Result<Connection>> {
        Box::pin(async move {
            Ok(Connection::new(
                driver::SqliteDriver::connect(url, options).await?,
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

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn kind(&self) -> Kind {
        Kind::Sqlite
    }

    fn in_memory_url(&self) -> Option<&'static str> {
        Some("sqlite::memory:")
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

    fn locks(&self) -> &'static Locks {
        &Locks {
            concurrent_index: false,
            not_valid_constraints: false,
            set_not_null_scans: false,
            rewrites_on_alter: false,
            constraint_index_under_lock: false,
            rewrite_commands: false,
            lock_timeout: false,
            foreign_key_copies: false,
            rebuilds_by_hand: true,
            implicit_not_null_default: false,
        }
    }

    fn rendering(&self) -> Rendering {
        Rendering {
            serial_columns: false,
            foreign_keys_last: false,
            views_stored_whole: true,
        }
    }

    fn change_sql(&self, change: &crate::schema::change::Change) -> Option<String> {
        ddl::sql(change)
    }

    fn rebuilds(&self, change: &crate::schema::change::Change) -> bool {
        use crate::schema::change::Change;
        change.needs_sqlite_rebuild() || matches!(change, Change::AddColumn { fill: Some(_), .. })
    }

    /// With foreign keys on, dropping a referenced table would delete the rows that refer
    /// to it; renaming would re-check views. Both switches change only outside a
    /// transaction.
    fn around_rebuilds(&self) -> (&'static [&'static str], &'static [&'static str]) {
        (
            &[
                "PRAGMA foreign_keys = OFF",
                "PRAGMA legacy_alter_table = ON",
            ],
            &[
                "PRAGMA legacy_alter_table = OFF",
                "PRAGMA foreign_keys = ON",
            ],
        )
    }

    fn checks_foreign_keys_after_rebuilds(&self) -> bool {
        true
    }

    fn database_name(&self, _url: &str) -> crate::error::Result<Option<String>> {
        Ok(None)
    }

    /// The file's absolute path: its folder as the file system resolves it (links,
    /// `..`), its name as written.
    fn database_identity(&self, url: &str) -> Option<String> {
        use std::str::FromStr as _;
        if url.contains(":memory:") || url.contains("mode=memory") {
            return None;
        }
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?;
        let file = options.get_filename();
        if file.as_os_str().is_empty() || file == std::path::Path::new(":memory:") {
            return None;
        }
        let file = std::path::absolute(file).ok()?;
        let folder = file.parent().and_then(|p| std::fs::canonicalize(p).ok());
        let path = match (folder, file.file_name()) {
            (Some(folder), Some(name)) => folder.join(name),
            _ => file,
        };
        Some(format!("SQLite file {}", path.display()))
    }
}
