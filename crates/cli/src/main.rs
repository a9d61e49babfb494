//! The `skein` binary: parse, run, map the outcome to an exit code.

mod alembic;
mod cli;
mod commands;
mod context;
mod dotenv;
mod escape;
mod exit;
mod fleet;
mod import_map;
mod listing;
mod logging;
mod manual;
mod natural;
mod options;
mod preflight;
mod prepared;
mod progress;
mod redact;
mod report;
mod signals;
mod targets;

use clap::Parser;

fn main() -> std::process::ExitCode {
    // Before parsing: `.env` may set SKEIN_PROFILE, SKEIN_CONFIG or DATABASE_URL.
    dotenv::load();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return exit::parse_failed(err),
    };
    match &cli.command {
        cli::Command::Completions(args) => return manual::completions(args.shell),
        cli::Command::Man => return manual::man_page(),
        cli::Command::Report(args) => {
            return report::saved::render(&args.file, cli.global.format == cli::Format::Markdown);
        }
        _ => {}
    }
    logging::init(cli.global.verbose, cli.global.quiet, cli.global.color);
    exit::run(cli)
}
