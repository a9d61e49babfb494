//! The `skein` binary: parse, run, map the outcome to an exit code.

mod alembic;
mod cli;
mod commands;
mod context;
mod escape;
mod exit;
mod fleet;
mod listing;
mod logging;
mod natural;
mod options;
mod preflight;
mod progress;
mod redact;
mod report;
mod signals;
mod target;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return exit::parse_failed(err),
    };
    logging::init(cli.global.verbose, cli.global.quiet);
    exit::run(cli)
}
