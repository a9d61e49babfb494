//! MySQL and MariaDB: statements sent one by one, a `GET_LOCK` session lock, and the
//! history kept honest about DDL, which MySQL cannot roll back.
//!
//! Every DDL statement commits implicitly, so a migration that holds DDL cannot be
//! undone part-way. skein therefore runs a file in one of two ways:
//! - only data statements (INSERT, UPDATE, DELETE, ...): in one transaction with its
//!   history row, all or nothing, as on PostgreSQL;
//! - anything else: its history row is written first as unfinished, each statement
//!   runs on its own, and the row is marked finished at the end. If the server refuses
//!   the first statement as a syntax error, nothing ran, and the row is removed again.
//!   Any other failure leaves the row unfinished (even a first statement may have done
//!   part of its work: `DROP TABLE a, missing` drops `a`); `skein repair` clears it
//!   once the database is put right.

use crate::backend::server::Catalog;
use crate::backend::session::{self, Session, StepRules, failed};
use crate::dialect::Dialect;
use crate::driver::{
    Canceller, ConnectOptions, Driver, HistoryChange, StepOutcome, StepRun, init_sql_error,
    redact_url,
};
use crate::error::{Error, Result, StatementError};
use crate::history::AppliedMigration;
use crate::migration::Script;
use crate::position::line_column;
use crate::split::{Statement, split_mysql};
use sha2::{Digest, Sha256};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlDatabaseError};
use sqlx::{AssertSqlSafe, Connection as _, Row as _};
use std::str::FromStr;

const DIALECT: Dialect = Dialect::MySql;

/// ER_PARSE_ERROR: the statement was refused before anything of it ran.
const PARSE_ERROR: &str = "1064";

pub struct MySqlDriver {
    /// The history table is qualified with the database connected to, so that a
    /// migration running `USE other` does not move the history writes.
    session: Session<sqlx::MySql>,
    /// Reaches this session from outside it.
    canceller: Canceller,
    /// The `GET_LOCK` name this session holds, if any.
    lock_name: Option<String>,
    /// The history table is known to exist; tables are not dropped under a running skein.
    history_seen: bool,
}

impl MySqlDriver {
    pub async fn connect(url: &str, options: ConnectOptions) -> Result<Self> {
        let target = redact_url(url);
        let connect = connect_options(url)?;
        let mut conn = session::connect::<MySqlConnection>(target, &connect).await?;
        // A history table is always the connected database's own (`check_target`
        // refuses a schema-qualified one): a schema is a database here.
        let (database, id): (Option<String>, u64) =
            sqlx::query_as("SELECT DATABASE(), CONNECTION_ID()")
                .fetch_one(&mut conn)
                .await
                .map_err(Error::database("reading the database name"))?;
        let Some(database) = database else {
            return Err(Error::NoDatabaseInUrl {
                target: redact_url(url),
            });
        };
        let mut options = options;
        options.history_table.schema = Some(database);
        for (index, statement) in options.init_sql.iter().enumerate() {
            sqlx::raw_sql(AssertSqlSafe(statement.as_str()))
                .execute(&mut conn)
                .await
                .map_err(init_sql_error(index, statement))?;
        }
        Ok(MySqlDriver {
            session: Session::new(conn, options, DIALECT, "BEGIN", failed, locate),
            canceller: Canceller::new(
                crate::backend::Kind::MySql,
                url,
                i64::try_from(id).unwrap_or(i64::MAX),
            ),
            lock_name: None,
            history_seen: false,
        })
    }

    /// The lock name: the database and the history table, hashed (at most 64 characters).
    fn lock_name(&self) -> String {
        let table = &self.session.options.history_table;
        let schema = table.schema.clone().unwrap_or_default();
        let digest = Sha256::digest(format!("skein\0{schema}\0{}", table.name));
        let hex = hex::encode(&digest[..12]);
        format!("skein:{hex}")
    }
}

/// The database `url` names, decoded; `None` when it names none.
pub(crate) fn database_name(url: &str) -> Result<Option<String>> {
    Ok(connect_options(url)?.get_database().map(str::to_owned))
}

/// A plain connection to `url`, for a side task (cancelling, probing).
pub(crate) async fn connect_plain(url: &str) -> Result<MySqlConnection> {
    let options = connect_options(url)?;
    session::connect::<MySqlConnection>(redact_url(url), &options).await
}

/// The options for `url` (`mysql://` or `mariadb://`). The session keeps the server's
/// own `sql_mode` and time zone, so a migration means what it means in the mysql client.
pub(crate) fn connect_options(url: &str) -> Result<MySqlConnectOptions> {
    let url = mysql_url(url);
    let options = MySqlConnectOptions::from_str(&url).map_err(|source| Error::Connect {
        target: redact_url(&url),
        source: source.into(),
    })?;
    // sqlx keeps an IPv6 host's URL brackets, which no name lookup understands.
    let options = match crate::driver::unbracketed(options.get_host()) {
        Some(host) => options.host(&host),
        None => options,
    };
    Ok(options
        .pipes_as_concat(false)
        .no_engine_substitution(false)
        .timezone(None))
}

/// `mariadb://` is accepted as a synonym of `mysql://`.
fn mysql_url(url: &str) -> String {
    match url.strip_prefix("mariadb:") {
        Some(rest) => format!("mysql:{rest}"),
        None => url.to_owned(),
    }
}

/// Whether MySQL can roll the statement back: data changes can, DDL commits implicitly.
fn is_transactional(statement: &str) -> bool {
    const DATA: [&str; 8] = [
        "insert", "update", "delete", "replace", "select", "with", "values", "do",
    ];
    let first = statement
        .split(|c: char| !c.is_ascii_alphabetic())
        .find(|word| !word.is_empty())
        .unwrap_or("");
    DATA.iter().any(|word| first.eq_ignore_ascii_case(word))
}

/// Places a server error in the file. MySQL gives no position, but a syntax error says
/// `near '...' at line N` of the statement, which is enough to find the line and column.
fn locate(script: &Script, statement: &Statement<'_>, err: sqlx::Error) -> Error {
    let Some(my) = err
        .as_database_error()
        .and_then(|e| e.try_downcast_ref::<MySqlDatabaseError>())
    else {
        return Error::Database {
            action: format!("running {}", script.path.display()),
            source: err.into(),
        };
    };
    let offset = statement.offset + near(statement.sql, my.message()).unwrap_or(0);
    Error::Statement(Box::new(StatementError {
        file: script.path.clone(),
        position: line_column(&script.sql, offset),
        message: my.message().to_owned(),
        code: Some(my.number().to_string()),
        detail: None,
        hint: None,
        context: None,
    }))
}

/// The byte offset in `sql` that a `near '...' at line N` message points at.
fn near(sql: &str, message: &str) -> Option<usize> {
    let (_, rest) = message.rsplit_once(" near '")?;
    let (text, line) = rest.rsplit_once("' at line ")?;
    let line: usize = line.trim().parse().ok()?;
    let line_start = if line <= 1 {
        0
    } else {
        sql.match_indices('\n').nth(line - 2)?.0 + 1
    };
    // MySQL shows at most 80 characters of what follows; the first ones locate it.
    let probe: String = text.chars().take(20).collect();
    if probe.is_empty() {
        return Some(sql.len());
    }
    sql[line_start..]
        .find(&probe)
        .map(|at| line_start + at)
        .or(Some(line_start))
}

impl Driver for MySqlDriver {
    fn dialect(&self) -> Dialect {
        DIALECT
    }

    async fn history_exists(&mut self) -> Result<bool> {
        if self.history_seen {
            return Ok(true);
        }
        let table = &self.session.options.history_table;
        let failure = self.session.failure("looking for the history table");
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = ? AND table_name = ?",
        )
        .bind(table.schema.clone())
        .bind(table.name.clone())
        .fetch_one(&mut self.session.conn)
        .await
        .map_err(failure)?;
        self.history_seen = count > 0;
        Ok(self.history_seen)
    }

    /// Only a file of data statements: MySQL commits DDL implicitly.
    fn runs_in_transaction(&self, script: &Script) -> bool {
        !script.no_transaction
            && split_mysql(&script.sql)
                .iter()
                .all(|statement| is_transactional(statement.sql))
    }

    async fn read_history(&mut self) -> Result<Vec<AppliedMigration>> {
        if !self.history_exists().await? {
            return Ok(Vec::new());
        }
        self.session.read_history().await
    }

    async fn ensure_history(&mut self) -> Result<()> {
        if self.history_exists().await? {
            return Ok(());
        }
        let statements = DIALECT.create_history(&self.session.options.history_table);
        // The first statement creates the "schema": the connection's own database, which
        // exists.
        for statement in statements.into_iter().skip(1) {
            self.session
                .execute(&statement, "creating the history table")
                .await?;
        }
        self.history_seen = true;
        Ok(())
    }

    async fn lock(&mut self) -> Result<()> {
        let name = self.lock_name();
        // GET_LOCK with a zero timeout, polled: the wait stays interruptible.
        let taken = self
            .session
            .poll_lock(
                "SELECT GET_LOCK(?, 0)",
                name.clone(),
                |taken: Option<i64>| taken == Some(1),
            )
            .await?;
        if !taken {
            let holder = lock_holder(&mut self.session.conn, &name).await;
            let timeout = self.session.options.lock_timeout;
            return Err(Error::LockTimeout { timeout, holder });
        }
        self.lock_name = Some(name);
        // The session holding the lock is never idle for long while skein lives: if its
        // client vanishes (a dead network), the server ends it within a minute of its last
        // statement, freeing the lock.
        self.session
            .execute(
                "SET SESSION wait_timeout = 60",
                "limiting the idle time of the migrating session",
            )
            .await
    }

    async fn unlock(&mut self) {
        if let Some(name) = self.lock_name.take() {
            // If this fails the connection is gone, and the lock with it.
            let _ = sqlx::query("SELECT RELEASE_LOCK(?)")
                .bind(name)
                .execute(&mut self.session.conn)
                .await;
        }
    }

    fn canceller(&self) -> Option<Canceller> {
        Some(self.canceller.clone())
    }

    async fn lock_holder(&mut self) -> Result<Option<String>> {
        let name = self.lock_name();
        Ok(lock_holder(&mut self.session.conn, &name).await)
    }

    async fn run_step(&mut self, step: StepRun<'_>) -> Result<StepOutcome> {
        let statements = split_mysql(&step.script.sql);
        let rules = StepRules {
            nothing_ran: Some(PARSE_ERROR),
            ..StepRules::default()
        };
        if self.runs_in_transaction(step.script) {
            self.session
                .run_in_transaction(step, &statements, rules)
                .await
        } else {
            self.session
                .run_outside_transaction(step, &statements, rules)
                .await
        }
    }

    async fn change_history(&mut self, changes: &[HistoryChange]) -> Result<()> {
        self.session.change_history(changes).await
    }

    async fn execute_sql(&mut self, sql: &str) -> Result<()> {
        self.session.execute(sql, &format!("running `{sql}`")).await
    }

    async fn inspect(&mut self) -> Result<crate::schema::Schema> {
        let options = &self.session.options;
        let schema =
            crate::schema::inspect::mysql::inspect(&mut self.session.conn, &options.history_table)
                .await?;
        Ok(options.leave_out_ignored(schema))
    }

    async fn query_rows(&mut self, sql: &str) -> Result<crate::driver::rows::Rows> {
        self.session.query_rows(sql).await
    }

    async fn close(self) {
        self.session.close().await;
    }
}

/// Who holds the lock, for the timeout message: the connection id, user and host.
async fn lock_holder(conn: &mut MySqlConnection, name: &str) -> Option<String> {
    let row = sqlx::query(
        "SELECT CAST(p.id AS CHAR), p.user, p.host FROM information_schema.processlist p \
         WHERE p.id = IS_USED_LOCK(?)",
    )
    .bind(name)
    .fetch_optional(conn)
    .await
    .ok()??;
    let id: String = row.try_get(0).ok()?;
    let user: String = row.try_get(1).ok()?;
    let host: String = row.try_get(2).ok()?;
    Some(format!("connection {id}, {user}@{host}"))
}

/// The server's catalog of databases (schemas), read without a default database.
const CATALOG: Catalog = Catalog {
    count: "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?",
    create: create_sql,
    drop: drop_sql,
    exists_already: |_| false,
};

fn create_sql(name: &str) -> String {
    format!(
        "CREATE DATABASE IF NOT EXISTS {}",
        DIALECT.quote_identifier(name)
    )
}

fn drop_sql(name: &str) -> String {
    format!("DROP DATABASE IF EXISTS {}", DIALECT.quote_identifier(name))
}

/// Creates the database `url` names if it does not exist; whether it was created.
pub async fn create_database(url: &str) -> Result<bool> {
    let (admin, name) = server_connection(url).await?;
    CATALOG.create(admin, &name).await
}

/// Whether the database `url` names exists.
pub async fn database_exists(url: &str) -> Result<bool> {
    let (admin, name) = server_connection(url).await?;
    CATALOG.exists(admin, &name).await
}

/// Drops the database `url` names.
pub async fn drop_database(url: &str) -> Result<()> {
    let (admin, name) = server_connection(url).await?;
    CATALOG.drop(admin, &name).await
}

/// A connection to the server without a default database, and the name `url` asks for.
async fn server_connection(url: &str) -> Result<(MySqlConnection, String)> {
    let target = redact_url(url);
    let name = connect_options(url)?
        .get_database()
        .map(str::to_owned)
        .ok_or_else(|| Error::NoDatabaseInUrl {
            target: target.clone(),
        })?;
    let admin_options = connect_options(&crate::driver::with_database(&mysql_url(url), ""))?;
    let admin = session::connect::<MySqlConnection>(target, &admin_options).await?;
    Ok((admin, name))
}

/// Kills connection `id`; whether the server took the order.
pub(crate) async fn cancel_session(url: &str, id: i64) -> Option<bool> {
    // The whole connection, not just the query: MariaDB lets some killed
    // statements (SLEEP, BENCHMARK) return a result, and the file would then
    // go on and commit. A killed connection rolls back and frees its lock.
    let mut conn = connect_plain(url).await.ok()?;
    let sql = format!("KILL CONNECTION {id}");
    let sent = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .is_ok();
    let _ = conn.close().await;
    Some(sent)
}

/// Whether connection `id` is still there.
pub(crate) async fn session_exists(url: &str, id: i64) -> Option<bool> {
    let mut conn = connect_plain(url).await.ok()?;
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.processlist WHERE id = ?")
            .bind(id)
            .fetch_one(&mut conn)
            .await
            .ok()?;
    let _ = conn.close().await;
    Some(count > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_statements_are_transactional_and_ddl_is_not() {
        assert!(is_transactional("INSERT INTO t VALUES (1)"));
        assert!(is_transactional("  update t set a = 1"));
        assert!(is_transactional("WITH x AS (SELECT 1) SELECT * FROM x"));
        assert!(!is_transactional("CREATE TABLE t (id INT)"));
        assert!(!is_transactional("ALTER TABLE t ADD COLUMN b INT"));
        assert!(!is_transactional("TRUNCATE t"));
    }

    #[test]
    fn a_syntax_error_is_placed_by_its_near_text() {
        let sql = "CREATE TABLE t (\n  id INT,\n  name TEXT NOT NULL DEFUALT 'x'\n)";
        let message = "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near 'DEFUALT 'x'\n)' at line 3";
        let at = near(sql, message).unwrap();
        assert!(sql[at..].starts_with("DEFUALT"), "{}", &sql[at..]);
        assert_eq!(
            near(
                "SELECT",
                "... for the right syntax to use near '' at line 1"
            ),
            Some(6)
        );
        assert_eq!(near("SELECT 1", "Table 't' doesn't exist"), None);
    }

    #[test]
    fn mariadb_urls_are_mysql_urls() {
        assert_eq!(
            mysql_url("mariadb://root@h:3306/db"),
            "mysql://root@h:3306/db"
        );
        assert_eq!(mysql_url("mysql://root@h/db"), "mysql://root@h/db");
    }
}
