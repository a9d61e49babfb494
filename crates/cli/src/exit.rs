//! Exit codes, documented in one place and mapped in one function.

use crate::cli::{Cli, Format};
use crate::preflight::ConfigProblems;
use serde::Serialize;
use skein_config::ConfigError;
use std::process::ExitCode;

/// Everything asked for is done.
pub const SUCCESS: u8 = 0;
/// At least one database failed.
pub const FAILURE: u8 = 1;
/// Usage or configuration error; nothing was touched.
pub const USAGE: u8 = 2;
/// `--check` found something pending or a problem.
pub const CHECK_FAILED: u8 = 3;
// 130 and 143: interrupted by SIGINT or SIGTERM (see `signals`).

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Failed,
    CheckFailed,
}

/// What kind of mistake stopped a command before it touched anything (both exit 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The command line: an unknown flag, a missing argument, a name that is not configured.
    Usage,
    /// skein.toml, the environment or what they point at (files, secrets, URLs).
    Config,
}

impl ErrorKind {
    fn of(err: &anyhow::Error) -> Self {
        let config = |e: &(dyn std::error::Error + 'static)| {
            e.downcast_ref::<ConfigError>()
                .is_some_and(|c| !c.is_usage())
                || e.is::<ConfigProblems>()
        };
        if err.chain().any(config) {
            ErrorKind::Config
        } else {
            ErrorKind::Usage
        }
    }
}

/// Runs the command and turns its outcome (or an early error) into the exit code.
pub fn run(cli: Cli) -> ExitCode {
    let format = cli.global.format;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");
    let outcome = runtime.block_on(crate::commands::run(cli));
    if let Some(code) = crate::signals::exit_code() {
        return ExitCode::from(code);
    }
    match outcome {
        Ok(Outcome::Done) => ExitCode::from(SUCCESS),
        Ok(Outcome::Failed) => ExitCode::from(FAILURE),
        Ok(Outcome::CheckFailed) => ExitCode::from(CHECK_FAILED),
        Err(err) => {
            crate::redact::err(&format!(
                "error: {}",
                crate::report::human_error_chain(err.as_ref())
            ));
            if format == Format::Json {
                let message = crate::report::error_chain(err.as_ref());
                print_json_error(ErrorKind::of(&err), &message);
            }
            ExitCode::from(USAGE)
        }
    }
}

/// The command line did not parse. Help and `--version` print as usual; an error is
/// clap's message on stderr, and with `--format json` also a JSON document on stdout.
pub fn parse_failed(err: clap::Error) -> ExitCode {
    if !err.use_stderr() || !json_requested(std::env::args_os()) {
        err.exit();
    }
    let _ = err.print();
    let text = err.render().to_string();
    let message = text.trim().strip_prefix("error: ").unwrap_or(text.trim());
    print_json_error(ErrorKind::Usage, message);
    ExitCode::from(USAGE)
}

/// `{"error": {"kind": "usage"|"config", "message": "..."}}` on stdout.
fn print_json_error(kind: ErrorKind, message: &str) {
    let doc = serde_json::json!({ "error": { "kind": kind, "message": message } });
    crate::report::print_json(doc, None);
}

/// Whether the arguments ask for `--format json` (looked at by hand: they did not parse).
fn json_requested(args: impl IntoIterator<Item = std::ffi::OsString>) -> bool {
    let args: Vec<std::ffi::OsString> = args.into_iter().collect();
    args.iter().enumerate().any(|(i, arg)| {
        arg == "--format=json"
            || (arg == "--format" && args.get(i + 1).is_some_and(|v| v == "json"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_requested_in_either_spelling() {
        let args = |text: &str| {
            text.split(' ')
                .map(std::ffi::OsString::from)
                .collect::<Vec<_>>()
        };
        assert!(json_requested(args("skein --format json up --bogus")));
        assert!(json_requested(args("skein up --format=json --bogus")));
        assert!(!json_requested(args("skein up --format human --bogus")));
        assert!(!json_requested(args("skein up --bogus json")));
    }
}
