//! Logs go to stderr, filtered by -v/-q or RUST_LOG.

use tracing_subscriber::EnvFilter;

const CAPPED: &[&str] = &[
    "aws_config",
    "aws_runtime",
    "aws_sdk_secretsmanager",
    "aws_sigv4",
    "aws_smithy_http_client",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "gcp_auth",
    "h2",
    "hyper",
    "hyper_util",
    "reqwest",
    "rustls",
];

pub fn init(verbose: u8, quiet: bool, color: crate::cli::ColorChoice) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn,sqlx=error",
        (false, 1) => "info,sqlx=warn",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // HTTP and cloud SDK internals may log request and response bodies at debug and trace;
    // those bodies carry secret values before skein knows them, so they never go below info.
    for target in CAPPED {
        if let Ok(directive) = format!("{target}=info").parse() {
            filter = filter.add_directive(directive);
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| crate::redact::ScrubbedStderr)
        .with_target(false)
        .with_ansi(colored(color))
        .init();
}

/// Whether the logs are coloured: `--color always` or `never`, or by default only for a
/// person at a terminal (never into a pipe or a log file) who did not set NO_COLOR.
fn colored(color: crate::cli::ColorChoice) -> bool {
    use crate::cli::ColorChoice;
    match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
                && std::io::IsTerminal::is_terminal(&std::io::stderr())
        }
    }
}
