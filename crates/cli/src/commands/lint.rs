//! `lint`: destructive and lock-unsafe statements in each selected database's migrations
//! (the pending ones by default), with the sizes of the tables they touch when the
//! database answers.

use super::finish_check;
use crate::cli::LintArgs;
use crate::context::Context;
use crate::fleet;
use crate::report::{Body, DatabaseReport, Status};
use skein_config::{DatabaseUrls, ResolvedDatabase};
use skein_core::Driver;
use skein_core::dialect::Dialect;
use skein_core::engine;
use skein_core::error::Error as CoreError;
use skein_core::lint::{Lint, rules::Severity};
use std::path::PathBuf;

/// Which migrations to lint.
#[derive(Debug, Clone)]
enum Which {
    Pending,
    Since(i64),
    Files(Vec<PathBuf>),
}

pub async fn lint(ctx: &Context, args: LintArgs) -> anyhow::Result<Body> {
    let which = match (args.since, args.files.is_empty()) {
        (Some(version), _) => Which::Since(version),
        (None, false) => Which::Files(
            args.files
                .iter()
                .map(|f| {
                    std::path::absolute(f).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))
                })
                .collect::<anyhow::Result<_>>()?,
        ),
        (None, true) => Which::Pending,
    };
    let databases = ctx.select()?;
    let urls = ctx.urls(&databases).await?;
    let reports = fleet::run(&databases, &ctx.unordered_fleet(&urls), |db| {
        let (urls, which) = (&urls, &which);
        async move {
            match lint_one(ctx, db, urls, which).await {
                Ok(report) => report,
                Err(e) => DatabaseReport::failed(&db.name, &e),
            }
        }
    })
    .await;
    if let Which::Files(files) = &which {
        let linted: usize = reports
            .iter()
            .filter_map(|r| r.lint.as_ref())
            .map(|l| l.statements)
            .sum();
        if linted == 0 && reports.iter().all(|r| r.error.is_none()) {
            anyhow::bail!(
                "no selected database has the migration file(s) {}: name up files of the selected databases",
                files
                    .iter()
                    .map(|f| crate::context::relative(f).display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(finish_check(ctx, reports))
}

async fn lint_one(
    ctx: &Context,
    db: &ResolvedDatabase,
    urls: &DatabaseUrls,
    which: &Which,
) -> Result<DatabaseReport, CoreError> {
    let target = ctx.target(db, urls)?;
    let migrations = target.migrations()?;
    let dialect = Dialect::of_url(target.url).unwrap_or(Dialect::Postgres);
    // The database gives what is pending and how big its tables are; `--since` and files
    // do without it when it does not answer.
    let connected = target.open_read_only().await;
    let (pending, rows) = match connected {
        Ok(mut conn) => {
            let inventory = engine::inventory(&mut conn, &migrations).await;
            let rows = match skein_core::lint::table_rows(&mut conn).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(
                        "{}: table sizes unknown ({e}); findings keep their usual severity",
                        db.name
                    );
                    Default::default()
                }
            };
            conn.close().await;
            (Some(inventory?), rows)
        }
        Err(e) if matches!(which, Which::Pending) => return Err(e),
        Err(_) => (None, Default::default()),
    };
    let selected: Vec<_> = migrations
        .iter()
        .filter(|m| match which {
            Which::Pending => pending.as_ref().is_some_and(|inventory| {
                inventory.pending().any(|entry| entry.version == m.version)
            }),
            Which::Since(version) => m.version > *version,
            Which::Files(files) => {
                std::path::absolute(&m.up.path).is_ok_and(|path| files.contains(&path))
            }
        })
        .collect();
    let outcome = skein_core::lint::lint(&Lint {
        dialect,
        migrations: selected,
        all: &migrations,
        session_lock_timeout: db
            .init_sql
            .iter()
            .any(|sql| sql.to_ascii_lowercase().contains("lock_timeout")),
        rows,
    });
    let status = match outcome.worst() {
        Some(Severity::Error) => Status::Problems,
        _ => Status::UpToDate,
    };
    let mut report = DatabaseReport::new(&db.name, status);
    report.lint = Some(outcome);
    Ok(report)
}
