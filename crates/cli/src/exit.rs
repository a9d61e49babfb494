//! Exit codes, documented in one place and mapped in one function.

use crate::cli::Cli;
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

/// Runs the command and turns its outcome (or an early error) into the exit code.
pub fn run(cli: Cli) -> ExitCode {
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
                crate::report::error_chain(err.as_ref())
            ));
            ExitCode::from(USAGE)
        }
    }
}
