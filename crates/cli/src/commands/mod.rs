//! One module per command family; each turns its arguments into per-database reports.

mod config;
mod database;
mod inspect;
mod migrate;
mod model;
mod new;
mod record;
mod schema;

use crate::cli::{Cli, Command, ConfigCommand, DbCommand, ModelCommand};
use crate::context::Context;
use crate::exit::Outcome;
use crate::report::{DatabaseReport, Report, Status};

pub async fn run(cli: Cli) -> anyhow::Result<Outcome> {
    if cli.global.format == crate::cli::Format::Sql && !matches!(cli.command, Command::Inspect(_)) {
        anyhow::bail!("--format sql is for `skein inspect`; use human or json here");
    }
    let ctx = Context::load(&cli.global)?;
    match cli.command {
        Command::Status(args) => inspect::status(&ctx, args).await,
        Command::History(args) => inspect::history(&ctx, args).await,
        Command::Up(args) => migrate::up(&ctx, args).await,
        Command::Down(args) => migrate::down(&ctx, args).await,
        Command::Redo(args) => migrate::redo(&ctx, args).await,
        Command::New(args) => new::run(&ctx, args).await,
        Command::Stamp(args) => record::stamp(&ctx, args).await,
        Command::Repair(args) => record::repair(&ctx, args).await,
        Command::Model(ModelCommand::New(args)) => model::new(&ctx, args).await,
        Command::Model(ModelCommand::List(args)) => model::list(&ctx, args).await,
        Command::Db(DbCommand::Create(args)) => database::create(&ctx, args).await,
        Command::Inspect(args) => schema::inspect(&ctx, args).await,
        Command::Drift(args) => schema::drift(&ctx, args).await,
        Command::Check(args) => schema::check(&ctx, args).await,
        Command::Converge(args) => schema::converge(&ctx, args).await,
        Command::Config(ConfigCommand::Show(args)) => config::show(&ctx, args),
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
