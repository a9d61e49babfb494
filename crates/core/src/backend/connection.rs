//! A connection to one database, whatever its backend: a backend's driver behind the
//! engine's [`Driver`] calls. A backend makes one in [`Backend::connect`]; nothing here
//! names a backend.
//!
//! [`Backend::connect`]: super::Backend::connect

use crate::dialect::Dialect;
use crate::driver::rows;
use crate::driver::{
    Canceller, ConnectOptions, Driver, HistoryChange, StepOutcome, StepRun, check_target,
    with_connect_retries,
};
use crate::error::Result;
use crate::history::AppliedMigration;
use crate::migration::Script;
use futures_util::future::BoxFuture;

/// A connection to one database, whatever its backend.
pub struct Connection(Box<dyn DynDriver>);

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
        super::of_kind(kind).connect(url, options).await
    }

    /// A backend's driver, as a connection.
    pub(crate) fn new(driver: impl Driver + 'static) -> Self {
        Connection(Box::new(driver))
    }
}

/// [`Driver`]'s calls with their futures boxed, so that one type holds any driver.
trait DynDriver: Send {
    fn dialect(&self) -> Dialect;
    fn history_exists(&mut self) -> BoxFuture<'_, Result<bool>>;
    fn read_history(&mut self) -> BoxFuture<'_, Result<Vec<AppliedMigration>>>;
    fn ensure_history(&mut self) -> BoxFuture<'_, Result<()>>;
    fn lock(&mut self) -> BoxFuture<'_, Result<()>>;
    fn unlock(&mut self) -> BoxFuture<'_, ()>;
    fn canceller(&self) -> Option<Canceller>;
    fn lock_holder(&mut self) -> BoxFuture<'_, Result<Option<String>>>;
    fn runs_in_transaction(&self, script: &Script) -> bool;
    fn run_step<'a>(&'a mut self, step: StepRun<'a>) -> BoxFuture<'a, Result<StepOutcome>>;
    fn run_steps<'a>(
        &'a mut self,
        steps: &'a [StepRun<'a>],
        done: &'a mut (dyn FnMut(usize, StepOutcome) + Send),
    ) -> BoxFuture<'a, Result<usize>>;
    fn runs_steps_together(&self) -> bool;
    fn change_history<'a>(&'a mut self, changes: &'a [HistoryChange]) -> BoxFuture<'a, Result<()>>;
    fn inspect(&mut self) -> BoxFuture<'_, Result<crate::schema::Schema>>;
    fn execute_sql<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<()>>;
    fn query_rows<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<rows::Rows>>;
    fn close(self: Box<Self>) -> BoxFuture<'static, ()>;
}

impl<T: Driver + 'static> DynDriver for T {
    fn dialect(&self) -> Dialect {
        Driver::dialect(self)
    }
    fn history_exists(&mut self) -> BoxFuture<'_, Result<bool>> {
        Box::pin(Driver::history_exists(self))
    }
    fn read_history(&mut self) -> BoxFuture<'_, Result<Vec<AppliedMigration>>> {
        Box::pin(Driver::read_history(self))
    }
    fn ensure_history(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(Driver::ensure_history(self))
    }
    fn lock(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(Driver::lock(self))
    }
    fn unlock(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(Driver::unlock(self))
    }
    fn canceller(&self) -> Option<Canceller> {
        Driver::canceller(self)
    }
    fn lock_holder(&mut self) -> BoxFuture<'_, Result<Option<String>>> {
        Box::pin(Driver::lock_holder(self))
    }
    fn runs_in_transaction(&self, script: &Script) -> bool {
        Driver::runs_in_transaction(self, script)
    }
    fn run_step<'a>(&'a mut self, step: StepRun<'a>) -> BoxFuture<'a, Result<StepOutcome>> {
        Box::pin(Driver::run_step(self, step))
    }
    fn run_steps<'a>(
        &'a mut self,
        steps: &'a [StepRun<'a>],
        done: &'a mut (dyn FnMut(usize, StepOutcome) + Send),
    ) -> BoxFuture<'a, Result<usize>> {
        Box::pin(Driver::run_steps(self, steps, done))
    }
    fn runs_steps_together(&self) -> bool {
        Driver::runs_steps_together(self)
    }
    fn change_history<'a>(&'a mut self, changes: &'a [HistoryChange]) -> BoxFuture<'a, Result<()>> {
        Box::pin(Driver::change_history(self, changes))
    }
    fn inspect(&mut self) -> BoxFuture<'_, Result<crate::schema::Schema>> {
        Box::pin(Driver::inspect(self))
    }
    fn execute_sql<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(Driver::execute_sql(self, sql))
    }
    fn query_rows<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<rows::Rows>> {
        Box::pin(Driver::query_rows(self, sql))
    }
    fn close(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(Driver::close(*self))
    }
}

impl Driver for Connection {
    fn dialect(&self) -> Dialect {
        self.0.dialect()
    }

    fn history_exists(&mut self) -> impl Future<Output = Result<bool>> + Send {
        self.0.history_exists()
    }

    fn read_history(&mut self) -> impl Future<Output = Result<Vec<AppliedMigration>>> + Send {
        self.0.read_history()
    }

    fn ensure_history(&mut self) -> impl Future<Output = Result<()>> + Send {
        self.0.ensure_history()
    }

    fn lock(&mut self) -> impl Future<Output = Result<()>> + Send {
        self.0.lock()
    }

    fn unlock(&mut self) -> impl Future<Output = ()> + Send {
        self.0.unlock()
    }

    fn lock_holder(&mut self) -> impl Future<Output = Result<Option<String>>> + Send {
        self.0.lock_holder()
    }

    fn canceller(&self) -> Option<Canceller> {
        self.0.canceller()
    }

    fn runs_in_transaction(&self, script: &Script) -> bool {
        self.0.runs_in_transaction(script)
    }

    async fn run_step(&mut self, step: StepRun<'_>) -> Result<StepOutcome> {
        self.0.run_step(step).await
    }

    async fn run_steps(
        &mut self,
        steps: &[StepRun<'_>],
        done: &mut (dyn FnMut(usize, StepOutcome) + Send),
    ) -> Result<usize> {
        self.0.run_steps(steps, done).await
    }

    fn runs_steps_together(&self) -> bool {
        self.0.runs_steps_together()
    }

    async fn change_history(&mut self, changes: &[HistoryChange]) -> Result<()> {
        self.0.change_history(changes).await
    }

    fn inspect(&mut self) -> impl Future<Output = Result<crate::schema::Schema>> + Send {
        self.0.inspect()
    }

    async fn execute_sql(&mut self, sql: &str) -> Result<()> {
        self.0.execute_sql(sql).await
    }

    async fn query_rows(&mut self, sql: &str) -> Result<rows::Rows> {
        self.0.query_rows(sql).await
    }

    fn close(self) -> impl Future<Output = ()> + Send {
        self.0.close()
    }
}
