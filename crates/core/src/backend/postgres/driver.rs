//! PostgreSQL: statements sent one by one over the simple protocol (as psql does), errors
//! mapped to file positions, and a session advisory lock on a connection of its own.

use super::chain::{Answers, Chain, MESSAGE_BYTES, Part};
use crate::backend::server::Catalog;
use crate::backend::session::{self, Session, StepRules, elapsed_ms, failed};
use crate::dialect::Dialect;
use crate::driver::{
    Canceller, ConnectOptions, Driver, HistoryChange, StepOutcome, StepRun, init_sql_error,
    redact_url,
};
use crate::error::{Error, Result, StatementError};
use crate::history::AppliedMigration;
use crate::migration::Script;
use crate::position::{char_position_to_byte, line_column};
use crate::split::{Statement, split};
use futures_util::StreamExt as _;
use sha2::{Digest, Sha256};
use sqlx::Either;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgDatabaseError, PgErrorPosition};
use sqlx::{AssertSqlSafe, Connection as _, Row as _};
use std::str::FromStr;
use std::time::Instant;

const DIALECT: Dialect = Dialect::Postgres;

/// The server cancelled the statement (a stop or a step limit asked it to).
const QUERY_CANCELED: &str = "57014";

pub struct PostgresDriver {
    session: Session<sqlx::Postgres>,
    /// Reaches this session from outside it.
    canceller: Canceller,
    /// The advisory lock this session holds, if any.
    lock_key: Option<i64>,
    /// The history table is known to exist; tables are not dropped under a running skein.
    history_seen: bool,
    /// A step committed without waiting for its WAL to reach the disk, and no commit has
    /// waited since: [`Driver::unlock`] waits for it.
    unflushed: bool,
    /// Steps may go to the server several in one message. Not before PostgreSQL 14: 13
    /// cannot notice a client that went away while it runs a message (it would run the
    /// steps left in it), and 12 applied `statement_timeout` to a whole message.
    chains: bool,
}

impl PostgresDriver {
    pub async fn connect(url: &str, options: ConnectOptions) -> Result<Self> {
        let target = redact_url(url);
        let connect = connect_options(url)?;
        let mut conn = session::connect::<PgConnection>(target, &connect).await?;
        // If the network to skein goes dead, the server's keepalive probes find out within
        // a minute, end the session, roll back and free the lock. If skein dies
        // mid-migration, the server would otherwise run what it was sent to the end (and
        // could commit it); client_connection_check_interval makes it notice within a
        // second and roll back.
        let version = conn.server_version_num().unwrap_or(0);
        let check_client = if version >= 140_000 {
            "SET client_connection_check_interval = 1000; "
        } else {
            ""
        };
        let setup = format!(
            "{check_client}SET tcp_keepalives_idle = 20; SET tcp_keepalives_interval = 10; \
             SET tcp_keepalives_count = 3; SELECT pg_backend_pid()"
        );
        let pid: i32 = sqlx::raw_sql(AssertSqlSafe(setup))
            .fetch_one(&mut conn)
            .await
            .and_then(|row| row.try_get(0))
            .map_err(Error::database("setting up the session"))?;
        for (index, statement) in options.init_sql.iter().enumerate() {
            sqlx::raw_sql(AssertSqlSafe(statement.as_str()))
                .execute(&mut conn)
                .await
                .map_err(init_sql_error(index, statement))?;
        }
        Ok(PostgresDriver {
            session: Session::new(conn, options, DIALECT, "BEGIN", failed, locate),
            canceller: Canceller::new(crate::backend::Kind::Postgres, url, i64::from(pid)),
            lock_key: None,
            history_seen: false,
            unflushed: false,
            chains: version >= 140_000,
        })
    }

    /// Sends the first of `steps`, and as many after it as fit, as one simple query (see
    /// [`chain`](super::chain)): a step costs no round trip of its own.
    ///
    /// A step that need not be durable yet commits with `synchronous_commit = off`: the
    /// server does not wait for its WAL to reach the disk, which costs about as much as a
    /// small migration. The run's last commit waits (or `unlock`, when the run ends early),
    /// and WAL is flushed in order, so that wait covers every step before it. Should the
    /// server crash in between, it comes back with a prefix of the run: each step with its
    /// history row or neither, and the next `up` applies the rest.
    async fn run_chain(
        &mut self,
        steps: &[StepRun<'_>],
        done: &mut (dyn FnMut(usize, StepOutcome) + Send),
    ) -> Result<usize> {
        let limit = if self.chains { MESSAGE_BYTES } else { 0 };
        let mut steps = steps;
        loop {
            let chain = Chain::new(&self.session.options.history_table, steps, limit);
            let mut answers = Answers::default();
            let mut step_started = Instant::now();
            // Steps reported through `done`, in order, as their commits are seen.
            let mut reported = 0;
            let mut report_to = |upto: usize, unflushed: &mut bool| {
                while reported < upto {
                    *unflushed = !steps[reported].durable;
                    let ms = elapsed_ms(step_started);
                    done(reported, StepOutcome::Ran { ms });
                    step_started = Instant::now();
                    reported += 1;
                }
            };
            let failure = {
                let mut results = sqlx::raw_sql(AssertSqlSafe(chain.text.as_str()))
                    .fetch_many(&mut self.session.conn);
                loop {
                    match results.next().await {
                        Some(Ok(Either::Left(_))) => answers.completed(),
                        Some(Ok(Either::Right(row))) => {
                            let value = row.try_get::<&str, _>(0).ok();
                            answers.row(value.and_then(|value| chain.marked_step(value)));
                        }
                        Some(Err(err)) => break Some(err),
                        None => break None,
                    }
                    report_to(answers.committed, &mut self.unflushed);
                }
            };
            let Some(err) = failure else {
                // The whole message ran, so every step in it committed, whether or not each
                // commit was seen.
                report_to(chain.steps(), &mut self.unflushed);
                return Ok(chain.steps());
            };
            let step = answers.committed.min(chain.steps() - 1);
            let Some(pg) = as_postgres_error(&err) else {
                return Err(connection_failure(steps[step].script, err));
            };
            let position = match pg.position() {
                Some(PgErrorPosition::Original(chars)) => Some(chain.part_at(chars)),
                _ => None,
            };
            if answers.nothing_ran() && pg.code() != QUERY_CANCELED {
                // Refused before anything ran: the steps before the one at fault go again
                // (the first step alone, when the server does not say where the fault is).
                let at_fault = match position {
                    Some((Part::Flush { after }, _)) => after + 1,
                    Some((part, _)) => part.step(),
                    None => 1.min(chain.steps() - 1),
                };
                if at_fault > 0 {
                    steps = &steps[..at_fault];
                    continue;
                }
            }
            let (part, within) = chain.failed_part(&answers, step, position);
            match part {
                // Between two transactions: the steps before it are applied, and the engine
                // sends the rest again.
                Part::Flush { after } => {
                    report_to(after + 1, &mut self.unflushed);
                    return Ok(after + 1);
                }
                // A COMMIT that failed ended its transaction, unless it was cancelled
                // before it began (a stop, a statement timeout).
                Part::Commit { .. } if pg.code() != QUERY_CANCELED => {}
                _ if !answers.began(step) => {}
                _ => self.session.rollback().await,
            }
            return Err(match part {
                Part::Statement { step, index } => {
                    let statement = &chain.statements[step][index];
                    Error::Statement(Box::new(statement_error(
                        steps[step].script,
                        pg,
                        statement.offset + within,
                    )))
                }
                Part::Record { step } | Part::Commit { step } => Error::Database {
                    action: format!(
                        "recording or committing {}",
                        steps[step].script.path.display()
                    ),
                    source: err.into(),
                },
                Part::Own { step } | Part::Flush { after: step } => Error::Database {
                    action: format!("running {}", steps[step].script.path.display()),
                    source: err.into(),
                },
            });
        }
    }

    /// The lock key: the database, the history table's schema and name, hashed.
    async fn lock_key(&mut self) -> Result<i64> {
        let table = &self.session.options.history_table;
        let row = sqlx::query("SELECT current_database(), current_schema()")
            .fetch_one(&mut self.session.conn)
            .await
            .map_err(Error::database("reading the database name"))?;
        let database: String = row.get(0);
        let current_schema: Option<String> = row.get(1);
        let schema = table
            .schema
            .clone()
            .or(current_schema)
            .unwrap_or_else(|| "public".to_owned());
        let digest = Sha256::digest(format!("skein\0{database}\0{schema}\0{}", table.name));
        Ok(i64::from_be_bytes(digest[..8].try_into().expect("8 bytes")))
    }
}

/// The options for `url`. Without an `sslmode` in the URL, a loopback or Unix-socket
/// connection does not negotiate TLS: it protects nothing there, and its handshake costs
/// about 100 ms per connection (small TLS records meet Nagle's algorithm and delayed
/// ACKs). Anything else keeps PostgreSQL's default, `prefer`; an explicit `sslmode` is
/// always honoured.
/// The database `url` names, decoded; `None` when it names none.
pub(crate) fn database_name(url: &str) -> Result<Option<String>> {
    Ok(connect_options(url)?.get_database().map(str::to_owned))
}

/// A plain connection to `url`, for a side task (cancelling, probing).
pub(crate) async fn connect_plain(url: &str) -> Result<PgConnection> {
    let options = connect_options(url)?;
    session::connect::<PgConnection>(redact_url(url), &options).await
}

pub(crate) fn connect_options(url: &str) -> Result<PgConnectOptions> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|source| Error::Connect {
            target: redact_url(url),
            source: source.into(),
        })?
        .application_name("skein");
    // sqlx keeps an IPv6 host's URL brackets, which no name lookup understands.
    let options = match crate::driver::unbracketed(options.get_host()) {
        Some(host) => options.host(&host),
        None => options,
    };
    let host = options.get_host();
    let local = options.get_socket().is_some()
        || host.starts_with('/')
        || host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if local && !url.contains("sslmode=") {
        return Ok(options.ssl_mode(sqlx::postgres::PgSslMode::Disable));
    }
    Ok(options)
}

/// Places an error of one statement sent alone: the server gives a character position
/// within what it was sent; its own "line" field is a line of its C source, not of ours.
fn locate(script: &Script, statement: &Statement<'_>, err: sqlx::Error) -> Error {
    let Some(pg) = as_postgres_error(&err) else {
        return connection_failure(script, err);
    };
    let offset = match pg.position() {
        Some(PgErrorPosition::Original(chars)) => {
            statement.offset + char_position_to_byte(statement.sql, chars)
        }
        _ => statement.offset,
    };
    Error::Statement(Box::new(statement_error(script, pg, offset)))
}

fn as_postgres_error(err: &sqlx::Error) -> Option<&PgDatabaseError> {
    err.as_database_error()?
        .try_downcast_ref::<PgDatabaseError>()
}

fn connection_failure(script: &Script, source: sqlx::Error) -> Error {
    Error::Database {
        action: format!("running {}", script.path.display()),
        source: source.into(),
    }
}

/// The server's error at byte `offset` of the script, with its detail, hint and context.
fn statement_error(script: &Script, pg: &PgDatabaseError, offset: usize) -> StatementError {
    let mut context = pg.r#where().map(str::to_owned);
    if let Some(PgErrorPosition::Internal { query, .. }) = pg.position() {
        let internal = format!("in the query `{query}`");
        context = Some(match context {
            Some(c) => format!("{internal}\n{c}"),
            None => internal,
        });
    }
    StatementError {
        file: script.path.clone(),
        position: line_column(&script.sql, offset),
        message: pg.message().to_owned(),
        code: Some(pg.code().to_owned()),
        detail: pg.detail().map(str::to_owned),
        hint: pg
            .hint()
            .map(str::to_owned)
            .or_else(|| own_hint(pg.code(), script)),
        context,
    }
}

/// skein's hint for an error the server gives none for.
fn own_hint(code: &str, script: &Script) -> Option<String> {
    // active_sql_transaction: CREATE INDEX CONCURRENTLY, VACUUM, ALTER TYPE ... ADD VALUE
    // on PostgreSQL 11, and the like cannot run inside a transaction block.
    (code == "25001" && !script.no_transaction).then(|| {
        "this statement cannot run in a transaction, and skein runs each file in one: put `-- skein:no-transaction` at the top of the file (the markers of sqlx, dbmate, goose, morph and atlas work too)".to_owned()
    })
}

impl Driver for PostgresDriver {
    fn dialect(&self) -> Dialect {
        DIALECT
    }

    async fn history_exists(&mut self) -> Result<bool> {
        if self.history_seen {
            return Ok(true);
        }
        let table = self.session.options.history_table.quoted(DIALECT);
        let failure = self.session.failure("looking for the history table");
        self.history_seen = sqlx::query_scalar::<_, bool>("SELECT to_regclass($1) IS NOT NULL")
            .bind(table)
            .fetch_one(&mut self.session.conn)
            .await
            .map_err(failure)?;
        Ok(self.history_seen)
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
        // One round trip, and no wait for a WAL flush of its own: the first migration's
        // commit flushes it, and if it were lost it would simply be created again.
        let mut batch = String::from("BEGIN;\nSET LOCAL synchronous_commit = off;\n");
        for statement in DIALECT.create_history(&self.session.options.history_table) {
            batch.push_str(&statement);
            batch.push_str(";\n");
        }
        batch.push_str("COMMIT;");
        if let Err(err) = self
            .session
            .execute(&batch, "creating the history table")
            .await
        {
            self.session.rollback().await;
            return Err(err);
        }
        self.history_seen = true;
        Ok(())
    }

    async fn lock(&mut self) -> Result<()> {
        let key = self.lock_key().await?;
        let taken = self
            .session
            .poll_lock("SELECT pg_try_advisory_lock($1)", key, |taken: bool| taken)
            .await?;
        if !taken {
            let holder = lock_holder(&mut self.session.conn, key).await;
            let timeout = self.session.options.lock_timeout;
            return Err(Error::LockTimeout { timeout, holder });
        }
        self.lock_key = Some(key);
        Ok(())
    }

    async fn unlock(&mut self) {
        if std::mem::take(&mut self.unflushed) {
            // A commit that wrote WAL waits, with the session's synchronous_commit, and its
            // wait covers every commit before it; a transaction that only took an id writes
            // none and would not wait. So the newest history row is written again, as it
            // is. If this fails the session is gone; the report already says what was
            // applied.
            let table = DIALECT.table(&self.session.options.history_table);
            let flush = format!(
                "UPDATE {table} SET version = version \
                 WHERE version = (SELECT max(version) FROM {table})"
            );
            let _ = sqlx::raw_sql(AssertSqlSafe(flush))
                .execute(&mut self.session.conn)
                .await;
        }
        if let Some(key) = self.lock_key.take() {
            // If this fails the connection is gone, and the lock with it.
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(key)
                .execute(&mut self.session.conn)
                .await;
        }
    }

    fn canceller(&self) -> Option<Canceller> {
        Some(self.canceller.clone())
    }

    async fn lock_holder(&mut self) -> Result<Option<String>> {
        let key = self.lock_key().await?;
        Ok(lock_holder(&mut self.session.conn, key).await)
    }

    async fn run_step(&mut self, step: StepRun<'_>) -> Result<StepOutcome> {
        if step.script.no_transaction {
            let statements = split(&step.script.sql);
            self.session
                .run_outside_transaction(step, &statements, StepRules::default())
                .await
        } else {
            let mut outcome = None;
            self.run_chain(&[step], &mut |_, ran| outcome = Some(ran))
                .await?;
            Ok(outcome.expect("a chain that ran without an error ran its step"))
        }
    }

    async fn run_steps(
        &mut self,
        steps: &[StepRun<'_>],
        done: &mut (dyn FnMut(usize, StepOutcome) + Send),
    ) -> Result<usize> {
        if steps[0].script.no_transaction {
            let outcome = self.run_step(steps[0]).await?;
            done(0, outcome);
            return Ok(1);
        }
        self.run_chain(steps, done).await
    }

    fn runs_steps_together(&self) -> bool {
        self.chains
    }

    async fn change_history(&mut self, changes: &[HistoryChange]) -> Result<()> {
        self.session.change_history(changes).await
    }

    async fn execute_sql(&mut self, sql: &str) -> Result<()> {
        self.session.execute(sql, &format!("running `{sql}`")).await
    }

    async fn inspect(&mut self) -> Result<crate::schema::Schema> {
        let options = &self.session.options;
        let schema = crate::schema::inspect::postgres::inspect(
            &mut self.session.conn,
            &options.history_table,
        )
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

/// Who holds the lock, for the timeout message: the pid, application and client address.
async fn lock_holder(conn: &mut PgConnection, key: i64) -> Option<String> {
    let class_id = (key >> 32) as u32 as i64;
    let object_id = key as u32 as i64;
    let row = sqlx::query(
        "SELECT a.pid, a.application_name, coalesce(host(a.client_addr), 'local') \
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = $1 AND l.objid::bigint = $2 \
         LIMIT 1",
    )
    .bind(class_id)
    .bind(object_id)
    .fetch_optional(conn)
    .await
    .ok()??;
    let pid: i32 = row.get(0);
    let application: String = row.get(1);
    let client: String = row.get(2);
    Some(format!("pid {pid}, {application} from {client}"))
}

/// PostgreSQL's catalog of databases, read on the server's `postgres` database.
const CATALOG: Catalog = Catalog {
    count: "SELECT COUNT(*) FROM pg_database WHERE datname = $1",
    create: create_sql,
    drop: drop_sql,
    exists_already: is_duplicate_database,
};

fn create_sql(name: &str) -> String {
    format!("CREATE DATABASE {}", DIALECT.quote_identifier(name))
}

/// Closes the database's sessions first.
fn drop_sql(name: &str) -> String {
    format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        DIALECT.quote_identifier(name)
    )
}

/// Another run created it between the look and the CREATE (unique violation on
/// pg_database, or duplicate_database).
fn is_duplicate_database(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|db| matches!(db.code().as_deref(), Some("23505" | "42P04")))
}

/// Creates the database `url` names if it does not exist; whether it was created.
pub async fn create_database(url: &str) -> Result<bool> {
    let (admin, name) = maintenance_connection(url).await?;
    CATALOG.create(admin, &name).await
}

/// Whether the database `url` names exists.
pub async fn database_exists(url: &str) -> Result<bool> {
    let (admin, name) = maintenance_connection(url).await?;
    CATALOG.exists(admin, &name).await
}

/// Drops the database `url` names, closing its sessions first.
pub async fn drop_database(url: &str) -> Result<()> {
    let (admin, name) = maintenance_connection(url).await?;
    CATALOG.drop(admin, &name).await
}

/// A connection to the same server's `postgres` database, and the name `url` asks for.
async fn maintenance_connection(url: &str) -> Result<(PgConnection, String)> {
    let target = redact_url(url);
    let options = connect_options(url)?;
    let name = options
        .get_database()
        .map(str::to_owned)
        .ok_or_else(|| Error::NoDatabaseInUrl {
            target: target.clone(),
        })?;
    let admin = session::connect::<PgConnection>(target, &options.database("postgres")).await?;
    Ok((admin, name))
}
/// Asks the server to cancel session `pid`'s statement; whether it said it would.
pub(crate) async fn cancel_session(url: &str, pid: i64) -> Option<bool> {
    let pid = i32::try_from(pid).ok()?;
    let mut conn = connect_plain(url).await.ok()?;
    let sent: bool = sqlx::query_scalar("SELECT pg_cancel_backend($1)")
        .bind(pid)
        .fetch_one(&mut conn)
        .await
        .ok()?;
    let _ = conn.close().await;
    Some(sent)
}

/// Whether session `pid` is still there.
pub(crate) async fn session_exists(url: &str, pid: i64) -> Option<bool> {
    let pid = i32::try_from(pid).ok()?;
    let mut conn = connect_plain(url).await.ok()?;
    let there: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)")
            .bind(pid)
            .fetch_one(&mut conn)
            .await
            .ok()?;
    let _ = conn.close().await;
    Some(there)
}
