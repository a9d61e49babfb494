//! One module per command family; each turns its arguments into per-database reports.

mod adopt;
mod check;
mod config;
mod converge;
mod database;
mod drift;
mod import;
mod init;
mod inspect;
pub(crate) mod lint;
mod migrate;
mod model;
mod new;
mod record;
mod show;
mod status;

use crate::cli::{Cli, Command, ConfigCommand, DbCommand, ModelCommand};
use crate::context::Context;
use crate::report::{self, Body, DatabaseReport, Report};
use skein_config::Selection;

/// Runs the command: the profile it ran with, and its result or the usage or
/// configuration error that stopped it before it touched any database.
pub async fn run(cli: Cli) -> (Option<String>, anyhow::Result<Body>) {
    let options = match crate::options::Options::of(&cli) {
        Ok(options) => options,
        Err(err) => return (None, Err(err)),
    };
    if options.format == crate::options::Format::Github && !matches!(cli.command, Command::Lint(_))
    {
        return (
            None,
            Err(anyhow::anyhow!(
                "--format github is for `skein lint`; use human or json here"
            )),
        );
    }
    if options.format == crate::options::Format::Sql && !matches!(cli.command, Command::Inspect(_))
    {
        return (
            None,
            Err(anyhow::anyhow!(
                "--format sql is for `skein inspect`; use human or json here"
            )),
        );
    }
    if matches!(
        options.format,
        crate::options::Format::Markdown | crate::options::Format::Html
    ) && !reaches_databases(&cli.command)
    {
        return (
            None,
            Err(anyhow::anyhow!(
                "--format markdown and --format html are for commands that reach databases (up, status, drift, lint, ...); use human or json here"
            )),
        );
    }
    match cli.command {
        Command::Import(args) => return (None, import::run(args).await),
        Command::Init(args) => return (None, init::run(&args, options.url.as_deref())),
        _ => {}
    }
    let mut ctx = match Context::load(options) {
        Ok(ctx) => ctx,
        Err(err) => return (None, Err(err)),
    };
    let result = run_in(&mut ctx, cli.command).await;
    (Some(ctx.workspace.profile.clone()), result)
}

async fn run_in(ctx: &mut Context, command: Command) -> anyhow::Result<Body> {
    if let Some(selection) = listing_for(&command, &ctx.options.selection, &ctx.workspace) {
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
        Command::History(_) => status::history(ctx).await,
        Command::Up(args) => migrate::up(ctx, args).await,
        Command::Down(args) => migrate::down(ctx, args).await,
        Command::Redo(_) => migrate::redo(ctx).await,
        Command::New(args) => new::run(ctx, args).await,
        Command::Stamp(args) => record::stamp(ctx, args).await,
        Command::Repair(_) => record::repair(ctx).await,
        Command::Model(ModelCommand::New(args)) => model::new(ctx, args).await,
        Command::Model(ModelCommand::List(_)) => model::list(ctx).await,
        Command::Db(DbCommand::Create(_)) => database::create(ctx).await,
        Command::Db(DbCommand::Drop(args)) => {
            database::remove(ctx, database::Removal::Drop, args.yes).await
        }
        Command::Db(DbCommand::Reset(args)) => {
            database::remove(ctx, database::Removal::Reset, args.yes).await
        }
        Command::Wait(_) => database::wait(ctx).await,
        Command::Show(args) => show::show(ctx, args).await,
        Command::Inspect(_) => inspect::inspect(ctx).await,
        Command::Drift(_) => drift::drift(ctx).await,
        Command::Check(_) => check::check(ctx).await,
        Command::Converge(args) => converge::converge(ctx, args).await,
        Command::Lint(args) => lint::lint(ctx, args).await,
        Command::Config(ConfigCommand::Show(_)) => config::show(ctx),
        Command::Import(_) | Command::Init(_) => {
            unreachable!("import and init run without a workspace")
        }
        Command::Completions(_) | Command::Man | Command::Report(_) => {
            unreachable!("completions and man print before a command runs")
        }
        Command::Adopt(args) => adopt::run(ctx, args).await,
    }
}

/// The name a command's report goes by (none for `completions` and `man`, which print
/// no report).
pub fn name(command: &Command) -> Option<report::Command> {
    use report::Command as Name;
    Some(match command {
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
        Command::Db(DbCommand::Drop(_)) => Name::DbDrop,
        Command::Db(DbCommand::Reset(_)) => Name::DbReset,
        Command::Init(_) => Name::Init,
        Command::Wait(_) => Name::Wait,
        Command::Show(_) => Name::Show,
        Command::Completions(_) | Command::Man | Command::Report(_) => return None,
        Command::Model(ModelCommand::New(_)) => Name::ModelNew,
        Command::Model(ModelCommand::List(_)) => Name::ModelList,
        Command::Inspect(_) => Name::Inspect,
        Command::Drift(_) => Name::Drift,
        Command::Check(_) => Name::Check,
        Command::Converge(_) => Name::Converge,
        Command::Lint(_) => Name::Lint,
        Command::Config(ConfigCommand::Show(_)) => Name::ConfigShow,
    })
}

/// The command that arguments which did not parse name, when they get as far as naming
/// one (aliases included).
pub fn name_in(args: &[std::ffi::OsString]) -> Option<report::Command> {
    use clap::CommandFactory;
    const TAKE_VALUES: [&str; 6] = [
        "--config",
        "--profile",
        "--format",
        "--url",
        "--migrations",
        "--color",
    ];
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
    let name = match sub {
        Some(sub) => format!("{} {sub}", top.get_name()),
        None => top.get_name().to_owned(),
    };
    // The report's own names, as the JSON says them.
    serde_json::from_value(serde_json::Value::String(name)).ok()
}

/// The databases a command may reach, for listing the models of a `names_from` query
/// first; `None` for commands that list them themselves (`up`, `db create` and `wait`
/// reach the queried database first: it may be behind, missing or not up yet) or need no
/// list. Every other command selects from every model, whatever lists it.
fn listing_for(
    command: &Command,
    selection: &Selection,
    workspace: &skein_config::Workspace,
) -> Option<Selection> {
    Some(match command {
        Command::Up(_)
        | Command::Db(DbCommand::Create(_))
        | Command::Import(_)
        | Command::Init(_)
        | Command::Wait(_)
        | Command::Completions(_)
        | Command::Man
        | Command::Report(_) => return None,
        Command::Model(_) => Selection {
            databases: Vec::new(),
            groups: workspace.sets().iter().map(|s| s.name.clone()).collect(),
        },
        _ => selection.clone(),
    })
}

/// Whether `command` reports on databases (its result is a row per database).
fn reaches_databases(command: &Command) -> bool {
    use crate::cli::ModelCommand;
    !matches!(
        command,
        Command::New(_)
            | Command::Model(ModelCommand::New(_))
            | Command::Config(_)
            | Command::Init(_)
            | Command::Show(_)
            | Command::Completions(_)
            | Command::Man
            | Command::Report(_)
            | Command::Import(_)
    )
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
        every_name: ctx.options.verbose > 0,
        ..Report::new(databases)
    })
}

/// Like [`finish`], for a command that looks for findings (exit 3 when it finds some).
pub(crate) fn finish_check(ctx: &Context, databases: Vec<DatabaseReport>) -> Body {
    Body::Databases(Report {
        every_name: ctx.options.verbose > 0,
        check: true,
        ..Report::new(databases)
    })
}
