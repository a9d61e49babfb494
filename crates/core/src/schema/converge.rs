//! Bringing a divergent database to the schema its migrations give at head, without
//! losing data: a plan of additive steps (and, only when asked, destructive ones), applied
//! in one transaction under the migration lock, kept only if the result's fingerprint is
//! the expected one; then the history is stamped to head.

use super::Schema;
use super::diff::{Difference, diff};
use crate::dialect::{Dialect, HistoryValues};
use crate::driver::Driver;
use crate::error::Result;
use crate::history::{HistoryTable, MigrationKind};
use crate::migration::{Migration, Version};
use serde::Serialize;

/// What converging would do.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ConvergePlan {
    pub head: Option<Version>,
    pub expected_fingerprint: String,
    pub fingerprint: String,
    /// Creates or replaces; loses nothing.
    pub additive: Vec<Difference>,
    /// Drops or narrows; run only with `--allow-destructive`.
    pub destructive: Vec<Difference>,
    /// Differences SQL cannot mend (e.g. an extra enum value); a person must.
    pub manual: Vec<Difference>,
}

impl ConvergePlan {
    pub fn new(expected: &Schema, live: &Schema, head: Option<Version>, dialect: Dialect) -> Self {
        let mut plan = ConvergePlan {
            head,
            expected_fingerprint: expected.fingerprint(),
            fingerprint: live.fingerprint(),
            additive: Vec::new(),
            destructive: Vec::new(),
            manual: Vec::new(),
        };
        for difference in diff(expected, live, dialect) {
            match (&difference.sql, difference.destructive) {
                // Made by the change it goes with.
                (None, true) if difference.implied => plan.destructive.push(difference),
                (None, false) if difference.implied => plan.additive.push(difference),
                (None, _) => plan.manual.push(difference),
                (Some(_), false) => plan.additive.push(difference),
                (Some(_), true) => plan.destructive.push(difference),
            }
        }
        plan
    }

    pub fn is_empty(&self) -> bool {
        self.additive.is_empty() && self.destructive.is_empty() && self.manual.is_empty()
    }

    /// The statements that would run.
    pub fn statements(&self, allow_destructive: bool) -> Vec<String> {
        let destructive = if allow_destructive {
            &self.destructive[..]
        } else {
            &[]
        };
        super::diff::statements(self.additive.iter().chain(destructive))
    }
}

/// How applying ended.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ConvergeOutcome {
    /// Committed: the schema is the expected one and these versions were stamped.
    Converged {
        statements: usize,
        stamped: Vec<Version>,
    },
    /// Rolled back: these differences would have remained.
    StillDiffers { remaining: Vec<Difference> },
}

/// Applies the plan in one transaction under the lock; commits only if the database then
/// has the expected schema.
pub async fn apply<D: Driver>(
    driver: &mut D,
    plan: &ConvergePlan,
    allow_destructive: bool,
    expected: &Schema,
    migrations: &[Migration],
    table: &HistoryTable,
    applied_by: &str,
) -> Result<ConvergeOutcome> {
    driver.lock().await?;
    let result = apply_locked(
        driver,
        plan,
        allow_destructive,
        expected,
        migrations,
        table,
        applied_by,
    )
    .await;
    driver.unlock().await;
    result
}

async fn apply_locked<D: Driver>(
    driver: &mut D,
    plan: &ConvergePlan,
    allow_destructive: bool,
    expected: &Schema,
    migrations: &[Migration],
    table: &HistoryTable,
    applied_by: &str,
) -> Result<ConvergeOutcome> {
    // The history table is made inside the transaction, below: a converge that does
    // not commit leaves no trace.
    let recorded: Vec<Version> = driver
        .read_history()
        .await?
        .into_iter()
        .filter(|r| r.success)
        .map(|r| r.version)
        .collect();
    let statements = plan.statements(allow_destructive);
    // Table rebuilds may need the session set up for them (SQLite's foreign keys off).
    let backend = driver.dialect().backend();
    let (before, after) = backend.around_rebuilds();
    for statement in before {
        driver.execute_sql(statement).await?;
    }
    // Where DDL commits as it runs (MySQL), the statements run one by one, and what ran
    // before a failure stays.
    let transactional = backend.transactional_ddl();
    if transactional {
        driver.execute_sql("BEGIN").await?;
    }
    let outcome = async {
        for statement in &statements {
            driver.execute_sql(statement).await?;
        }
        if backend.checks_foreign_keys_after_rebuilds() {
            foreign_key_check(driver).await?;
        }
        let live = driver.inspect().await?;
        if live.fingerprint() != expected.fingerprint() {
            return Ok(ConvergeOutcome::StillDiffers {
                remaining: diff(expected, &live, driver.dialect()),
            });
        }
        let to_record = migrations.iter().filter(|m| {
            !m.repeatable
                && plan.head.is_some_and(|h| m.version <= h)
                && !recorded.contains(&m.version)
        });
        let stamped = record(driver, table, to_record, applied_by).await?;
        Ok(ConvergeOutcome::Converged {
            statements: statements.len(),
            stamped,
        })
    }
    .await;
    let ended = match (&outcome, transactional) {
        (_, false) => Ok(()),
        (Ok(ConvergeOutcome::Converged { .. }), true) => driver.execute_sql("COMMIT").await,
        _ => driver.execute_sql("ROLLBACK").await,
    };
    for statement in after {
        let _ = driver.execute_sql(statement).await;
    }
    if matches!(outcome, Ok(ConvergeOutcome::Converged { .. })) {
        ended?;
    }
    outcome
}

/// Records `migrations` as `baseline` rows, in the transaction the caller opened (the
/// history table is made first if it does not exist); their versions.
async fn record<'a, D: Driver>(
    driver: &mut D,
    table: &HistoryTable,
    migrations: impl Iterator<Item = &'a Migration>,
    applied_by: &str,
) -> Result<Vec<Version>> {
    for statement in driver.dialect().create_history(table) {
        driver.execute_sql(&statement).await?;
    }
    let mut stamped = Vec::new();
    for migration in migrations {
        let row = HistoryValues {
            version: migration.version,
            description: &migration.description,
            checksum: migration.checksum.as_str(),
            kind: MigrationKind::Baseline.as_str(),
            applied_by,
            success: true,
        };
        driver
            .execute_sql(&driver.dialect().insert_history_literal(table, row))
            .await?;
        stamped.push(migration.version);
    }
    Ok(stamped)
}

/// SQLite rebuilds run with foreign keys off: before committing, every row must still
/// meet its foreign keys.
async fn foreign_key_check<D: Driver>(driver: &mut D) -> Result<()> {
    let found = driver.query_rows("PRAGMA foreign_key_check").await?;
    if found.rows.is_empty() {
        return Ok(());
    }
    let mut tables: Vec<String> = found
        .rows
        .iter()
        .filter_map(|row| row.first().and_then(|t| t.as_str()).map(str::to_owned))
        .collect();
    tables.dedup();
    Err(crate::error::Error::ConvergeForeignKeys {
        rows: found.rows.len(),
        tables: tables.join(", "),
    })
}
