//! `up`, `down` and `redo`: plan and apply, or print the plan (`--dry-run`) or its SQL (`--sql`).

use super::finish;
use crate::cli::{DownArgs, DownTo, UpArgs};
use crate::context::Context;
use crate::fleet;
use crate::report::detail::PlanDetail;
use crate::report::{Body, DatabaseReport, Detail, Report, Run, Status};
use skein_config::{DatabaseUrls, ResolvedDatabase};
use skein_core::Driver;
use skein_core::engine::{self, RunOptions};
use skein_core::error::Error as CoreError;
use skein_core::history::HistoryTable;
use skein_core::plan::{DownTarget, PlanOptions, Target};

/// What to do with the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Apply,
    DryRun,
    Sql,
}

impl Mode {
    fn from_flags(dry_run: bool, sql: bool) -> Self {
        match (dry_run, sql) {
            (_, true) => Mode::Sql,
            (true, false) => Mode::DryRun,
            (false, false) => Mode::Apply,
        }
    }
}

pub async fn up(ctx: &mut Context, args: UpArgs) -> anyhow::Result<Body> {
    let policy = super::lint::Policy::of(&ctx.workspace)?;
    if policy.on_up != super::lint::Level::Off && !args.dry_run && !args.sql {
        ctx.lint_on_up = Some(policy);
    }
    let options = run_options(ctx, args.allow_out_of_order);
    let mode = Mode::from_flags(args.dry_run, args.sql);
    let run = async |ctx: &Context, databases: &[&ResolvedDatabase]| {
        let urls = ctx.urls(databases).await?;
        let (target, flag) = match (&args.target, &args.to) {
            (Some(text), _) => (crate::targets::up(text, databases)?, "TARGET"),
            (None, Some(DownTo::Base)) => {
                return Err(crate::preflight::UsageProblem {
                    argument: Some("--to"),
                    message: "`up --to base` goes nowhere: give a version, or `down --to base`"
                        .to_owned(),
                }
                .into());
            }
            (None, to) => (
                Target::Up {
                    to: match to {
                        Some(DownTo::Version(text)) => Some(crate::targets::to(text, databases)?),
                        _ => None,
                    },
                    steps: None,
                },
                "--to",
            ),
        };
        if let Target::Up { to: Some(to), .. } = target {
            crate::preflight::check_version(flag, to, databases)?;
        }
        let mut fleet = ctx.fleet(&urls);
        if databases.iter().any(|db| db.is_model) {
            fleet.canaries = canaries(databases, args.canary, &args.canary_db)?;
        }
        let (urls, args, options) = (&urls, &args, &options);
        Ok(fleet::run(databases, &fleet, |db| async move {
            let created = match args.create {
                true => match create(ctx, db, urls).await {
                    Ok(created) => created,
                    Err(e) => return DatabaseReport::failed_run(&db.name, &e, Run::default()),
                },
                false => false,
            };
            let report = run_one(ctx, db, urls, target, options, mode).await;
            match created {
                true => report.created(),
                false => report,
            }
        })
        .await)
    };
    let phased = crate::listing::in_phases(ctx, run).await?;
    let outcome = conclude(ctx, phased.reports, mode);
    Ok(super::unlisted(phased.unlisted, outcome))
}

/// `up --create`: creates `db` if it does not exist; says whether it did.
async fn create(
    ctx: &Context,
    db: &ResolvedDatabase,
    urls: &DatabaseUrls,
) -> Result<bool, CoreError> {
    let prepared = ctx.prepare(db, urls)?;
    skein_core::driver::create_database(prepared.url, ctx.connect_timeout(), &ctx.stop).await
}

/// The canaries of a run: the model databases named by `--canary-db`, and the first
/// `--canary N` model databases by name (naturally sorted: m2 before m10).
fn canaries(
    databases: &[&ResolvedDatabase],
    first: Option<u32>,
    named: &[String],
) -> anyhow::Result<std::collections::BTreeSet<String>> {
    let mut models: Vec<&str> = databases
        .iter()
        .filter(|db| db.is_model)
        .map(|db| db.name.as_str())
        .collect();
    for name in named {
        if !models.contains(&name.as_str()) {
            anyhow::bail!(
                "--canary-db {name}: not a selected model database; canaries are model databases (`skein model list`)"
            );
        }
    }
    models.sort_by(|a, b| crate::natural::cmp(a, b));
    let count = first.map_or(0, |n| n as usize);
    Ok(named
        .iter()
        .cloned()
        .chain(models.into_iter().take(count).map(str::to_owned))
        .collect())
}

pub async fn down(ctx: &Context, args: DownArgs) -> anyhow::Result<Body> {
    let databases = ctx.select_explicit("down")?;
    let urls = ctx.urls(&databases).await?;
    let target = match (&args.target, args.steps, &args.to) {
        (Some(text), _, _) => crate::targets::down(text, &databases)?,
        (None, Some(steps), _) => DownTarget::Steps(steps),
        (None, None, Some(DownTo::Version(text))) => {
            DownTarget::To(crate::targets::to(text, &databases)?)
        }
        (None, None, Some(DownTo::Base)) => DownTarget::Base,
        // As `sqlx migrate revert` and `dbmate rollback`: the newest one.
        (None, None, None) => DownTarget::Steps(1),
    };
    let options = run_options(ctx, false);
    let mode = Mode::from_flags(args.dry_run, args.sql);
    let fleet = ctx.unordered_fleet(&urls);
    let reports = fleet::run(&databases, &fleet, |db| {
        run_one(ctx, db, &urls, Target::Down(target), &options, mode)
    })
    .await;
    Ok(conclude(ctx, reports, mode))
}

pub async fn redo(ctx: &Context) -> anyhow::Result<Body> {
    let db = ctx.select_one("redo")?;
    let urls = ctx.urls(&[db]).await?;
    let options = run_options(ctx, false);
    let mut report = run_one(
        ctx,
        db,
        &urls,
        Target::Down(DownTarget::Steps(1)),
        &options,
        Mode::Apply,
    )
    .await;
    if report.status == Status::Failed {
        return Ok(finish(ctx, vec![report]));
    }
    let reverted = report
        .detail
        .run()
        .and_then(|run| run.steps.first())
        .map(|s| s.version);
    let again = run_one(
        ctx,
        db,
        &urls,
        Target::Up {
            to: reverted,
            steps: None,
        },
        &options,
        Mode::Apply,
    )
    .await;
    report.status = again.status;
    report.error = again.error;
    if let (Detail::Run(run), Detail::Run(again)) = (&mut report.detail, again.detail) {
        run.version_after = again.version_after;
        run.steps.extend(again.steps);
        run.problems = again.problems;
    }
    Ok(finish(ctx, vec![report]))
}

pub(super) fn run_options(ctx: &Context, allow_out_of_order: bool) -> RunOptions {
    RunOptions {
        plan: PlanOptions { allow_out_of_order },
        applied_by: ctx.applied_by.clone(),
        stop: ctx.stop.clone(),
        step_timeout: None,
        liveness: None,
    }
}

/// The report of a run; with `--sql` its human form is the scripts.
fn conclude(ctx: &Context, reports: Vec<DatabaseReport>, mode: Mode) -> Body {
    match finish(ctx, reports) {
        Body::Databases(report) => Body::Databases(Report {
            sql: mode == Mode::Sql,
            ..report
        }),
        other => other,
    }
}

pub(super) async fn run_one(
    ctx: &Context,
    db: &ResolvedDatabase,
    urls: &DatabaseUrls,
    target: Target,
    options: &RunOptions,
    mode: Mode,
) -> DatabaseReport {
    match try_run(ctx, db, urls, target, options, mode).await {
        Ok(report) => report,
        Err(failure) => failure,
    }
}

async fn try_run(
    ctx: &Context,
    db: &ResolvedDatabase,
    urls: &DatabaseUrls,
    target: Target,
    options: &RunOptions,
    mode: Mode,
) -> Result<DatabaseReport, DatabaseReport> {
    let progress = ctx.progress.database(&db.name);
    let fail = |e: CoreError| DatabaseReport::failed_run(&db.name, &e, Run::default());
    let run_on = ctx.prepare(db, urls).map_err(fail)?;
    let migrations = run_on.migrations().map_err(fail)?;
    let history_table: HistoryTable = run_on.options.history_table.clone();
    let mut conn = match mode {
        Mode::Apply => run_on.open().await,
        Mode::DryRun | Mode::Sql => run_on.open_read_only().await,
    }
    .map_err(fail)?;
    let options = &RunOptions {
        step_timeout: ctx.options.timeouts.step.or(db.step_timeout),
        ..options.clone()
    };
    // Nothing to do: said without the lock, the lint or another read (a read that fails
    // here is made again under the lock, which reports it).
    if mode == Mode::Apply
        && let Ok(Some(run)) = engine::settled(&mut conn, &migrations, target, options).await
    {
        conn.close().await;
        let run = Run {
            version_before: run.version_before,
            version_after: run.version_after,
            ..Run::default()
        };
        return Ok(DatabaseReport::new(
            &db.name,
            Status::UpToDate,
            Detail::Run(run),
        ));
    }
    let migrations = std::sync::Arc::new(migrations);
    let lint = match (&ctx.lint_on_up, mode, target) {
        (Some(policy), Mode::Apply, Target::Up { .. }) => {
            match start_lint(ctx, &mut conn, db, &migrations, policy, target).await {
                Ok(lint) => lint,
                Err(report) => {
                    conn.close().await;
                    return Err(report);
                }
            }
        }
        _ => PendingLint::None,
    };
    let result = match mode {
        Mode::Apply => {
            let result = engine::migrate(&mut conn, &migrations, target, options, &progress).await;
            let linted = lint.finish(ctx, &db.name).await;
            result
                .map(|run| {
                    let status = if run.steps.is_empty() {
                        Status::UpToDate
                    } else {
                        Status::Ok
                    };
                    let run = Run {
                        version_before: run.version_before,
                        version_after: run.version_after,
                        steps: run.steps,
                        lint: linted.filter(|o| !o.findings.is_empty()),
                        ..Run::default()
                    };
                    DatabaseReport::new(&db.name, status, Detail::Run(run))
                })
                .map_err(|failure| {
                    let run = Run {
                        version_before: failure.report.version_before,
                        version_after: failure.report.version_after,
                        steps: failure.report.steps,
                        ..Run::default()
                    };
                    DatabaseReport::failed_run(&db.name, &failure.error, run)
                })
        }
        Mode::DryRun | Mode::Sql => engine::dry_run(&mut conn, &migrations, target, options)
            .await
            .map(|plan| {
                let script = (mode == Mode::Sql).then(|| {
                    format!(
                        "-- skein: database `{}` ({})\n{}",
                        db.name,
                        skein_core::script::comment(&run_on.shown_url()),
                        skein_core::script::render(
                            &plan,
                            &migrations,
                            conn.dialect(),
                            &history_table,
                            &options.applied_by,
                        )
                    )
                });
                let status = if plan.steps.is_empty() {
                    Status::UpToDate
                } else {
                    Status::Pending
                };
                let detail = PlanDetail {
                    created: false,
                    version_before: plan.version_before,
                    version_after: plan.version_after,
                    plan,
                    script,
                };
                DatabaseReport::new(&db.name, status, Detail::Plan(detail))
            })
            .map_err(fail),
    };
    conn.close().await;
    result
}

/// `up`'s lint of one database's pending migrations (`[lint] on_up`).
enum PendingLint {
    /// Nothing to lint, or the lint is off.
    None,
    /// Linted before anything ran (`on_up = "error"`); its findings are in the log.
    Done(skein_core::lint::Outcome),
    /// Linting on its own thread, beside the migrations (`on_up = "warn"`).
    Running(tokio::task::JoinHandle<skein_core::lint::Outcome>),
}

impl PendingLint {
    /// The findings, once the lint is done; those of a lint that ran beside the
    /// migrations go to the log now.
    async fn finish(self, ctx: &Context, database: &str) -> Option<skein_core::lint::Outcome> {
        match self {
            PendingLint::None => None,
            PendingLint::Done(outcome) => Some(outcome),
            PendingLint::Running(running) => {
                let outcome = running
                    .await
                    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
                log_lint(ctx, database, &outcome);
                Some(outcome)
            }
        }
    }
}

/// Starts `up`'s lint of the pending migrations. When its errors refuse the run
/// (`on_up = "error"`) it runs before anything else and a refusal is the database's
/// report; otherwise it runs on its own thread beside the migrations, so that the first
/// step does not wait for it.
async fn start_lint(
    ctx: &Context,
    conn: &mut skein_core::driver::Connection,
    db: &ResolvedDatabase,
    migrations: &std::sync::Arc<Vec<skein_core::Migration>>,
    policy: &super::lint::Policy,
    target: Target,
) -> Result<PendingLint, DatabaseReport> {
    let pending = super::lint::pending_of(conn, db, migrations, target)
        .await
        .map_err(|e| DatabaseReport::failed_run(&db.name, &e, Run::default()))?;
    let Some(pending) = pending else {
        return Ok(PendingLint::None);
    };
    let dialect = conn.dialect();
    if policy.on_up != super::lint::Level::Error {
        let (db, all, policy) = (db.clone(), migrations.clone(), policy.clone());
        return Ok(PendingLint::Running(tokio::task::spawn_blocking(
            move || super::lint::check_pending(&db, dialect, &all, pending, &policy),
        )));
    }
    let outcome = super::lint::check_pending(db, dialect, migrations, pending, policy);
    let errors = outcome
        .findings
        .iter()
        .filter(|f| f.severity == skein_core::lint::rules::Severity::Error)
        .count();
    if errors == 0 {
        log_lint(ctx, &db.name, &outcome);
        return Ok(PendingLint::Done(outcome));
    }
    let run = Run {
        lint: Some(outcome),
        ..Run::default()
    };
    let mut report = DatabaseReport::new(&db.name, Status::Refused, Detail::Run(run));
    report.error = Some(crate::report::ErrorReport::message(format!(
        "`skein lint` found {errors} error(s) in the pending migrations and `[lint] on_up = \"error\"`: nothing ran; `skein lint --db {}` shows them",
        db.name
    )));
    Err(report)
}

/// What `up`'s lint found, in the log: each error in full, the warnings as one line per
/// database (a history just taken over can hold a hundred; `skein lint` shows them, and
/// `-v` here too).
fn log_lint(ctx: &Context, database: &str, outcome: &skein_core::lint::Outcome) {
    use skein_core::lint::rules::Severity;
    let mut warnings = 0;
    for finding in &outcome.findings {
        let in_full = match finding.severity {
            Severity::Info => false,
            Severity::Error => true,
            Severity::Warning => {
                warnings += 1;
                ctx.options.verbose > 0
            }
        };
        if in_full {
            tracing::warn!(
                "{database}: lint: {}:{}:{}: {}",
                crate::context::relative(&finding.file).display(),
                finding.line,
                finding.column,
                finding.message
            );
        }
    }
    if warnings > 0 && ctx.options.verbose == 0 {
        tracing::warn!(
            "{database}: lint: {warnings} warning(s) in the pending migrations; `skein lint --db {database}` shows them"
        );
    }
}
