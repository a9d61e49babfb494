//! The database backends skein speaks to, one folder each: the driver that connects and
//! runs migrations, the schema inspector, the DDL writer for typed schema changes, and,
//! in its [`Backend`] implementation, what the rest of the engine asks of a backend
//! (its URL schemes, how it quotes, the history table's SQL, how a script is split and
//! parsed, what it can do in a transaction). [`BACKENDS`] lists them once; [`of_url`] is
//! where a URL's scheme is read.

pub mod connection;
pub mod mysql;
pub mod postgres;
pub(crate) mod server;
pub(crate) mod session;
pub mod sqlite;
mod sqlx_error;

use crate::dialect::Dialect;
use crate::driver::{ConnectOptions, Connection};
use crate::error::Result;
use crate::split::Statement;
use futures_util::future::BoxFuture;
pub use skein_schemes::Kind;

/// What the engine asks of a backend.
pub trait Backend: Send + Sync + 'static {
    /// The tag reports and the JSON carry.
    fn dialect(&self) -> Dialect;
    /// The kind of URL that reaches it (its schemes, its default port).
    fn kind(&self) -> Kind;
    /// Its name in reports (`postgres`, `mysql`, `sqlite`).
    fn name(&self) -> &'static str {
        self.kind().name()
    }
    /// The URL schemes that reach it, the usual one first.
    fn schemes(&self) -> &'static [&'static str] {
        self.kind().schemes().schemes
    }
    /// The port a URL without one reaches; `None` for a file.
    fn default_port(&self) -> Option<u16> {
        self.kind().schemes().default_port
    }

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

    /// The milliseconds since the transaction began, as SQL, where the server can say
    /// (a history row written in the step's own transaction then records its time).
    fn transaction_ms(&self) -> Option<&'static str> {
        None
    }
    /// A URL of a database that lives in memory, for a replay that needs no server; `None`:
    /// a replay makes a scratch database on the server.
    fn in_memory_url(&self) -> Option<&'static str> {
        None
    }
    /// Whether DDL runs inside a transaction and a rollback undoes it, so that one scratch
    /// database serves several replays, each rolled back once inspected.
    fn rolls_back_ddl(&self) -> bool {
        false
    }

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
    /// The clause that makes an INSERT of `columns` replace the row of the same key, its
    /// `applied_at` set to `applied_at` (an expression).
    fn replacing(&self, columns: &[&str], applied_at: &str) -> String {
        let set: Vec<String> = columns
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        format!(
            " ON CONFLICT (version) DO UPDATE SET {}, applied_at = {applied_at}",
            set.join(", ")
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

    /// The database a URL names, decoded; `None` when it names none (or is a file).
    fn database_name(&self, url: &str) -> crate::error::Result<Option<String>>;
    /// The longest database name the server keeps whole; `None`: no limit.
    fn database_name_limit(&self) -> Option<NameLimit> {
        None
    }
    /// The one database a URL reaches, written the same however the URL is: see
    /// [`crate::driver::database_identity`].
    fn database_identity(&self, url: &str) -> Option<String>;
    /// A history table in a schema of its own is that database's alone (on MySQL a
    /// schema is a database: every database would share it).
    fn schema_qualified_history_is_its_own(&self) -> bool {
        true
    }

    /// How the standard renderer writes a schema for this backend.
    fn rendering(&self) -> Rendering {
        Rendering::default()
    }
    /// The schema as SQL that makes it; `None` when a part of it cannot be written yet.
    fn dump(&self, schema: &crate::schema::Schema) -> Option<String> {
        Some(crate::schema::render::to_sql(schema, self.dialect()))
    }

    /// Connects to the database `url` names (once: [`Connection::open`] retries).
    fn connect<'a>(
        &self,
        url: &'a str,
        options: ConnectOptions,
    ) -> BoxFuture<'a, Result<Connection>>;
    /// Creates the database `url` names if it does not exist; whether it was created.
    fn create_database<'a>(&self, url: &'a str) -> BoxFuture<'a, Result<bool>>;
    /// Whether the database `url` names exists (its server answering).
    fn database_exists<'a>(&self, url: &'a str) -> BoxFuture<'a, Result<bool>>;
    /// Drops the database `url` names.
    fn drop_database<'a>(&self, url: &'a str) -> BoxFuture<'a, Result<()>>;
    /// Asks the server to cancel session `id`'s statement; whether it said it would,
    /// `None` when it could not be asked (or there is no server: one process holds a
    /// SQLite database).
    fn cancel_session<'a>(&self, _url: &'a str, _id: i64) -> BoxFuture<'a, Option<bool>> {
        Box::pin(async { None })
    }
    /// Whether session `id` is still there; `None` when the server did not answer.
    fn session_exists<'a>(&self, _url: &'a str, _id: i64) -> BoxFuture<'a, Option<bool>> {
        Box::pin(async { None })
    }

    /// How its DDL locks and rewrites tables, as `lint` reads statements.
    fn locks(&self) -> &'static Locks;
    /// The queries of each table's estimated rows (table, rows) and of each column's
    /// type (table, column, type), for `lint`; `None` where the backend keeps no sizes.
    fn table_sizes(&self) -> Option<(&'static str, Option<&'static str>)> {
        None
    }

    /// Whether `change` is made by rebuilding its table (SQLite changes most of a table so).
    fn rebuilds(&self, change: &crate::schema::change::Change) -> bool {
        let _ = change;
        false
    }
    /// The current time as a column default for rows that already exist.
    fn current_timestamp(&self) -> &'static str {
        "CURRENT_TIMESTAMP"
    }
    /// Statements `converge` runs before it rebuilds tables (outside its transaction),
    /// and those that put things back after.
    fn around_rebuilds(&self) -> (&'static [&'static str], &'static [&'static str]) {
        (&[], &[])
    }
    /// `converge` checks the foreign keys of what it changed before it commits (where
    /// they were off while it worked).
    fn checks_foreign_keys_after_rebuilds(&self) -> bool {
        false
    }

    /// `BEGIN NOT ATOMIC` opens a block rather than a transaction (MySQL's rules for a
    /// script's transaction control).
    fn begin_opens_a_block(&self) -> bool {
        false
    }
    /// The type a value is cast to for reading it as text.
    fn text_cast(&self) -> &'static str {
        "TEXT"
    }
    /// The SQL of one typed schema change; `None` when this writer cannot make it.
    fn change_sql(&self, change: &crate::schema::change::Change) -> Option<String>;
    /// The statements of one typed schema change, each with its phase.
    fn change_statements(
        &self,
        change: &crate::schema::change::Change,
    ) -> Option<Vec<crate::schema::ddl::Statement>> {
        crate::schema::ddl::split_change(self, change, self.change_sql(change)?)
    }

    /// DDL runs in a transaction and rolls back with it (MySQL commits each DDL statement).
    fn transactional_ddl(&self) -> bool {
        true
    }
    /// A history table may live in a schema of its own, made if need be.
    fn schema_qualified_history(&self) -> bool {
        true
    }
}

/// How the standard schema renderer (`inspect --format sql`, the expected schema of a
/// diff) writes a schema for a backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rendering {
    /// A column whose default takes the next value of its own sequence is written as
    /// `serial`/`bigserial` (and the sequence is not written).
    pub serial_columns: bool,
    /// Foreign keys are added once every table exists, by ALTER TABLE.
    pub foreign_keys_last: bool,
    /// A view's definition is its whole CREATE statement, as the backend keeps it.
    pub views_stored_whole: bool,
}

/// How a backend's DDL locks and rewrites tables: the questions lint's rules ask.
#[derive(Debug, Clone, Copy, Default)]
pub struct Locks {
    /// CREATE INDEX blocks writes while it builds, unless CONCURRENTLY, which cannot run
    /// inside a transaction.
    pub concurrent_index: bool,
    /// ADD CONSTRAINT (a foreign key, a CHECK) scans every row under a write lock unless
    /// NOT VALID, validated later under a weaker one.
    pub not_valid_constraints: bool,
    /// SET NOT NULL scans every row under an exclusive lock; a validated
    /// `CHECK (col IS NOT NULL)` lets it skip the scan.
    pub set_not_null_scans: bool,
    /// ALTER COLUMN ... TYPE rewrites the table unless binary-compatible, and a column
    /// filled for every row (a volatile default, identity, serial) rewrites it.
    pub rewrites_on_alter: bool,
    /// UNIQUE and PRIMARY KEY build their index under an exclusive lock unless USING INDEX.
    pub constraint_index_under_lock: bool,
    /// Commands that rewrite a table whole (VACUUM FULL, CLUSTER).
    pub rewrite_commands: bool,
    /// A session can bound how long DDL waits for its lock (`lock_timeout`).
    pub lock_timeout: bool,
    /// Adding a foreign key copies the table unless `foreign_key_checks` is off.
    pub foreign_key_copies: bool,
    /// A table is changed by rebuilding it by hand (copy, drop, rename).
    pub rebuilds_by_hand: bool,
    /// A NOT NULL column added without a default gets its type's implicit default.
    pub implicit_not_null_default: bool,
}

/// How long a database name may be before the server cuts it short.
#[derive(Debug, Clone, Copy)]
pub struct NameLimit {
    pub most: usize,
    /// `bytes` or `characters`.
    pub unit: &'static str,
}

impl NameLimit {
    pub fn length(&self, name: &str) -> usize {
        if self.unit == "bytes" {
            name.len()
        } else {
            name.chars().count()
        }
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

/// The backend of a kind of URL.
pub fn of_kind(kind: Kind) -> &'static dyn Backend {
    BACKENDS
        .iter()
        .copied()
        .find(|b| b.kind() == kind)
        .expect("every kind of URL has a backend")
}

/// The backend whose scheme `scheme` is.
pub fn of_scheme(scheme: &str) -> Option<&'static dyn Backend> {
    Kind::of_scheme(scheme).map(of_kind)
}

/// The backend a database URL reaches, by its scheme.
pub fn of_url(url: &str) -> Option<&'static dyn Backend> {
    of_scheme(skein_schemes::scheme(url))
}

/// SQL whose database is not known (a URL of no known scheme) is read as the first
/// backend's.
impl Default for Dialect {
    fn default() -> Self {
        BACKENDS[0].dialect()
    }
}

impl Dialect {
    /// Every backend's tag.
    pub fn all() -> impl Iterator<Item = Dialect> {
        BACKENDS.iter().map(|backend| backend.dialect())
    }

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
