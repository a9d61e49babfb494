//! A connection to one database, whatever its backend: the one place the engine's
//! [`Driver`] calls are handed to a backend's driver.

use crate::backend::mysql::driver::MySqlDriver;
use crate::backend::postgres::driver::PostgresDriver;
use crate::backend::sqlite::driver::SqliteDriver;
use crate::dialect::Dialect;
use crate::driver::rows;
use crate::driver::{
    Canceller, ConnectOptions, Driver, HistoryChange, StepOutcome, StepRun, check_target,
    with_connect_retries,
};
use crate::error::Result;
use crate::history::AppliedMigration;
use crate::migration::Script;

/// A connection to one database, whatever its backend.
pub enum Connection {
    Postgres(Box<PostgresDriver>),
    Sqlite(Box<SqliteDriver>),
    MySql(Box<MySqlDriver>),
}

impl Connection {
    /// Connects to `url` (the scheme picks the backend), retrying passing failures with
    /// backoff until `connect_timeout`; other failures are returned at once.
    pub async fn open(url: &str, options: ConnectOptions) -> Result<Self> {
        check_target(url, &options.history_table)?;
        let options = options.bounded();
        let stop = options.stop.clone();
        with_connect_retries(url, options.connect_timeout, &stop, || {
            Self::open_once(url, options.clone())
        })
        .await
    }

    async fn open_once(url: &str, options: ConnectOptions) -> Result<Self> {
        let kind = crate::driver::kind_of(url)?;
        super::connect(kind, url, options).await
    }
}

macro_rules! dispatch {
    ($self:expr, $driver:ident => $body:expr) => {
        match $self {
            Connection::Postgres($driver) => $body,
            Connection::Sqlite($driver) => $body,
            Connection::MySql($driver) => $body,
        }
    };
}

impl Driver for Connection {
    fn dialect(&self) -> Dialect {
        dispatch!(self, d => d.dialect())
    }

    async fn history_exists(&mut self) -> Result<bool> {
        dispatch!(self, d => d.history_exists().await)
    }

    async fn read_history(&mut self) -> Result<Vec<AppliedMigration>> {
        dispatch!(self, d => d.read_history().await)
    }

    async fn ensure_history(&mut self) -> Result<()> {
        dispatch!(self, d => d.ensure_history().await)
    }

    async fn lock(&mut self) -> Result<()> {
        dispatch!(self, d => d.lock().await)
    }

    async fn unlock(&mut self) {
        dispatch!(self, d => d.unlock().await)
    }

    async fn lock_holder(&mut self) -> Result<Option<String>> {
        dispatch!(self, d => d.lock_holder().await)
    }

    fn canceller(&self) -> Option<Canceller> {
        dispatch!(self, d => d.canceller())
    }

    fn runs_in_transaction(&self, script: &Script) -> bool {
        dispatch!(self, d => d.runs_in_transaction(script))
    }

    async fn run_step(&mut self, step: StepRun<'_>) -> Result<StepOutcome> {
        dispatch!(self, d => d.run_step(step).await)
    }

    async fn change_history(&mut self, changes: &[HistoryChange]) -> Result<()> {
        dispatch!(self, d => d.change_history(changes).await)
    }

    async fn inspect(&mut self) -> Result<crate::schema::Schema> {
        dispatch!(self, d => d.inspect().await)
    }

    async fn execute_sql(&mut self, sql: &str) -> Result<()> {
        dispatch!(self, d => d.execute_sql(sql).await)
    }

    async fn query_rows(&mut self, sql: &str) -> Result<rows::Rows> {
        dispatch!(self, d => d.query_rows(sql).await)
    }

    async fn close(self) {
        dispatch!(self, d => d.close().await)
    }
}
