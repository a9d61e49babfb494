//! `model new` makes a model database from the template: the folder, the database, its
//! migrations applied; if a step fails, what was made is removed again (unless --keep).
//! `model list` shows every model database's status.

use super::inspect;
use super::migrate::{Mode, run_one};
use crate::cli::{Format, ModelListArgs, ModelNewArgs, Selection, StatusArgs};
use crate::context::Context;
use crate::exit::Outcome;
use crate::redact;
use crate::report::{DatabaseReport, Status, human_error_chain};
use anyhow::{Context as _, bail};
use skein_config::{LoadOptions, ResolvedDatabase};
use skein_core::engine::RunOptions;
use skein_core::plan::{PlanOptions, Target};
use std::path::{Path, PathBuf};

pub async fn new(ctx: &Context, args: ModelNewArgs) -> anyhow::Result<Outcome> {
    let workspace = &ctx.workspace;
    let models = workspace.settings.models.as_ref().context(
        "this configuration has no [models] section; add one with `dir`, `template` and `url`",
    )?;
    skein_config::resolve::check_name(&args.name)?;
    if workspace.databases.iter().any(|d| d.name == args.name) {
        bail!(
            "`{}` is taken: a database of that name is configured",
            args.name
        );
    }
    let folder = workspace.root.join(&models.dir).join(&args.name);
    if folder.exists() {
        bail!("{} exists already", folder.display());
    }
    let template = workspace
        .root
        .join(models.template.as_deref().unwrap_or("templates/model"));
    let files = render_template(&template, &folder, &args.name)?;

    let mut made = Made {
        folder: Some(folder.clone()),
        database_url: None,
    };
    match create_and_migrate(ctx, &args, &mut made).await {
        Ok(report) => {
            print_done(
                ctx,
                &args.name,
                &folder,
                &template,
                &files,
                made.database_url.is_some(),
                &report,
            );
            Ok(Outcome::Done)
        }
        // The name cannot be a database here (say, too long for the server): a
        // configuration error, and the folder made for it goes again.
        Err(err) if err.is::<crate::preflight::ConfigProblems>() => {
            made.undo().await;
            Err(err)
        }
        Err(err) => {
            let undone = if args.keep {
                Vec::new()
            } else {
                made.undo().await
            };
            redact::err(&format!(
                "error: model {}: {}",
                args.name,
                human_error_chain(err.as_ref())
            ));
            for what in undone {
                redact::err(&format!("  removed {what}"));
            }
            if args.keep {
                redact::err("  kept what was made (--keep)");
            }
            Ok(Outcome::Failed)
        }
    }
}

/// What `model new` made so far, to undo on failure.
struct Made {
    folder: Option<PathBuf>,
    database_url: Option<String>,
}

impl Made {
    async fn undo(&mut self) -> Vec<String> {
        let mut undone = Vec::new();
        if let Some(url) = self.database_url.take()
            && skein_core::driver::drop_database(&url).await.is_ok()
        {
            undone.push(format!(
                "the database {}",
                skein_core::driver::redact_url(&url)
            ));
        }
        if let Some(folder) = self.folder.take()
            && std::fs::remove_dir_all(&folder).is_ok()
        {
            undone.push(folder.display().to_string());
        }
        undone
    }
}

async fn create_and_migrate(
    ctx: &Context,
    args: &ModelNewArgs,
    made: &mut Made,
) -> anyhow::Result<Option<DatabaseReport>> {
    // Load the configuration again: the new folder is a new database.
    let workspace = skein_config::load(&LoadOptions {
        config: Some(ctx.workspace.config_path.clone()),
        profile: Some(ctx.workspace.profile.clone()),
        cwd: ctx.workspace.root.clone(),
    })?;
    let db: &ResolvedDatabase = workspace.database(&args.name)?;
    let urls = workspace.urls(&[db]).await?;
    crate::context::register_secrets(&urls);
    crate::preflight::check(
        &workspace,
        &[db],
        &urls,
        crate::preflight::Needs::Connection,
    )?;
    let url = urls
        .urls
        .get(&db.name)
        .context("no URL")?
        .expose()
        .to_owned();
    if !args.no_create
        && skein_core::driver::create_database(&url, ctx.connect_timeout(&args.lock), &ctx.stop)
            .await?
    {
        made.database_url = Some(url);
    }
    if args.no_migrate {
        return Ok(None);
    }
    let options = RunOptions {
        plan: PlanOptions::default(),
        applied_by: ctx.applied_by.clone(),
        stop: ctx.stop.clone(),
        step_timeout: None,
        liveness: None,
    };
    let report = run_one(
        ctx,
        db,
        &urls,
        Target::Up { to: None },
        &options,
        &args.lock,
        Mode::Apply,
    )
    .await;
    if let Some(error) = &report.error {
        bail!("migrating it failed: {}", error.message);
    }
    Ok(Some(report))
}

/// Renders every file of the template folder into `folder`, with `{{ model }}` set.
fn render_template(template: &Path, folder: &Path, model: &str) -> anyhow::Result<Vec<PathBuf>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(template)
        .with_context(|| format!("cannot read the model template {}", template.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    entries.sort();
    let mut env = minijinja::Environment::new();
    env.set_keep_trailing_newline(true);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let mut rendered = Vec::new();
    for path in &entries {
        let source = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let text = env
            .render_str(&source, minijinja::context! { model => model })
            .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), e.line().unwrap_or(0)))?;
        rendered.push((path.file_name().expect("a file").to_owned(), text));
    }
    std::fs::create_dir_all(folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    let mut written = Vec::new();
    for (name, text) in rendered {
        let target = folder.join(name);
        if let Err(e) = std::fs::write(&target, text) {
            let _ = std::fs::remove_dir_all(folder);
            return Err(e).with_context(|| format!("cannot write {}", target.display()));
        }
        written.push(target);
    }
    Ok(written)
}

fn print_done(
    ctx: &Context,
    name: &str,
    folder: &Path,
    template: &Path,
    files: &[PathBuf],
    created: bool,
    report: &Option<DatabaseReport>,
) {
    let relative = |p: &Path| {
        p.strip_prefix(&ctx.workspace.root)
            .unwrap_or(p)
            .display()
            .to_string()
    };
    match ctx.format {
        Format::Json => {
            let doc = serde_json::json!({
                "command": "model new",
                "model": name,
                "folder": relative(folder),
                "files": files.iter().map(|f| relative(f)).collect::<Vec<_>>(),
                "database_created": created,
                "migrated": report,
            });
            redact::out(&serde_json::to_string_pretty(&doc).expect("serialises"));
        }
        Format::Human | Format::Sql => {
            let mut lines = vec![format!(
                "model {name}: made {} from {} ({} files)",
                relative(folder),
                relative(template),
                files.len()
            )];
            lines.push(if created {
                format!("model {name}: created its database")
            } else {
                format!("model {name}: its database exists already (or --no-create)")
            });
            if let Some(report) = report {
                let status = if report.status == Status::UpToDate {
                    "already at head".to_owned()
                } else {
                    format!("applied {} migration(s)", report.steps.len())
                };
                lines.push(format!(
                    "model {name}: {status}, now at version {}",
                    crate::report::version_text(report.version_after)
                ));
            }
            lines.push(format!("commit {}", relative(folder)));
            redact::out(&lines.join("\n"));
        }
    }
}

pub async fn list(ctx: &Context, args: ModelListArgs) -> anyhow::Result<Outcome> {
    if !ctx.workspace.databases.iter().any(|d| d.is_model) {
        redact::out("no model databases (add one with `skein model new NAME`)");
        return Ok(Outcome::Done);
    }
    let status = StatusArgs {
        selection: Selection {
            databases: Vec::new(),
            groups: vec![skein_config::resolve::MODELS_GROUP.to_owned()],
        },
        fleet: args.fleet,
        lock: args.lock,
        check: false,
    };
    inspect::status(ctx, status).await
}
