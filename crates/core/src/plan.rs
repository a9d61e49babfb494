//! The planner: a pure function of the migration files, the history rows and what was
//! asked for. It never touches a database, so every rule is tested here table-driven.

use crate::error::PlanError;
use crate::history::AppliedMigration;
use crate::migration::{Migration, Version};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where a migration stands in one database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Applied,
    Pending,
    /// Applied, but the file changed since.
    Modified,
    /// Applied, but the file is gone.
    Missing,
    /// Failed part-way outside a transaction.
    Failed,
    /// Unfinished, and another skein holds the migration lock: it is running now.
    Running,
}

/// One version, as the files and the history see it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Entry {
    pub version: Version,
    pub description: String,
    pub state: State,
    pub file: Option<PathBuf>,
    /// The file's checksum, when there is a file.
    pub checksum: Option<String>,
    pub applied: Option<AppliedMigration>,
    /// A repeatable migration: `description` is its name, `version` its history key;
    /// pending again whenever its file changes, and never reverted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub repeatable: bool,
}

impl Entry {
    /// Which way an unfinished row's step was going.
    fn unfinished_direction(&self) -> Direction {
        if self.applied.as_ref().is_some_and(|a| a.reverting) {
            Direction::Down
        } else {
            Direction::Up
        }
    }
}

/// Every version of a database, files and history merged, by version.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Inventory {
    pub entries: Vec<Entry>,
    /// Who holds the migration lock, when another skein does.
    #[serde(skip)]
    pub running_by: Option<String>,
}

/// Something that stops `up` until a person deals with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    Modified {
        version: Version,
        file: PathBuf,
        recorded: String,
        actual: String,
    },
    Missing {
        version: Version,
        description: String,
    },
    Failed {
        version: Version,
        /// The file that failed: the down file when it failed going down.
        file: Option<PathBuf>,
        direction: Direction,
    },
    /// A step another skein is running at this moment.
    Running {
        version: Version,
        file: Option<PathBuf>,
        direction: Direction,
        /// Who holds the migration lock (pid, host, program).
        by: String,
        /// When the step started (its row's `applied_at`).
        since: String,
    },
    OutOfOrder {
        version: Version,
        file: PathBuf,
        newest_applied: Version,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Modified { version, file, .. } => write!(
                f,
                "{} (version {version}) was edited after it was applied; restore it, or if the edit is intended run `skein repair` to record its new checksum",
                file.display()
            ),
            Problem::Missing {
                version,
                description,
            } => write!(
                f,
                "version {version} ({description}) is applied but its file is missing; restore the file, or run `skein repair` to forget the row"
            ),
            Problem::Failed {
                version,
                file,
                direction,
            } => {
                let file = file
                    .as_ref()
                    .map(|p| format!(" ({})", p.display()))
                    .unwrap_or_default();
                let version = version_label(*version);
                match direction {
                    Direction::Up => write!(
                        f,
                        "{version}{file} failed part-way outside a transaction; undo what it did by hand, then run `skein repair` (`up` then runs it again)"
                    ),
                    Direction::Down => write!(
                        f,
                        "{version}{file} failed part-way going down, outside a transaction; put back what it undid by hand, then run `skein repair` (the migration counts as applied again, and `down` reverts it again)"
                    ),
                }
            }
            Problem::Running {
                version,
                file,
                direction,
                by,
                since,
            } => write!(
                f,
                "{}{} is {} now, by {by}, since {since}; wait for it",
                version_label(*version),
                file.as_ref()
                    .map(|p| format!(" ({})", p.display()))
                    .unwrap_or_default(),
                match direction {
                    Direction::Up => "being applied",
                    Direction::Down => "being reverted",
                }
            ),
            Problem::OutOfOrder {
                version,
                file,
                newest_applied,
            } => write!(
                f,
                "{} (version {version}) is pending but older than the newest applied version {newest_applied}; renumber it, or pass --allow-out-of-order",
                file.display()
            ),
        }
    }
}

/// `version 20240101120000`, or `a repeatable migration` for a repeatable one's key.
pub fn version_label(version: Version) -> String {
    if crate::migration::is_repeatable_version(version) {
        "a repeatable migration".to_owned()
    } else {
        format!("version {version}")
    }
}

impl Inventory {
    pub fn new(migrations: &[Migration], applied: &[AppliedMigration]) -> Self {
        let mut merged: BTreeMap<Version, (Option<&Migration>, Option<&AppliedMigration>)> =
            BTreeMap::new();
        for migration in migrations {
            merged.entry(migration.version).or_default().0 = Some(migration);
        }
        for row in applied {
            merged.entry(row.version).or_default().1 = Some(row);
        }
        let mut entries: Vec<Entry> = merged
            .into_iter()
            .map(|(version, (file, row))| Entry {
                version,
                description: file
                    .map(|m| m.description.clone())
                    .or_else(|| row.map(|r| r.description.clone()))
                    .unwrap_or_default(),
                state: state_of(file, row),
                file: file.map(|m| match (&m.down, row.is_some_and(|r| r.reverting)) {
                    (Some(down), true) => down.path.clone(),
                    _ => m.up.path.clone(),
                }),
                checksum: file.map(|m| m.checksum.to_string()),
                applied: row.cloned(),
                repeatable: file.map_or_else(
                    || row.is_some_and(|r| r.kind == crate::history::MigrationKind::Repeatable),
                    |m| m.repeatable,
                ),
            })
            .collect();
        // The versioned migrations by version, then the repeatable ones by name.
        entries.sort_by(|a, b| {
            (
                a.repeatable,
                a.repeatable.then_some(&a.description),
                a.version,
            )
                .cmp(&(
                    b.repeatable,
                    b.repeatable.then_some(&b.description),
                    b.version,
                ))
        });
        Inventory {
            entries,
            running_by: None,
        }
    }

    /// Read while another skein holds the migration lock (`holder`): its unfinished rows
    /// are running, not failed.
    pub fn with_lock_holder(mut self, holder: Option<String>) -> Self {
        if holder.is_some() {
            for entry in &mut self.entries {
                if entry.state == State::Failed {
                    entry.state = State::Running;
                }
            }
        }
        self.running_by = holder;
        self
    }

    /// The newest version whose row is a success; `None` for an empty history.
    pub fn current_version(&self) -> Option<Version> {
        self.entries
            .iter()
            .filter(|e| !e.repeatable && e.applied.as_ref().is_some_and(|a| a.success))
            .map(|e| e.version)
            .max()
    }

    /// The newest version among the files.
    pub fn head_version(&self) -> Option<Version> {
        self.entries
            .iter()
            .filter(|e| !e.repeatable && e.file.is_some())
            .map(|e| e.version)
            .max()
    }

    pub fn pending(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.state == State::Pending)
    }

    /// What blocks `up`; out-of-order pending versions count unless allowed.
    pub fn problems(&self, allow_out_of_order: bool) -> Vec<Problem> {
        let newest_applied = self.current_version();
        self.entries
            .iter()
            .filter_map(|entry| match entry.state {
                State::Applied => None,
                // A repeatable whose file is gone is left as it is: what it made stays,
                // and nothing applies it again. A changed one is pending.
                State::Missing | State::Pending if entry.repeatable => None,
                State::Modified => Some(Problem::Modified {
                    version: entry.version,
                    file: entry.file.clone().unwrap_or_default(),
                    recorded: entry
                        .applied
                        .as_ref()
                        .map(|a| a.checksum.clone())
                        .unwrap_or_default(),
                    actual: entry.checksum.clone().unwrap_or_default(),
                }),
                State::Missing => Some(Problem::Missing {
                    version: entry.version,
                    description: entry.description.clone(),
                }),
                State::Failed => Some(Problem::Failed {
                    version: entry.version,
                    file: entry.file.clone(),
                    direction: entry.unfinished_direction(),
                }),
                State::Running => Some(Problem::Running {
                    version: entry.version,
                    file: entry.file.clone(),
                    direction: entry.unfinished_direction(),
                    by: self.running_by.clone().unwrap_or_default(),
                    since: entry
                        .applied
                        .as_ref()
                        .map(|a| a.applied_at.clone())
                        .unwrap_or_default(),
                }),
                State::Pending => match newest_applied {
                    Some(newest) if entry.version < newest && !allow_out_of_order => {
                        Some(Problem::OutOfOrder {
                            version: entry.version,
                            file: entry.file.clone().unwrap_or_default(),
                            newest_applied: newest,
                        })
                    }
                    _ => None,
                },
            })
            .collect()
    }
}

fn state_of(file: Option<&Migration>, row: Option<&AppliedMigration>) -> State {
    match (file, row) {
        (_, Some(row)) if !row.success => State::Failed,
        // A repeatable migration whose file changed is applied again.
        (Some(file), Some(row)) if file.repeatable && file.checksum.as_str() != row.checksum => {
            State::Pending
        }
        (Some(file), Some(row)) if file.checksum.as_str() != row.checksum => State::Modified,
        (Some(_), Some(_)) => State::Applied,
        (None, Some(_)) => State::Missing,
        (Some(_), None) => State::Pending,
        (None, None) => unreachable!("an entry has a file or a row"),
    }
}

/// What was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Apply pending migrations, up to and including `to` if given, at most `steps` of
    /// them if given.
    Up {
        to: Option<Version>,
        steps: Option<u32>,
    },
    /// Revert applied migrations.
    Down(DownTarget),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownTarget {
    /// The newest N applied migrations.
    Steps(u32),
    /// Every applied migration newer than this version.
    To(Version),
    /// Every applied migration.
    Base,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanOptions {
    pub allow_out_of_order: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
}

/// One migration to run in one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Step {
    pub version: Version,
    pub description: String,
    pub direction: Direction,
    /// The script that runs.
    pub file: PathBuf,
    pub transactional: bool,
    /// A repeatable migration, applied (again) after the versioned ones.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub repeatable: bool,
}

impl Step {
    /// How a person names the step's migration: its version, or `repeatable`.
    pub fn version_text(&self) -> String {
        match self.repeatable {
            true => "repeatable".to_owned(),
            false => self.version.to_string(),
        }
    }
}

/// The steps to run, in order, and the versions before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Plan {
    pub version_before: Option<Version>,
    pub version_after: Option<Version>,
    pub steps: Vec<Step>,
}

/// Plans `target` for a database with these files and history rows.
pub fn plan(
    migrations: &[Migration],
    applied: &[AppliedMigration],
    target: Target,
    options: PlanOptions,
) -> Result<Plan, PlanError> {
    let inventory = Inventory::new(migrations, applied);
    let by_version: BTreeMap<Version, &Migration> =
        migrations.iter().map(|m| (m.version, m)).collect();
    match target {
        Target::Up { to, steps } => plan_up(&inventory, &by_version, to, steps, options),
        Target::Down(down) => plan_down(&inventory, &by_version, down),
    }
}

fn plan_up(
    inventory: &Inventory,
    by_version: &BTreeMap<Version, &Migration>,
    to: Option<Version>,
    steps: Option<u32>,
    options: PlanOptions,
) -> Result<Plan, PlanError> {
    if let Some(to) = to
        && !by_version.contains_key(&to)
    {
        return Err(PlanError::UnknownVersion(to));
    }
    let problems = inventory.problems(options.allow_out_of_order);
    if !problems.is_empty() {
        return Err(PlanError::Blocked(problems));
    }
    let versioned: Vec<&Entry> = inventory.pending().filter(|e| !e.repeatable).collect();
    let chosen: Vec<&Entry> = versioned
        .iter()
        .copied()
        .filter(|e| to.is_none_or(|to| e.version <= to))
        .take(steps.map_or(usize::MAX, |n| n as usize))
        .collect();
    // The repeatable migrations run once every versioned one has: they are written for
    // the schema at head (views, functions, seed data).
    let reaches_head = chosen.len() == versioned.len();
    let repeatables = inventory.pending().filter(|e| e.repeatable && reaches_head);
    let steps: Vec<Step> = chosen
        .into_iter()
        .chain(repeatables)
        .map(|e| {
            let migration = by_version[&e.version];
            if migration.up.is_unwritten() {
                return Err(PlanError::EmptyUp {
                    path: migration.up.path.clone(),
                });
            }
            Ok(Step {
                version: e.version,
                description: migration.description.clone(),
                direction: Direction::Up,
                file: migration.up.path.clone(),
                transactional: !migration.up.no_transaction,
                repeatable: migration.repeatable,
            })
        })
        .collect::<Result<_, _>>()?;
    let version_before = inventory.current_version();
    let version_after = steps
        .iter()
        .filter(|s| !s.repeatable)
        .map(|s| s.version)
        .chain(version_before)
        .max();
    Ok(Plan {
        version_before,
        version_after,
        steps,
    })
}

fn plan_down(
    inventory: &Inventory,
    by_version: &BTreeMap<Version, &Migration>,
    target: DownTarget,
) -> Result<Plan, PlanError> {
    let problems: Vec<Problem> = inventory
        .problems(true)
        .into_iter()
        .filter(|p| !matches!(p, Problem::Missing { .. }))
        .collect();
    if !problems.is_empty() {
        return Err(PlanError::Blocked(problems));
    }
    // Newest first; repeatable migrations are not reverted.
    let applied: Vec<&Entry> = inventory
        .entries
        .iter()
        .rev()
        .filter(|e| e.applied.is_some() && !e.repeatable)
        .collect();
    let revert: Vec<&Entry> = match target {
        DownTarget::Steps(n) => {
            if n as usize > applied.len() {
                return Err(PlanError::NotEnoughApplied {
                    requested: n,
                    applied: applied.len(),
                });
            }
            applied[..n as usize].to_vec()
        }
        DownTarget::To(to) => {
            let known = by_version.contains_key(&to) || applied.iter().any(|e| e.version == to);
            if !known {
                return Err(PlanError::UnknownVersion(to));
            }
            applied.into_iter().filter(|e| e.version > to).collect()
        }
        DownTarget::Base => applied,
    };
    let steps = revert
        .iter()
        .map(|entry| {
            let migration = by_version
                .get(&entry.version)
                .ok_or(PlanError::MissingForDown {
                    version: entry.version,
                })?;
            let down = migration
                .down
                .as_ref()
                .ok_or_else(|| PlanError::Irreversible {
                    version: entry.version,
                    path: migration.up.path.clone(),
                })?;
            if down.is_unwritten() {
                return Err(PlanError::EmptyDown {
                    version: entry.version,
                    path: down.path.clone(),
                });
            }
            Ok(Step {
                version: entry.version,
                description: migration.description.clone(),
                direction: Direction::Down,
                file: down.path.clone(),
                transactional: !down.no_transaction,
                repeatable: false,
            })
        })
        .collect::<Result<Vec<_>, PlanError>>()?;
    let reverted: Vec<Version> = steps.iter().map(|s| s.version).collect();
    let version_after = inventory
        .entries
        .iter()
        .filter(|e| e.applied.is_some() && !e.repeatable && !reverted.contains(&e.version))
        .map(|e| e.version)
        .max();
    Ok(Plan {
        version_before: inventory.current_version(),
        version_after,
        steps,
    })
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // test tables read best inline
mod tests {
    use super::*;
    use crate::history::MigrationKind;
    use crate::source::{MemorySource, MigrationSource};

    /// Files: versions 1..=4; 3 is irreversible, 4 runs outside a transaction.
    fn files() -> Vec<Migration> {
        MemorySource::new([
            ("1_a.up.sql", "CREATE TABLE a (id INT);"),
            ("1_a.down.sql", "DROP TABLE a;"),
            ("2_b.up.sql", "CREATE TABLE b (id INT);"),
            ("2_b.down.sql", "DROP TABLE b;"),
            ("3_c.sql", "CREATE TABLE c (id INT);"),
            (
                "4_d.up.sql",
                "-- skein:no-transaction\nCREATE INDEX CONCURRENTLY d ON a (id);",
            ),
            ("4_d.down.sql", "DROP INDEX d;"),
        ])
        .load()
        .unwrap()
    }

    /// History rows for `versions`; a negative version is a failed row, and version 100+v
    /// stands for v with a wrong checksum.
    fn rows(versions: &[i64]) -> Vec<AppliedMigration> {
        let files = files();
        versions
            .iter()
            .map(|&v| {
                let (version, success, edited) = match v {
                    v if v < 0 => (-v, false, false),
                    v if v > 100 => (v - 100, true, true),
                    v => (v, true, false),
                };
                let checksum = files
                    .iter()
                    .find(|m| m.version == version)
                    .filter(|_| !edited)
                    .map_or("sha256:old".to_owned(), |m| m.checksum.to_string());
                AppliedMigration {
                    version,
                    description: format!("v{version}"),
                    checksum,
                    kind: MigrationKind::Migration,
                    applied_at: String::new(),
                    applied_by: String::new(),
                    execution_ms: 0,
                    success,
                    reverting: false,
                }
            })
            .collect()
    }

    fn versions(plan: &Plan) -> Vec<i64> {
        plan.steps.iter().map(|s| s.version).collect()
    }

    #[test]
    fn up_plans() {
        let up = |to| Target::Up { to, steps: None };
        let cases: &[(&[i64], Target, &[i64], Option<i64>, Option<i64>)] = &[
            (&[], up(None), &[1, 2, 3, 4], None, Some(4)),
            (&[1, 2], up(None), &[3, 4], Some(2), Some(4)),
            (&[1, 2, 3, 4], up(None), &[], Some(4), Some(4)),
            (&[], up(Some(2)), &[1, 2], None, Some(2)),
            (&[1, 2, 3], up(Some(2)), &[], Some(3), Some(3)),
        ];
        for (applied, target, expected, before, after) in cases {
            let plan = plan(&files(), &rows(applied), *target, PlanOptions::default()).unwrap();
            assert_eq!(versions(&plan), *expected, "{applied:?} {target:?}");
            assert_eq!((plan.version_before, plan.version_after), (*before, *after));
        }
    }

    #[test]
    fn up_marks_no_transaction_steps() {
        let plan = plan(
            &files(),
            &rows(&[1, 2, 3]),
            Target::Up {
                to: None,
                steps: None,
            },
            PlanOptions::default(),
        )
        .unwrap();
        assert!(!plan.steps[0].transactional);
        assert!(plan.steps[0].file.ends_with("4_d.up.sql"));
    }

    #[test]
    fn up_is_blocked_by_problems() {
        let blocked = |applied: &[i64], allow: bool| {
            let options = PlanOptions {
                allow_out_of_order: allow,
            };
            match plan(
                &files(),
                &rows(applied),
                Target::Up {
                    to: None,
                    steps: None,
                },
                options,
            ) {
                Err(PlanError::Blocked(problems)) => problems,
                other => panic!("{applied:?}: {other:?}"),
            }
        };
        assert!(matches!(
            blocked(&[1, 102], false)[..],
            [Problem::Modified { version: 2, .. }]
        ));
        assert!(matches!(
            blocked(&[1, -2], false)[..],
            [Problem::Failed { version: 2, .. }]
        ));
        assert!(matches!(
            blocked(&[1, 3], false)[..],
            [Problem::OutOfOrder {
                version: 2,
                newest_applied: 3,
                ..
            }]
        ));
        let mut with_missing = rows(&[1]);
        with_missing.push(AppliedMigration {
            version: 9,
            ..with_missing[0].clone()
        });
        match plan(
            &files(),
            &with_missing,
            Target::Up {
                to: None,
                steps: None,
            },
            PlanOptions::default(),
        ) {
            Err(PlanError::Blocked(problems)) => {
                // 2..=4 are also older than the (missing) newest applied version 9.
                assert!(
                    matches!(problems[3], Problem::Missing { version: 9, .. }),
                    "{problems:?}"
                );
                assert_eq!(problems.len(), 4);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn out_of_order_is_applied_when_allowed() {
        let options = PlanOptions {
            allow_out_of_order: true,
        };
        let plan = plan(
            &files(),
            &rows(&[1, 3]),
            Target::Up {
                to: None,
                steps: None,
            },
            options,
        )
        .unwrap();
        assert_eq!(versions(&plan), [2, 4]);
    }

    #[test]
    fn unknown_target_version_is_an_error() {
        let err = plan(
            &files(),
            &[],
            Target::Up {
                to: Some(7),
                steps: None,
            },
            PlanOptions::default(),
        );
        assert!(matches!(err, Err(PlanError::UnknownVersion(7))));
    }

    #[test]
    fn down_plans() {
        let down = Target::Down;
        let cases: &[(&[i64], Target, &[i64], Option<i64>)] = &[
            (&[1, 2], down(DownTarget::Steps(1)), &[2], Some(1)),
            (&[1, 2], down(DownTarget::Steps(2)), &[2, 1], None),
            (&[1, 2], down(DownTarget::Base), &[2, 1], None),
            (&[1, 2], down(DownTarget::To(1)), &[2], Some(1)),
            (&[1, 2, 3, 4], down(DownTarget::To(3)), &[4], Some(3)),
            (&[1, 2], down(DownTarget::Steps(0)), &[], Some(2)),
        ];
        for (applied, target, expected, after) in cases {
            let plan = plan(&files(), &rows(applied), *target, PlanOptions::default()).unwrap();
            assert_eq!(versions(&plan), *expected, "{applied:?} {target:?}");
            assert_eq!(plan.version_after, *after, "{applied:?} {target:?}");
            assert!(plan.steps.iter().all(|s| s.direction == Direction::Down));
        }
    }

    #[test]
    fn down_errors() {
        let down = |applied: &[i64], target| {
            plan(
                &files(),
                &rows(applied),
                Target::Down(target),
                PlanOptions::default(),
            )
        };
        assert!(matches!(
            down(&[1, 2], DownTarget::Steps(3)),
            Err(PlanError::NotEnoughApplied {
                requested: 3,
                applied: 2
            })
        ));
        assert!(matches!(
            down(&[1, 2, 3], DownTarget::Steps(1)),
            Err(PlanError::Irreversible { version: 3, .. })
        ));
        assert!(matches!(
            down(&[1, 2], DownTarget::To(77)),
            Err(PlanError::UnknownVersion(77))
        ));
        assert!(matches!(
            down(&[1, -2], DownTarget::Steps(1)),
            Err(PlanError::Blocked(_))
        ));
        let empty_up = MemorySource::new([
            ("1_a.up.sql", "CREATE TABLE a (id INT);"),
            ("2_b.up.sql", "-- Add migration script here\n"),
        ])
        .load()
        .unwrap();
        // Applied already, it stays; pending, it is refused.
        assert!(
            plan(
                &empty_up[..1],
                &rows(&[]),
                Target::Up {
                    to: None,
                    steps: None
                },
                PlanOptions::default()
            )
            .is_ok()
        );
        assert!(matches!(
            plan(
                &empty_up,
                &rows(&[1]),
                Target::Up {
                    to: None,
                    steps: None
                },
                PlanOptions::default()
            ),
            Err(PlanError::EmptyUp { .. })
        ));
        let empty_down = MemorySource::new([
            ("1_a.up.sql", "CREATE TABLE a (id INT);"),
            ("1_a.down.sql", "-- Add down migration script here\n"),
        ])
        .load()
        .unwrap();
        assert!(matches!(
            plan(
                &empty_down,
                &rows(&[1]),
                Target::Down(DownTarget::Steps(1)),
                PlanOptions::default()
            ),
            Err(PlanError::EmptyDown { version: 1, .. })
        ));
    }

    #[test]
    fn inventory_states() {
        let mut applied = rows(&[1, 102, -3]);
        applied.push(AppliedMigration {
            version: 9,
            ..applied[0].clone()
        });
        let inventory = Inventory::new(&files(), &applied);
        let states: Vec<(i64, State)> = inventory
            .entries
            .iter()
            .map(|e| (e.version, e.state))
            .collect();
        assert_eq!(
            states,
            [
                (1, State::Applied),
                (2, State::Modified),
                (3, State::Failed),
                (4, State::Pending),
                (9, State::Missing)
            ]
        );
        assert_eq!(inventory.current_version(), Some(9));
        assert_eq!(inventory.head_version(), Some(4));
    }

    /// Versions 1 and 2, and two repeatable migrations (`views`, `seed`).
    fn with_repeatables(views: &str) -> Vec<Migration> {
        MemorySource::new([
            ("1_a.up.sql", "CREATE TABLE a (id INT);"),
            ("1_a.down.sql", "DROP TABLE a;"),
            ("2_b.up.sql", "CREATE TABLE b (id INT);"),
            ("2_b.down.sql", "DROP TABLE b;"),
            ("repeatable/views.sql", views),
            ("repeatable/seed.sql", "INSERT INTO a VALUES (0);"),
        ])
        .load()
        .unwrap()
    }

    /// Rows for `files` as applied (with their checksums).
    fn applied(files: &[Migration]) -> Vec<AppliedMigration> {
        files
            .iter()
            .map(|m| AppliedMigration {
                version: m.version,
                description: m.description.clone(),
                checksum: m.checksum.to_string(),
                kind: m.kind(),
                applied_at: String::new(),
                applied_by: String::new(),
                execution_ms: 0,
                success: true,
                reverting: false,
            })
            .collect()
    }

    fn names(plan: &Plan) -> Vec<String> {
        plan.steps.iter().map(|s| s.description.clone()).collect()
    }

    #[test]
    fn repeatable_migrations_run_after_the_versioned_ones_when_they_change() {
        let up = Target::Up {
            to: None,
            steps: None,
        };
        let files = with_repeatables("CREATE VIEW v AS SELECT 1;");
        let fresh = plan(&files, &[], up, PlanOptions::default()).unwrap();
        assert_eq!(names(&fresh), ["a", "b", "seed", "views"]);
        assert_eq!(fresh.version_after, Some(2));
        assert!(fresh.steps[2].repeatable && !fresh.steps[1].repeatable);

        // Applied as they are: nothing to do, and no problem.
        let rows = applied(&files);
        let done = plan(&files, &rows, up, PlanOptions::default()).unwrap();
        assert!(done.steps.is_empty());
        // An edit: pending again (not `modified`), alone.
        let edited = with_repeatables("CREATE VIEW v AS SELECT 2;");
        let again = plan(&edited, &rows, up, PlanOptions::default()).unwrap();
        assert_eq!(names(&again), ["views"]);
        assert_eq!(again.version_after, Some(2));
        let inventory = Inventory::new(&edited, &rows);
        assert!(inventory.problems(false).is_empty());
        assert_eq!(inventory.pending().count(), 1);
        assert_eq!(inventory.current_version(), Some(2));
        assert_eq!(inventory.head_version(), Some(2));
        let order: Vec<&str> = inventory
            .entries
            .iter()
            .map(|e| e.description.as_str())
            .collect();
        assert_eq!(
            order,
            ["a", "b", "seed", "views"],
            "versioned first, then by name"
        );

        // Short of head, the repeatable ones wait: they are written for the schema at head.
        let partial = plan(
            &files,
            &[],
            Target::Up {
                to: Some(1),
                steps: None,
            },
            PlanOptions::default(),
        )
        .unwrap();
        assert_eq!(names(&partial), ["a"]);
        let one_step = plan(
            &files,
            &rows[..1],
            Target::Up {
                to: None,
                steps: Some(1),
            },
            PlanOptions::default(),
        )
        .unwrap();
        assert_eq!(names(&one_step), ["b", "seed", "views"]);

        // Its file gone: no problem, nothing to run.
        let without: Vec<Migration> = files
            .iter()
            .filter(|m| m.description != "seed")
            .cloned()
            .collect();
        let inventory = Inventory::new(&without, &rows);
        assert!(inventory.problems(false).is_empty());
        assert!(
            plan(&without, &rows, up, PlanOptions::default())
                .unwrap()
                .steps
                .is_empty()
        );

        // Down leaves them alone.
        let down = plan(
            &files,
            &rows,
            Target::Down(DownTarget::Base),
            PlanOptions::default(),
        )
        .unwrap();
        assert_eq!(names(&down), ["b", "a"]);
        assert_eq!(down.version_after, None);
    }
}
