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
            return report_file(&args.file, cli.global.format == cli::Format::Markdown);
        }
        _ => {}
    }
    logging::init(cli.global.verbose, cli.global.quiet, cli.global.color);
    exit::run(cli)
}

/// `skein report FILE`: the page (or with `--format markdown` the summary) of a saved JSON
/// report; a file that is not one is a usage error (exit 2).
fn report_file(path: &std::path::Path, markdown: bool) -> std::process::ExitCode {
    use std::io::Read as _;
    let shown = path.display().to_string();
    let text = if shown == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map(|_| text)
    } else {
        std::fs::read_to_string(path)
    };
    let page = text
        .map_err(|e| format!("cannot read {}: {e}", escape::controls(&shown)))
        .and_then(|text| {
            report::html::read_report(&escape::controls(&shown), &text).map_err(|e| e.to_string())
        });
    match page {
        Ok(doc) if markdown => {
            redact::out(report::markdown::render(&doc).trim_end());
            std::process::ExitCode::SUCCESS
        }
        Ok(doc) => {
            redact::out_raw(&report::html::page(&doc));
            std::process::ExitCode::SUCCESS
        }
        Err(message) => {
            redact::err(&format!("error: {message}"));
            std::process::ExitCode::from(exit::USAGE)
        }
    }
}
