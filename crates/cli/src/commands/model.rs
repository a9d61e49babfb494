//! `model new` adds a model: lists it (in the config's `names`, or as a folder with
//! `--folder`), creates its database and applies the template's migrations; if a step
//! fails, what was made is removed again (unless --keep). `model list` shows every model
//! with where its name came from, its version and the template's head.

use super::migrate::{Mode, run_one};
use super::status;
use crate::cli::ModelNewArgs;
use crate::context::Context;
use crate::report::detail::{ModelDetail, StatusDetail};
use crate::report::sections::ModelNewReport;
use crate::report::{Body, DatabaseReport, Detail, ErrorReport, ModelInfo};
use anyhow::{Context as _, bail};
use skein_config::{LoadOptions, ResolvedDatabase};
use skein_core::engine::RunOptions;
use skein_core::plan::{PlanOptions, Target};
use std::path::{Path, PathBuf};

pub async fn new(ctx: &Context, args: ModelNewArgs) -> anyhow::Result<Body> {
    let workspace = &ctx.workspace;
    let set = workspace.set_or_only(args.set.as_deref())?;
    skein_config::resolve::check_name(&args.name)?;
    if let Ok(db) = workspace.database(&args.name) {
        if !db.is_model {
            bail!(
                "`{}` is taken: a database of that name is configured",
                args.name
            );
        }
        let by: Vec<&str> = db.listed_by.iter().map(|l| l.as_str()).collect();
        let set = match db.set.as_deref() {
            Some(set) if set != skein_config::resolve::MODELS_GROUP => {
                format!(" in the set `{set}`")
            }
            _ => String::new(),
        };
        bail!(
            "model `{}` is listed already (by {}){set}; `skein db create --db {0}` and `skein up --db {0}` make and migrate its database",
            args.name,
            by.join(", "),
        );
    }
    let template = set.template.as_deref().with_context(|| {
        format!(
            "the set `{}` has no template: set `template` in [{}] to the folder of the migrations every member applies",
            set.name, set.key
        )
    })?;
    let folder = set.dir.join(&args.name);
    let mut made = Made::default();
    let listed = if args.folder {
        if folder.exists() {
            bail!("{} exists already", folder.display());
        }
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
        made.folder = Some(folder.clone());
        Listed::Folder(folder.clone())
    } else {
        let edit = skein_config::edit::add_model_name(
            &workspace.config_path,
            &workspace.profile,
            &set.key,
            &args.name,
        )?;
        let listed = Listed::Names {
            file: workspace.config_path.clone(),
            table: edit.table.clone(),
        };
        made.edit = Some(edit);
        listed
    };

    let relative = |p: &Path| {
        p.strip_prefix(&workspace.root)
            .unwrap_or(p)
            .display()
            .to_string()
    };
    let (listed_in, commit) = match &listed {
        Listed::Folder(folder) => (
            format!("made {} for its own migrations", relative(folder)),
            relative(folder),
        ),
        Listed::Names { file, table } => (
            format!("listed in {} ([{table}] names)", relative(file)),
            relative(file),
        ),
    };
    let mut report = ModelNewReport {
        model: args.name.clone(),
        listed_in,
        commit,
        template: relative(template),
        database_created: false,
        migrated: None,
        error: None,
        undone: Vec::new(),
        kept: args.keep,
    };
    match create_and_migrate(ctx, &args, &mut made).await {
        Ok(migrated) => {
            report.database_created = made.database_url.is_some();
            report.migrated = migrated.map(Box::new);
        }
        // The name cannot be a database here (say, too long for the server): a
        // configuration error, and what was made for it goes again.
        Err(err) if err.is::<crate::preflight::ConfigProblems>() => {
            made.undo().await;
            return Err(err);
        }
        Err(err) => {
            report.database_created = made.database_url.is_some();
            if !args.keep {
                report.undone = made.undo().await;
            }
            report.error = Some(ErrorReport::from_any(err.as_ref()));
        }
    }
    Ok(Body::ModelNew(report))
}

/// Where `model new` recorded the new model.
enum Listed {
    /// Its own folder (`--folder`).
    Folder(PathBuf),
    /// The `names` list of the config file.
    Names { file: PathBuf, table: String },
}

/// What `model new` made so far, to undo on failure.
#[derive(Default)]
struct Made {
    folder: Option<PathBuf>,
    edit: Option<skein_config::edit::FileEdit>,
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
        if let Some(edit) = self.edit.take() {
            let what = format!("the name from {} [{}]", edit.path.display(), edit.table);
            if edit.undo().is_ok() {
                undone.push(what);
            }
        }
        undone
    }
}

async fn create_and_migrate(
    ctx: &Context,
    args: &ModelNewArgs,
    made: &mut Made,
) -> anyhow::Result<Option<DatabaseReport>> {
    // Load the configuration again: it lists the new model now.
    let workspace = skein_config::load(&LoadOptions {
        config: Some(ctx.workspace.config_path.clone()),
        profile: Some(ctx.workspace.profile.clone()),
        cwd: ctx.workspace.root.clone(),
        ..LoadOptions::default()
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
    crate::preflight::check_distinct(&workspace, &[db], &urls).await?;
    let url = ctx.prepare(db, &urls)?.url.to_owned();
    if !args.no_create
        && skein_core::driver::create_database(&url, ctx.connect_timeout(), &ctx.stop).await?
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
        Target::Up {
            to: None,
            steps: None,
        },
        &options,
        Mode::Apply,
    )
    .await;
    if let Some(error) = &report.error {
        bail!("migrating it failed: {}", error.message);
    }
    Ok(Some(report))
}

/// Every model: where its name came from, its version, its head and the template's head,
/// and its status.
pub async fn list(ctx: &Context) -> anyhow::Result<Body> {
    let models: Vec<&ResolvedDatabase> = ctx
        .workspace
        .databases
        .iter()
        .filter(|d| d.is_model)
        .collect();
    if models.is_empty() {
        return Ok(super::finish(ctx, Vec::new()));
    }
    let mut template_heads = std::collections::BTreeMap::new();
    for set in ctx.workspace.sets() {
        let head = match &set.template {
            Some(dir) => skein_core::source::template::Template::load(dir)?.head(),
            None => None,
        };
        template_heads.insert(set.name.clone(), head);
    }
    let mut reports = status::status_reports(ctx, &models).await?;
    for (report, db) in reports.iter_mut().zip(&models) {
        let model = ModelInfo {
            set: db.set.clone().unwrap_or_default(),
            listed_by: db.listed_by.clone(),
            template_head: db
                .set
                .as_ref()
                .and_then(|set| template_heads.get(set).copied().flatten()),
        };
        // A model whose status could not be read is listed with what is known of it.
        let status = match std::mem::replace(&mut report.detail, Detail::None {}) {
            Detail::Status(status) => status,
            _ => StatusDetail::default(),
        };
        report.detail = Detail::Model(ModelDetail { status, model });
    }
    Ok(super::finish(ctx, reports))
}
