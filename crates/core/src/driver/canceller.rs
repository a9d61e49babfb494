//! A second line to the server for the session that migrates: it cancels the statement in
//! flight (PostgreSQL: `pg_cancel_backend`; MySQL: `KILL CONNECTION`) (a step limit, a stop request) and asks whether that session is still there
//! (a liveness probe while a step runs long). Each use opens a short connection of its own
//! with the same URL, so it works while the migrating session is busy or stuck.

use super::{mysql, postgres};
use sqlx::Connection as _;
use std::time::Duration;

/// How to reach the migrating session from outside it.
#[derive(Debug, Clone)]
pub struct Canceller {
    url: String,
    session: Session,
}

#[derive(Debug, Clone, Copy)]
enum Session {
    /// A PostgreSQL backend pid.
    Postgres(i32),
    /// A MySQL connection id.
    MySql(u64),
}

/// What a liveness probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// The server answered, and the session is there.
    Alive,
    /// The server answered: the session is gone.
    Gone,
    /// No answer (or an error): nothing is known.
    NoAnswer,
}

impl Canceller {
    pub(crate) fn postgres(url: &str, pid: i32) -> Self {
        Canceller {
            url: url.to_owned(),
            session: Session::Postgres(pid),
        }
    }

    pub(crate) fn mysql(url: &str, id: u64) -> Self {
        Canceller {
            url: url.to_owned(),
            session: Session::MySql(id),
        }
    }

    /// Asks the server to cancel the session's statement; `true` if it said it would.
    /// Gives up after `within`.
    pub async fn cancel(&self, within: Duration) -> bool {
        let attempt = async {
            match self.session {
                Session::Postgres(pid) => {
                    let mut conn = postgres::connect_plain(&self.url).await.ok()?;
                    let sent: bool = sqlx::query_scalar("SELECT pg_cancel_backend($1)")
                        .bind(pid)
                        .fetch_one(&mut conn)
                        .await
                        .ok()?;
                    let _ = conn.close().await;
                    Some(sent)
                }
                Session::MySql(id) => {
                    // The whole connection, not just the query: MariaDB lets some killed
                    // statements (SLEEP, BENCHMARK) return a result, and the file would then
                    // go on and commit. A killed connection rolls back and frees its lock.
                    let mut conn = mysql::connect_plain(&self.url).await.ok()?;
                    let sql = format!("KILL CONNECTION {id}");
                    let sent = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await
                        .is_ok();
                    let _ = conn.close().await;
                    Some(sent)
                }
            }
        };
        matches!(tokio::time::timeout(within, attempt).await, Ok(Some(true)))
    }

    /// Whether the server answers, and still has the session; gives up after `within`.
    pub async fn probe(&self, within: Duration) -> Liveness {
        let attempt = async {
            let there = match self.session {
                Session::Postgres(pid) => {
                    let mut conn = postgres::connect_plain(&self.url).await.ok()?;
                    let there: bool = sqlx::query_scalar(
                        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)",
                    )
                    .bind(pid)
                    .fetch_one(&mut conn)
                    .await
                    .ok()?;
                    let _ = conn.close().await;
                    there
                }
                Session::MySql(id) => {
                    let mut conn = mysql::connect_plain(&self.url).await.ok()?;
                    let count: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM information_schema.processlist WHERE id = ?",
                    )
                    .bind(id)
                    .fetch_one(&mut conn)
                    .await
                    .ok()?;
                    let _ = conn.close().await;
                    count > 0
                }
            };
            Some(there)
        };
        match tokio::time::timeout(within, attempt).await {
            Ok(Some(true)) => Liveness::Alive,
            Ok(Some(false)) => Liveness::Gone,
            _ => Liveness::NoAnswer,
        }
    }
}
