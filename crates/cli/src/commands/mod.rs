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
use crate::report::{self, Body, DatabaseReport, Report};

/// Runs the command: the profile it ran with, and its result or the usage or
/// configuration error that stopped it before it touched any database.
pub async fn run(cli: Cli) -> (Option<String>, anyhow::Result<Body>) {
    if cli.global.format == crate::cli::Format::Sql && !matches!(cli.command, Command::Inspect(_)) {
        return (
            None,
            Err(anyhow::anyhow!(
                "--format sql is for `skein inspect`; use human or json here"
            )),
        );
    }
    if let Command::Import(args) = cli.command {
        return (None, import::run(args));
    }
    let mut ctx = match Context::load(&cli.global) {
        Ok(ctx) => ctx,
        Err(err) => return (None, Err(err)),
    };
    let result = run_in(&mut ctx, cli.command).await;
    (Some(ctx.workspace.profile.clone()), result)
}

async fn run_in(ctx: &mut Context, command: Command) -> anyhow::Result<Body> {
    if let Some(selection) = listing_for(&command) {
        match ctx.list_models_for(&selection).await {
            Ok(()) => {}
            // `config show` is how a broken setup is looked into: show what is known.
            Err(err) if matches!(command, Command::Config(_)) => crate::redact::err(&format!(
                "warning: {}; the models it lists are not shown",
                crate::report::human_error_chain(err.as_ref())
            )),
            Err(err) => return Err(err),
        }
    }
    match command {
        Command::Status(args) => status::status(ctx, args).await,
        Command::History(args) => status::history(ctx, args).await,
        Command::Up(args) => migrate::up(ctx, args).await,
        Command::Down(args) => migrate::down(ctx, args).await,
        Command::Redo(args) => migrate::redo(ctx, args).await,
        Command::New(args) => new::run(ctx, args).await,
        Command::Stamp(args) => record::stamp(ctx, args).await,
        Command::Repair(args) => record::repair(ctx, args).await,
        Command::Model(ModelCommand::New(args)) => model::new(ctx, args).await,
        Command::Model(ModelCommand::List(args)) => model::list(ctx, args).await,
        Command::Db(DbCommand::Create(args)) => database::create(ctx, args).await,
        Command::Inspect(args) => inspect::inspect(ctx, args).await,
        Command::Drift(args) => drift::drift(ctx, args).await,
        Command::Check(args) => check::check(ctx, args).await,
        Command::Converge(args) => converge::converge(ctx, args).await,
        Command::Config(ConfigCommand::Show(args)) => config::show(ctx, args),
        Command::Import(_) => unreachable!("import runs without a workspace"),
        Command::Adopt(args) => adopt::run(ctx, args).await,
    }
}

/// The name a command's report goes by.
pub fn name(command: &Command) -> report::Command {
    use report::Command as Name;
    match command {
        Command::Status(_) => Name::Status,
        Command::History(_) => Name::History,
        Command::Up(_) => Name::Up,
        Command::Down(_) => Name::Down,
        Command::Redo(_) => Name::Redo,
        Command::New(_) => Name::New,
        Command::Stamp(_) => Name::Stamp,
        Command::Repair(_) => Name::Repair,
        Command::Adopt(_) => Name::Adopt,
        Command::Import(_) => Name::Import,
        Command::Db(DbCommand::Create(_)) => Name::DbCreate,
        Command::Model(ModelCommand::New(_)) => Name::ModelNew,
        Command::Model(ModelCommand::List(_)) => Name::ModelList,
        Command::Inspect(_) => Name::Inspect,
        Command::Drift(_) => Name::Drift,
        Command::Check(_) => Name::Check,
        Command::Converge(_) => Name::Converge,
        Command::Config(ConfigCommand::Show(_)) => Name::ConfigShow,
    }
}

/// The command that arguments which did not parse name, when they get as far as naming
/// one (aliases included).
pub fn name_in(args: &[std::ffi::OsString]) -> Option<report::Command> {
    use clap::CommandFactory;
    const TAKE_VALUES: [&str; 3] = ["--config", "--profile", "--format"];
    let mut words = Vec::new();
    let mut args = args.iter().skip(1).filter_map(|a| a.to_str());
    while let Some(arg) = args.next() {
        if TAKE_VALUES.contains(&arg) {
            args.next();
        } else if !arg.starts_with('-') {
            words.push(arg);
        }
    }
    let cli = Cli::command();
    let top = cli.find_subcommand(words.first()?)?;
    let sub = words
        .get(1)
        .and_then(|word| top.find_subcommand(word))
        .map(|sub| sub.get_name());
    Some(match (top.get_name(), sub) {
        ("status", _) => report::Command::Status,
        ("history", _) => report::Command::History,
        ("up", _) => report::Command::Up,
        ("down", _) => report::Command::Down,
        ("redo", _) => report::Command::Redo,
        ("new", _) => report::Command::New,
        ("stamp", _) => report::Command::Stamp,
        ("repair", _) => report::Command::Repair,
        ("adopt", _) => report::Command::Adopt,
        ("import", _) => report::Command::Import,
        ("db", Some("create")) => report::Command::DbCreate,
        ("model", Some("new")) => report::Command::ModelNew,
        ("model", Some("list")) => report::Command::ModelList,
        ("inspect", _) => report::Command::Inspect,
        ("drift", _) => report::Command::Drift,
        ("check", _) => report::Command::Check,
        ("converge", _) => report::Command::Converge,
        ("config", Some("show")) => report::Command::ConfigShow,
        _ => return None,
    })
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
    db: &skein_config::ResolvedDatabase,
    error: &skein_core::error::Error,
) -> Body {
    Body::Databases(Report::new(vec![DatabaseReport::failed(&db.name, error)]))
}

/// The report of a run whose models could not be listed carries why: the run failed.
pub(crate) fn unlisted(unlisted: Option<anyhow::Error>, mut body: Body) -> Body {
    if let (Some(err), Body::Databases(report)) = (unlisted, &mut body) {
        report.unlisted = Some(report::ErrorReport::from_any(err.as_ref()));
    }
    body
}

/// The per-database report of a command.
pub(crate) fn finish(ctx: &Context, databases: Vec<DatabaseReport>) -> Body {
    Body::Databases(Report {
        every_name: ctx.verbose > 0,
        ..Report::new(databases)
    })
}

/// Like [`finish`], for a command that looks for findings (exit 3 when it finds some).
pub(crate) fn finish_check(ctx: &Context, databases: Vec<DatabaseReport>) -> Body {
    Body::Databases(Report {
        every_name: ctx.verbose > 0,
        check: true,
        ..Report::new(databases)
    })
}
