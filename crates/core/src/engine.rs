//! Runs plans against one database: reads its history, takes the lock, plans, applies step
//! by step and reports events. `up --dry-run`, `up --sql` and `up` share the same plan.

use crate::driver::{Canceller, Driver, HistoryChange, StepOutcome, StepRun};
use crate::error::{Error, PlanError, Result};
use crate::history::{AppliedMigration, MigrationKind};
use crate::migration::{Migration, Version};
use crate::plan::{Direction, Inventory, Plan, PlanOptions, State, Step, Target, plan};
use crate::position::line_column;
use crate::stop::Stop;
use crate::watch::{Watch, watched};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Progress events, for printers.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// The lock is taken and the plan made.
    Planned {
        plan: &'a Plan,
    },
    StepStarted {
        step: &'a Step,
    },
    StepFinished {
        step: &'a Step,
        ms: i64,
    },
    /// Another process applied this step first.
    StepAlreadyDone {
        step: &'a Step,
    },
}

/// Receives events; printers implement it.
pub trait EventSink: Sync {
    fn event(&self, event: Event<'_>);
}

/// Ignores events.
pub struct Silent;

impl EventSink for Silent {
    fn event(&self, _: Event<'_>) {}
}

/// Options for runs that change a database.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub plan: PlanOptions,
    /// Recorded in `applied_by`: `user@host skein/<version>`.
    pub applied_by: String,
    /// Requested (by a signal handler) to stop: every wait ends, a step in a transaction
    /// is cancelled on the server and rolled back, a step outside one is left to finish.
    pub stop: Stop,
    /// The longest one step may run; the server then cancels it.
    pub step_timeout: Option<Duration>,
    /// How often the server is probed while a call runs long (default 15 s); two probes
    /// without an answer end the run.
    pub liveness: Option<Duration>,
}

/// How often the server is probed while a call runs long, unless the options say otherwise.
const LIVENESS: Duration = Duration::from_secs(15);

impl RunOptions {
    /// A watch for a call on the migrating session.
    fn watch<'a>(
        &'a self,
        canceller: Option<&'a Canceller>,
        cancel_on_stop: bool,
        doing: String,
    ) -> Watch<'a> {
        Watch {
            canceller,
            stop: &self.stop,
            cancel_on_stop,
            limit: None,
            liveness: self.liveness.unwrap_or(LIVENESS),
            doing,
        }
    }
}

/// One step that ran.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct StepReport {
    pub version: Version,
    pub description: String,
    pub direction: Direction,
    /// A repeatable migration (`description` is its name).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub repeatable: bool,
    /// `None` when another process did it first.
    pub ms: Option<i64>,
}

/// What a run did to one database.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct RunReport {
    pub version_before: Option<Version>,
    pub version_after: Option<Version>,
    pub steps: Vec<StepReport>,
}

/// A run that stopped on an error, with what it did before.
#[derive(Debug)]
pub struct RunFailure {
    pub report: RunReport,
    pub error: Error,
}

impl From<Error> for RunFailure {
    fn from(error: Error) -> Self {
        RunFailure {
            report: RunReport::default(),
            error,
        }
    }
}

/// Files and history merged; reads only (never creates the history table). An unfinished
/// row while another skein holds the migration lock is running, not failed.
pub async fn inventory<D: Driver>(driver: &mut D, migrations: &[Migration]) -> Result<Inventory> {
    let applied = driver.read_history().await?;
    let inventory = Inventory::new(migrations, &applied);
    if inventory.entries.iter().all(|e| e.state != State::Failed) {
        return Ok(inventory);
    }
    let holder = driver.lock_holder().await?;
    Ok(inventory.with_lock_holder(holder))
}

/// The plan `migrate` would run now, without taking the lock or changing anything.
pub async fn dry_run<D: Driver>(
    driver: &mut D,
    migrations: &[Migration],
    target: Target,
    options: &RunOptions,
) -> Result<Plan> {
    refuse_foreign(driver, target).await?;
    let applied = driver.read_history().await?;
    let plan = plan(migrations, &applied, target, options.plan)?;
    Ok(with_transactions(plan, migrations, driver)?)
}

/// A database another tool migrated, with no skein history yet: going up from the start
/// would fail half-way or, worse, apply twice what the tool applied. Once skein's history
/// table exists (adopted, or migrated by skein and then taken down to base), skein owns
/// the database and another tool's table left there blocks nothing.
async fn refuse_foreign<D: Driver>(driver: &mut D, target: Target) -> Result<()> {
    if matches!(target, Target::Up { .. })
        && !driver.history_exists().await?
        && let Some(table) = crate::adopt::foreign_table(driver).await
    {
        return Err(Error::ForeignHistory {
            table: table.to_owned(),
        });
    }
    Ok(())
}

/// The plan with each step's `transactional` as the backend will run it (MySQL commits
/// DDL implicitly, so there only a file of data statements is one transaction). A file
/// that runs in a transaction must not start or end one itself: that is refused here,
/// before anything runs.
fn with_transactions<D: Driver>(
    mut plan: Plan,
    migrations: &[Migration],
    driver: &D,
) -> Result<Plan, PlanError> {
    let by_version: BTreeMap<Version, &Migration> =
        migrations.iter().map(|m| (m.version, m)).collect();
    let mysql = driver.dialect().backend().begin_opens_a_block();
    for step in &mut plan.steps {
        let migration = by_version.get(&step.version);
        let script = migration.and_then(|m| m.script(step.direction));
        let Some(script) = script else { continue };
        step.transactional = driver.runs_in_transaction(script);
        if step.transactional
            && let Some(control) = script.transaction_control(mysql)
        {
            return Err(PlanError::TransactionControl {
                path: script.path.clone(),
                position: line_column(&script.sql, control.offset),
                statement: control.statement,
            });
        }
    }
    Ok(plan)
}

/// Whether `up` to `target` has nothing to do, read without the lock: `Some` (the report of
/// a run that changed nothing) when the history holds every migration `target` asks for and
/// no problem; `None` when something is pending, something is wrong or there is no history
/// yet, for [`migrate`] to read again under the lock and run or refuse. Runners only move a
/// database forward, so a history read without the lock that has nothing pending stays so:
/// a deploy that finds every database up to date takes no lock anywhere.
pub async fn settled<D: Driver>(
    driver: &mut D,
    migrations: &[Migration],
    target: Target,
    options: &RunOptions,
) -> Result<Option<RunReport>> {
    if !matches!(target, Target::Up { .. }) {
        return Ok(None);
    }
    let applied = driver.read_history().await?;
    if applied.is_empty() {
        return Ok(None);
    }
    Ok(match plan(migrations, &applied, target, options.plan) {
        Ok(plan) if plan.steps.is_empty() => Some(RunReport {
            version_before: plan.version_before,
            version_after: plan.version_after,
            steps: Vec::new(),
        }),
        _ => None,
    })
}

/// Takes the lock, plans `target` and runs it.
pub async fn migrate<D: Driver>(
    driver: &mut D,
    migrations: &[Migration],
    target: Target,
    options: &RunOptions,
    events: &dyn EventSink,
) -> Result<RunReport, RunFailure> {
    let canceller = driver.canceller();
    let waiting = options.watch(
        canceller.as_ref(),
        true,
        "waiting for the migration lock".into(),
    );
    watched(driver.lock(), waiting).await?;
    let result = migrate_locked(
        driver,
        migrations,
        target,
        options,
        events,
        canceller.as_ref(),
    )
    .await;
    // After a lost or cancelled call the session may not answer; closing it frees the lock.
    let _ = tokio::time::timeout(Duration::from_secs(1), driver.unlock()).await;
    result
}

async fn migrate_locked<D: Driver>(
    driver: &mut D,
    migrations: &[Migration],
    target: Target,
    options: &RunOptions,
    events: &dyn EventSink,
    canceller: Option<&Canceller>,
) -> Result<RunReport, RunFailure> {
    // Before the history table is made: its absence is what marks another tool's database.
    refuse_foreign(driver, target).await?;
    let creating = options.watch(canceller, true, "creating the history table".into());
    watched(driver.ensure_history(), creating).await?;
    let reading = options.watch(canceller, true, "reading the history".into());
    let applied = watched(driver.read_history(), reading).await?;
    let plan = match plan(migrations, &applied, target, options.plan)
        .and_then(|plan| with_transactions(plan, migrations, driver))
    {
        Ok(plan) => plan,
        // Refused: the database stays where it is, and the report says where that is.
        Err(error) => {
            let current = Inventory::new(migrations, &applied).current_version();
            return Err(RunFailure {
                report: RunReport {
                    version_before: current,
                    version_after: current,
                    steps: Vec::new(),
                },
                error: error.into(),
            });
        }
    };
    events.event(Event::Planned { plan: &plan });
    let by_version: BTreeMap<Version, &Migration> =
        migrations.iter().map(|m| (m.version, m)).collect();
    let mut report = RunReport {
        version_before: plan.version_before,
        version_after: plan.version_before,
        steps: Vec::new(),
    };
    let runs: Vec<StepRun<'_>> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(index, step)| {
            let migration = by_version[&step.version];
            StepRun {
                version: step.version,
                description: &migration.description,
                direction: step.direction,
                script: migration
                    .script(step.direction)
                    .expect("the planner checked the down file"),
                checksum: migration.checksum.as_str(),
                applied_by: &options.applied_by,
                kind: migration.kind(),
                durable: index + 1 == plan.steps.len(),
            }
        })
        .collect();
    // The steps a driver may be handed together: transactional ones in a row, and only
    // when no step has a time limit of its own.
    let together = driver.runs_steps_together() && options.step_timeout.is_none();
    let mut announced = None;
    let mut index = 0;
    while index < plan.steps.len() {
        let step = &plan.steps[index];
        if options.stop.is_requested() {
            return Err(RunFailure {
                report,
                error: Error::Interrupted { next: step.version },
            });
        }
        let end = if together && step.transactional {
            let in_a_row = plan.steps[index..].iter().take_while(|s| s.transactional);
            index + in_a_row.count()
        } else {
            index + 1
        };
        if announced != Some(index) {
            events.event(Event::StepStarted { step });
        }
        let doing = match end - index {
            1 => format!("running {}", runs[index].script.path.display()),
            n => format!(
                "running {} or one of the {} after it",
                runs[index].script.path.display(),
                n - 1
            ),
        };
        let mut watch = options.watch(canceller, step.transactional, doing);
        if end == index + 1 {
            watch.limit = options.step_timeout.map(|limit| {
                let error = Error::StepTimeout {
                    version: step.version,
                    limit,
                    transactional: step.transactional,
                    confirmed: true,
                };
                (limit, error)
            });
        }
        let mut done = |offset: usize, outcome: StepOutcome| {
            let at = index + offset;
            finished(&plan, at, outcome, &mut report, events);
            if let Some(next) = plan.steps.get(at + 1).filter(|_| at + 1 < end) {
                events.event(Event::StepStarted { step: next });
                announced = Some(at + 1);
            }
        };
        match watched(driver.run_steps(&runs[index..end], &mut done), watch).await {
            Ok(ran) => index += ran,
            Err(error) => return Err(RunFailure { report, error }),
        }
    }
    report.version_after = plan.version_after;
    Ok(report)
}

/// Step `index` of `plan` is done: its event, and its line in the report.
fn finished(
    plan: &Plan,
    index: usize,
    outcome: StepOutcome,
    report: &mut RunReport,
    events: &dyn EventSink,
) {
    let step = &plan.steps[index];
    let ms = match outcome {
        StepOutcome::Ran { ms } => {
            events.event(Event::StepFinished { step, ms });
            Some(ms)
        }
        StepOutcome::AlreadyDone => {
            events.event(Event::StepAlreadyDone { step });
            None
        }
    };
    report.steps.push(StepReport {
        version: step.version,
        description: step.description.clone(),
        direction: step.direction,
        repeatable: step.repeatable,
        ms,
    });
    report.version_after = version_after_step(plan, step);
}

/// The current version once `step` has run (going down, the next older applied step).
fn version_after_step(plan: &Plan, step: &Step) -> Option<Version> {
    match step.direction {
        Direction::Up if step.repeatable => plan.version_after,
        Direction::Up => Some(step.version),
        Direction::Down => {
            let index = plan.steps.iter().position(|s| s.version == step.version)?;
            match plan.steps.get(index + 1) {
                Some(next) => Some(next.version),
                None => plan.version_after,
            }
        }
    }
}

/// What `stamp` records as applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StampTarget {
    Version(Version),
    Head,
    Base,
}

/// One change `stamp` or `repair` made to the history, for the report.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct HistoryEdit {
    pub version: Version,
    pub description: String,
    pub action: EditAction,
}

/// What `stamp`, `repair` or `adopt` did to one history row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EditAction {
    /// Recorded as applied without running it (`stamp`).
    Stamped,
    /// Its row removed without running its down file (`stamp` to an older version).
    Unrecorded,
    /// Recorded as applied because another tool applied it (`adopt`).
    Baseline,
    /// Its down file had failed part-way: marked applied again.
    Restored,
    /// Its failed row removed, so that `up` runs it again.
    RemovedFailed,
    /// The row of a file that no longer exists removed.
    RemovedMissing,
    /// The edited file's checksum recorded.
    ChecksumRecorded,
}

impl EditAction {
    /// In words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            EditAction::Stamped => "stamped",
            EditAction::Unrecorded => "unrecorded",
            EditAction::Baseline => "recorded as applied (baseline)",
            EditAction::Restored => {
                "its down file had failed: marked applied again; `down` reverts it again"
            }
            EditAction::RemovedFailed => "removed the failed row; `up` runs it again",
            EditAction::RemovedMissing => "removed the row of the missing file",
            EditAction::ChecksumRecorded => "recorded the edited file's checksum",
        }
    }
}

/// Records migrations as applied (or not) without running them: every version up to the
/// target is recorded, every newer row removed.
pub async fn stamp<D: Driver>(
    driver: &mut D,
    migrations: &[Migration],
    target: StampTarget,
    applied_by: &str,
) -> Result<Vec<HistoryEdit>> {
    let limit = match target {
        StampTarget::Base => None,
        StampTarget::Head => crate::migration::head(migrations),
        StampTarget::Version(v) => {
            if !migrations.iter().any(|m| m.version == v) {
                return Err(crate::error::PlanError::UnknownVersion(v).into());
            }
            Some(v)
        }
    };
    driver.lock().await?;
    let result = async {
        driver.ensure_history().await?;
        let applied = driver.read_history().await?;
        let (changes, edits) = stamp_changes(migrations, &applied, limit, applied_by);
        driver.change_history(&changes).await?;
        Ok(edits)
    }
    .await;
    driver.unlock().await;
    result
}

fn stamp_changes(
    migrations: &[Migration],
    applied: &[AppliedMigration],
    limit: Option<Version>,
    applied_by: &str,
) -> (Vec<HistoryChange>, Vec<HistoryEdit>) {
    let rows: BTreeMap<Version, &AppliedMigration> =
        applied.iter().map(|r| (r.version, r)).collect();
    let mut changes = Vec::new();
    let mut edits = Vec::new();
    for row in applied {
        let keep = limit.is_some_and(|limit| row.version <= limit) && row.success;
        if !keep {
            changes.push(HistoryChange::Delete {
                version: row.version,
            });
            edits.push(HistoryEdit {
                version: row.version,
                description: row.description.clone(),
                action: EditAction::Unrecorded,
            });
        }
    }
    for migration in migrations
        .iter()
        .filter(|m| !m.repeatable && limit.is_some_and(|l| m.version <= l))
    {
        let recorded = rows.get(&migration.version).is_some_and(|r| r.success);
        if !recorded {
            changes.push(HistoryChange::Insert {
                version: migration.version,
                description: migration.description.clone(),
                checksum: migration.checksum.to_string(),
                kind: MigrationKind::Stamp,
                applied_by: applied_by.to_owned(),
            });
            edits.push(HistoryEdit {
                version: migration.version,
                description: migration.description.clone(),
                action: EditAction::Stamped,
            });
        }
    }
    (changes, edits)
}

/// Clears failed rows (so they run again), forgets rows whose file is gone and records the
/// checksums of edited files.
pub async fn repair<D: Driver>(
    driver: &mut D,
    migrations: &[Migration],
) -> Result<Vec<HistoryEdit>> {
    driver.lock().await?;
    let result = async {
        let applied = driver.read_history().await?;
        let inventory = Inventory::new(migrations, &applied);
        let checksums: BTreeMap<Version, &str> = migrations
            .iter()
            .map(|m| (m.version, m.checksum.as_str()))
            .collect();
        let mut changes = Vec::new();
        let mut edits = Vec::new();
        for entry in &inventory.entries {
            let reverting = entry.applied.as_ref().is_some_and(|a| a.reverting);
            let (change, action) = match entry.state {
                State::Failed if reverting => (
                    HistoryChange::Restore {
                        version: entry.version,
                    },
                    EditAction::Restored,
                ),
                State::Failed => (
                    HistoryChange::Delete {
                        version: entry.version,
                    },
                    EditAction::RemovedFailed,
                ),
                State::Missing => (
                    HistoryChange::Delete {
                        version: entry.version,
                    },
                    EditAction::RemovedMissing,
                ),
                State::Modified => (
                    HistoryChange::SetChecksum {
                        version: entry.version,
                        checksum: checksums[&entry.version].to_owned(),
                    },
                    EditAction::ChecksumRecorded,
                ),
                // Read with the lock held: nothing else is running.
                State::Applied | State::Pending | State::Running => continue,
            };
            changes.push(change);
            edits.push(HistoryEdit {
                version: entry.version,
                description: entry.description.clone(),
                action,
            });
        }
        if !changes.is_empty() {
            driver.change_history(&changes).await?;
        }
        Ok(edits)
    }
    .await;
    driver.unlock().await;
    result
}
