//! One module per command family; each turns its arguments into per-database reports.

mod adopt;
mod check;
mod config;
mod converge;
mod database;
mod drift;
mod import;
mod inspect;
mod migrate;
mod model;
mod new;
mod record;
mod status;

use crate::cli::{Cli, Command, ConfigCommand, DbCommand, ModelCommand};
use crate::context::Context;
use crate::exit::Outcome;
use crate::report::{DatabaseReport, Report, Status};

pub async fn run(cli: Cli) -> anyhow::Result<Outcome> {
    if cli.global.format == crate::cli::Format::Sql && !matches!(cli.command, Command::Inspect(_)) {
        anyhow::bail!("--format sql is for `skein inspect`; use human or json here");
    }
    if let Command::Import(args) = cli.command {
        return import::run(cli.global.format, args);
    }
    let mut ctx = Context::load(&cli.global)?;
    if let Some(selection) = listing_for(&cli.command) {
        match ctx.list_models_for(&selection).await {
            Ok(()) => {}
            // `config show` is how a broken setup is looked into: show what is known.
            Err(err) if matches!(cli.command, Command::Config(_)) => crate::redact::err(&format!(
                "warning: {}; the models it lists are not shown",
                crate::report::human_error_chain(err.as_ref())
            )),
            Err(err) => return Err(err),
        }
    }
    match cli.command {
        Command::Status(args) => status::status(&ctx, args).await,
        Command::History(args) => status::history(&ctx, args).await,
        Command::Up(args) => migrate::up(&mut ctx, args).await,
        Command::Down(args) => migrate::down(&ctx, args).await,
        Command::Redo(args) => migrate::redo(&ctx, args).await,
        Command::New(args) => new::run(&ctx, args).await,
        Command::Stamp(args) => record::stamp(&ctx, args).await,
        Command::Repair(args) => record::repair(&ctx, args).await,
        Command::Model(ModelCommand::New(args)) => model::new(&ctx, args).await,
        Command::Model(ModelCommand::List(args)) => model::list(&ctx, args).await,
        Command::Db(DbCommand::Create(args)) => database::create(&mut ctx, args).await,
        Command::Inspect(args) => inspect::inspect(&ctx, args).await,
        Command::Drift(args) => drift::drift(&ctx, args).await,
        Command::Check(args) => check::check(&ctx, args).await,
        Command::Converge(args) => converge::converge(&ctx, args).await,
        Command::Config(ConfigCommand::Show(args)) => config::show(&ctx, args),
        Command::Import(_) => unreachable!("import runs without a workspace"),
        Command::Adopt(args) => adopt::run(&ctx, args).await,
    }
}

/// The databases a command may reach, for listing the models of a `names_from` query
/// first; `None` for commands that list them themselves (`up` and `db create` migrate or
/// create the queried database first) or need no list.
fn listing_for(command: &Command) -> Option<crate::cli::Selection> {
    use crate::cli::Selection;
    let one = |name: &str| Selection {
        databases: vec![name.to_owned()],
        groups: Vec::new(),
    };
    let models = || Selection {
        databases: Vec::new(),
        groups: vec![skein_config::resolve::MODELS_GROUP.to_owned()],
    };
    Some(match command {
        Command::Status(args) => args.selection.clone(),
        Command::History(args) => one(&args.database),
        Command::Up(_) | Command::Db(_) => return None,
        Command::Down(args) => args.selection.clone(),
        Command::Redo(args) => one(&args.database),
        Command::New(args) => one(args.database.as_deref()?),
        Command::Stamp(args) => args.selection.clone(),
        Command::Repair(args) => args.selection.clone(),
        Command::Model(ModelCommand::New(_)) => models(),
        Command::Model(ModelCommand::List(_)) => models(),
        Command::Inspect(args) => one(&args.database),
        Command::Drift(args) | Command::Check(args) => args.selection.clone(),
        Command::Converge(args) => one(&args.database),
        Command::Config(ConfigCommand::Show(args)) => args.selection.clone(),
        Command::Import(_) => return None,
        Command::Adopt(args) => args.selection.clone(),
    })
}

/// The report of a one-database command whose database failed.
pub(super) fn failed_alone(
    ctx: &Context,
    command: &'static str,
    db: &skein_config::ResolvedDatabase,
    error: &skein_core::error::Error,
) -> Outcome {
    let report = Report {
        command,
        profile: ctx.workspace.profile.clone(),
        databases: vec![DatabaseReport::failed(&db.name, error)],
        every_name: false,
    };
    report.print(ctx.format);
    Outcome::Failed
}

/// After the report of a run whose models could not be listed: why, and a failure.
pub(crate) fn unlisted(unlisted: Option<anyhow::Error>, outcome: Outcome) -> Outcome {
    match unlisted {
        Some(err) => {
            crate::redact::err(&format!(
                "error: {}",
                crate::report::human_error_chain(err.as_ref())
            ));
            Outcome::Failed
        }
        None => outcome,
    }
}

/// Prints the report and says how the command ended.
pub(crate) fn finish(
    ctx: &Context,
    command: &'static str,
    databases: Vec<DatabaseReport>,
) -> Outcome {
    let failed = databases.iter().any(|d| {
        matches!(
            d.status,
            Status::Failed | Status::Skipped | Status::Interrupted
        )
    });
    let report = Report {
        command,
        profile: ctx.workspace.profile.clone(),
        databases,
        every_name: ctx.verbose > 0,
    };
    report.print(ctx.format);
    if failed {
        Outcome::Failed
    } else {
        Outcome::Done
    }
}
