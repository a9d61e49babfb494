//! `lint`: destructive and lock-unsafe statements in each selected database's migrations
//! (the pending ones by default), with the sizes of the tables they touch when the
//! database answers.

use super::finish_check;
use crate::cli::LintArgs;
use crate::context::Context;
use crate::fleet;
use crate::report::detail::LintDetail;
use crate::report::{Body, DatabaseReport, Detail, Status};
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
    let policy = Policy::of(&ctx.workspace)?;
    let databases = ctx.select()?;
    let urls = ctx.urls(&databases).await?;
    let reports = fleet::run(&databases, &ctx.unordered_fleet(&urls), |db| {
        let (urls, which, policy) = (&urls, &which, &policy);
        async move {
            match lint_one(ctx, db, urls, which, policy).await {
                Ok(report) => report,
                Err(e) => DatabaseReport::failed(&db.name, &e),
            }
        }
    })
    .await;
    if let Which::Files(files) = &which {
        let linted: usize = reports
            .iter()
            .filter_map(|r| r.detail.lint())
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
    policy: &Policy,
) -> Result<DatabaseReport, CoreError> {
    let prepared = ctx.prepare(db, urls)?;
    let migrations = prepared.migrations()?;
    let dialect = Dialect::of_url(prepared.url).unwrap_or_default();
    // The database gives what is pending and how big its tables are; `--since` and files
    // do without it when it does not answer.
    let connected = prepared.open_read_only().await;
    let (pending, live) = match connected {
        Ok(mut conn) => {
            let inventory = engine::inventory(&mut conn, &migrations).await;
            let live = live_of(&mut conn, db).await;
            conn.close().await;
            (Some(inventory?), live)
        }
        Err(e) if matches!(which, Which::Pending) => return Err(e),
        Err(_) => (None, Default::default()),
    };
    // Column types tell a widening only of migrations not applied yet: after one ran, the
    // live type is its new type.
    let live = match which {
        Which::Pending => live,
        Which::Since(_) | Which::Files(_) => skein_core::lint::Live {
            columns: Default::default(),
            ..live
        },
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
    let outcome = checked(db, dialect, selected, &migrations, live, policy);
    let status = match outcome.worst() {
        Some(Severity::Error) => Status::Problems,
        _ => Status::UpToDate,
    };
    let detail = Detail::Lint(LintDetail { lint: outcome });
    Ok(DatabaseReport::new(&db.name, status, detail))
}

/// A level from `[lint]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Off,
    Warn,
    Error,
}

/// What `[lint]` says: each rule's level where it sets one, and what `up` does.
#[derive(Debug, Clone)]
pub struct Policy {
    pub on_up: Level,
    pub rules: std::collections::HashMap<skein_core::lint::rules::Rule, Level>,
}

impl Policy {
    /// Reads `[lint]`; an unknown rule or level is a configuration error naming where it
    /// was set.
    pub fn of(workspace: &skein_config::Workspace) -> anyhow::Result<Self> {
        use skein_core::lint::rules::{ALL, Rule};
        let mut policy = Policy {
            on_up: Level::Warn,
            rules: Default::default(),
        };
        let mut problems = Vec::new();
        for (key, value) in &workspace.settings.lint {
            let place = workspace.source_of(&format!("lint.{key}"));
            let level = match value.as_str() {
                "off" => Level::Off,
                "warn" => Level::Warn,
                "error" => Level::Error,
                other => {
                    problems.push(format!(
                        "`lint.{key}` ({place}): `{other}` is not a level; use off, warn or error"
                    ));
                    continue;
                }
            };
            if key == "on_up" {
                policy.on_up = level;
            } else if let Some(rule) = Rule::from_id(key) {
                policy.rules.insert(rule, level);
            } else {
                let ids: Vec<&str> = ALL.iter().map(|r| r.id()).chain(["on_up"]).collect();
                let hint = skein_config::validate::closest(key, &ids)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_else(|| format!("; the rules: {}", ids.join(", ")));
                problems.push(format!("unknown setting `lint.{key}` ({place}){hint}"));
            }
        }
        if !problems.is_empty() {
            return Err(crate::preflight::ConfigProblems(problems).into());
        }
        Ok(policy)
    }

    /// Applies the rules' levels to `outcome`: `off` drops a finding, `warn` and `error`
    /// set its severity.
    pub fn apply(&self, outcome: &mut skein_core::lint::Outcome) {
        outcome
            .findings
            .retain_mut(|finding| match self.rules.get(&finding.rule) {
                Some(Level::Off) => false,
                Some(Level::Warn) => {
                    finding.severity = Severity::Warning;
                    true
                }
                Some(Level::Error) => {
                    finding.severity = Severity::Error;
                    true
                }
                None => true,
            });
    }
}

/// What `up` lints in one database: the migrations it would apply (pending, up to `--to`,
/// at most `+N`) and what the database says of its tables, read before anything runs.
pub struct Pending {
    versions: std::collections::BTreeSet<skein_core::Version>,
    live: skein_core::lint::Live,
}

/// Reads what [`check_pending`] needs from the database; `None` when nothing is pending.
pub async fn pending_of(
    conn: &mut skein_core::driver::Connection,
    db: &ResolvedDatabase,
    migrations: &[skein_core::Migration],
    target: skein_core::plan::Target,
) -> Result<Option<Pending>, CoreError> {
    let inventory = engine::inventory(conn, migrations).await?;
    let mut versions: Vec<_> = inventory.pending().map(|e| e.version).collect();
    versions.sort();
    if let skein_core::plan::Target::Up { to, steps } = target {
        versions.retain(|v| to.is_none_or(|to| *v <= to));
        if let Some(steps) = steps {
            versions.truncate(steps as usize);
        }
    }
    if versions.is_empty() {
        return Ok(None);
    }
    let live = live_of(conn, db).await;
    Ok(Some(Pending {
        versions: versions.into_iter().collect(),
        live,
    }))
}

/// Lints the pending migrations: work for the processor only, which `up` does beside the
/// migrations when the policy only warns.
pub fn check_pending(
    db: &ResolvedDatabase,
    dialect: Dialect,
    migrations: &[skein_core::Migration],
    pending: Pending,
    policy: &Policy,
) -> skein_core::lint::Outcome {
    let mut selected: Vec<_> = migrations
        .iter()
        .filter(|m| pending.versions.contains(&m.version))
        .collect();
    selected.sort_by_key(|m| m.version);
    checked(db, dialect, selected, migrations, pending.live, policy)
}

/// What the database says of its tables; without it, findings keep their usual severity.
async fn live_of(
    conn: &mut skein_core::driver::Connection,
    db: &ResolvedDatabase,
) -> skein_core::lint::Live {
    match skein_core::lint::live(conn).await {
        Ok(live) => live,
        Err(e) => {
            tracing::warn!(
                "{}: table sizes unknown ({e}); findings keep their usual severity",
                db.name
            );
            Default::default()
        }
    }
}

/// Lints `selected` of `db`'s migrations, with the `[lint]` levels applied.
fn checked(
    db: &ResolvedDatabase,
    dialect: Dialect,
    selected: Vec<&skein_core::Migration>,
    all: &[skein_core::Migration],
    live: skein_core::lint::Live,
    policy: &Policy,
) -> skein_core::lint::Outcome {
    let selected_versions = selected.iter().map(|m| m.version).collect();
    let mut outcome = skein_core::lint::lint(&Lint {
        dialect,
        migrations: selected,
        all,
        session_lock_timeout: db
            .init_sql
            .iter()
            .any(|sql| sql.to_ascii_lowercase().contains("lock_timeout")),
        live,
    });
    outcome
        .findings
        .extend(template_findings(db, &selected_versions));
    policy.apply(&mut outcome);
    outcome
}

/// A model's template placeholders that put a variable into the SQL unquoted, in the files
/// of the migrations linted; a variable whose value here is a number is left alone.
fn template_findings(
    db: &ResolvedDatabase,
    versions: &std::collections::BTreeSet<skein_core::Version>,
) -> Vec<skein_core::lint::Finding> {
    use skein_core::lint::rules::Rule;
    let Some(dir) = &db.template else {
        return Vec::new();
    };
    let Ok(template) = skein_core::source::template::Template::load(dir) else {
        return Vec::new();
    };
    skein_core::source::template::unquoted_placeholders(&template)
        .into_iter()
        .filter_map(|(path, line, variable)| {
            let name = path.file_name()?.to_str()?;
            let version = skein_core::migration::FileName::parse(name).ok()?.version;
            if !versions.contains(&version) || db.vars.get(&variable).is_some_and(|v| v.is_number())
            {
                return None;
            }
            Some(skein_core::lint::Finding {
                rule: Rule::TemplatePlaceholder,
                severity: Rule::TemplatePlaceholder.severity(),
                file: crate::context::relative(&path),
                line,
                column: 1,
                version,
                table: None,
                rows: None,
                message: format!("`{{{{ {variable} }}}}` puts the variable into the SQL unquoted"),
                why: Rule::TemplatePlaceholder.why(),
                fix: Rule::TemplatePlaceholder.fix(),
            })
        })
        .collect()
}
