//! Exit codes, documented in one place and decided by one function from the document a
//! command produced.

use crate::cli::Cli;
use crate::preflight::{ConfigProblems, UsageProblem};
use crate::report::{
    Body, Command, Document, ErrorDocument, ErrorInfo, ErrorKind, SCHEMA_VERSION, Where,
};
use skein_config::ConfigError;
use std::process::ExitCode;

/// Everything asked for is done.
pub const SUCCESS: u8 = 0;
/// At least one database failed, whatever the command.
pub const FAILURE: u8 = 1;
/// Usage or configuration error; nothing was touched.
pub const USAGE: u8 = 2;
/// A check found something: pending with `--check`, drift, a broken `expect` rule, a
/// declared schema the migrations do not give.
pub const FINDINGS: u8 = 3;
// 130 and 143: interrupted by SIGINT or SIGTERM (see `signals`), whatever the document.

/// The exit code of a command that produced `doc`.
pub fn code(doc: &Document) -> u8 {
    let (failed, found) = match &doc.body {
        Body::Error(error) if error.error.kind == ErrorKind::Unavailable => return FAILURE,
        Body::Error(_) => return USAGE,
        Body::Databases(report) => (report.failed(), report.found()),
        Body::New(new) => (false, new.found()),
        Body::ModelNew(model) => (model.failed(), false),
        Body::Show(show) => (show.failed(), false),
        Body::Config(_) | Body::Import(_) | Body::Init(_) => (false, false),
    };
    if failed {
        FAILURE
    } else if found {
        FINDINGS
    } else {
        SUCCESS
    }
}

/// Runs the command, renders its document and turns it into the exit code.
pub fn run(cli: Cli) -> ExitCode {
    let format = cli.global.format.into();
    let command = crate::commands::name(&cli.command);
    let requested_profile = cli.global.profile.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");
    let (profile, result) = runtime.block_on(crate::commands::run(cli));
    let doc = match result {
        Ok(body) => Document {
            schema_version: SCHEMA_VERSION,
            command,
            profile,
            body,
        },
        Err(err) => error_document(command, profile.or(requested_profile), &err),
    };
    crate::report::render(&doc, format);
    ExitCode::from(crate::signals::exit_code().unwrap_or_else(|| code(&doc)))
}

/// The document of a command stopped by a usage or configuration error.
fn error_document(
    command: Option<Command>,
    profile: Option<String>,
    err: &anyhow::Error,
) -> Document {
    Document {
        schema_version: SCHEMA_VERSION,
        command,
        profile,
        body: Body::Error(ErrorDocument {
            error: ErrorInfo {
                kind: kind_of(err),
                message: crate::report::error_chain(err.as_ref()),
                place: place_of(err),
                human: crate::report::human_error_chain(err.as_ref()),
            },
        }),
    }
}

fn kind_of(err: &anyhow::Error) -> ErrorKind {
    let unreachable = |e: &(dyn std::error::Error + 'static)| {
        matches!(
            e.downcast_ref::<ConfigError>(),
            Some(ConfigError::Secrets {
                unreachable: true,
                ..
            })
        )
    };
    if err.chain().any(unreachable) {
        return ErrorKind::Unavailable;
    }
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

/// Where the error is, from the first error of the chain that knows.
fn place_of(err: &anyhow::Error) -> Option<Where> {
    err.chain().find_map(|e| {
        if let Some(config) = e.downcast_ref::<ConfigError>() {
            return config_place(config);
        }
        if let Some(source) = e.downcast_ref::<skein_core::error::SourceError>() {
            return source.path().map(|path| Where {
                file: Some(crate::context::relative(path).display().to_string()),
                line: source.line(),
                ..Where::default()
            });
        }
        if let Some(problem) = e.downcast_ref::<UsageProblem>() {
            return problem.argument.map(|argument| Where {
                argument: Some(argument.to_owned()),
                ..Where::default()
            });
        }
        None
    })
}

fn config_place(err: &ConfigError) -> Option<Where> {
    let file = |path: &std::path::Path| Some(crate::context::relative(path).display().to_string());
    Some(match err {
        ConfigError::NotFound { start } => Where {
            file: file(start),
            ..Where::default()
        },
        ConfigError::Missing { path } | ConfigError::Empty { path } => Where {
            file: file(path),
            ..Where::default()
        },
        ConfigError::SingleWithConfig { path } => Where {
            file: file(path),
            argument: Some("--url".to_owned()),
            ..Where::default()
        },
        ConfigError::UnknownProfile { profile, path, .. } => Where {
            file: file(path),
            profile: Some(profile.clone()),
            ..Where::default()
        },
        ConfigError::Database { database, .. } => Where {
            database: Some(database.clone()),
            ..Where::default()
        },
        ConfigError::UnknownDatabase { name, .. } => Where {
            database: Some(name.clone()),
            argument: Some("--db".to_owned()),
            ..Where::default()
        },
        ConfigError::UnknownGroup { name, .. } => Where {
            group: Some(name.clone()),
            argument: Some("--group".to_owned()),
            ..Where::default()
        },
        ConfigError::ModelsDir { dir, .. } => Where {
            file: file(dir),
            ..Where::default()
        },
        ConfigError::Syntax { path, line, .. } => Where {
            file: file(path),
            line: Some(*line),
            ..Where::default()
        },
        ConfigError::AlreadyListed { path, .. } => Where {
            file: file(path),
            ..Where::default()
        },
        ConfigError::File(err) => Where {
            file: file(&err.path),
            ..Where::default()
        },
        ConfigError::Secrets { first, .. } => Where {
            file: first.file.as_ref().and_then(|(path, _)| file(path)),
            line: first.file.as_ref().map(|(_, line)| *line),
            database: Some(first.database.clone()),
            ..Where::default()
        },
        ConfigError::Setting { .. }
        | ConfigError::Settings(_)
        | ConfigError::Set { .. }
        | ConfigError::UnknownSet { .. }
        | ConfigError::WhichSet { .. }
        | ConfigError::DependencyCycle { .. } => return None,
        ConfigError::Edit { path, .. } => Where {
            file: file(path),
            ..Where::default()
        },
    })
}

/// The command line did not parse. Help and `--version` print as usual; an error is
/// clap's message on stderr, and with `--format json` also a JSON document on stdout.
pub fn parse_failed(err: clap::Error) -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if !err.use_stderr() || !json_requested(&args) {
        err.exit();
    }
    let text = err.render().to_string();
    let message = text.trim().strip_prefix("error: ").unwrap_or(text.trim());
    let argument = match err.get(clap::error::ContextKind::InvalidArg) {
        Some(clap::error::ContextValue::String(arg)) => Some(arg.clone()),
        _ => None,
    };
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        command: crate::commands::name_in(&args),
        profile: None,
        body: Body::Error(ErrorDocument {
            error: ErrorInfo {
                kind: ErrorKind::Usage,
                message: message.to_owned(),
                place: argument.map(|argument| Where {
                    argument: Some(argument),
                    ..Where::default()
                }),
                human: message.to_owned(),
            },
        }),
    };
    crate::report::render(&doc, crate::options::Format::Json);
    ExitCode::from(USAGE)
}

/// Whether the arguments ask for `--format json` (looked at by hand: they did not parse).
fn json_requested(args: &[std::ffi::OsString]) -> bool {
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
        assert!(json_requested(&args("skein --format json up --bogus")));
        assert!(json_requested(&args("skein up --format=json --bogus")));
        assert!(!json_requested(&args("skein up --format human --bogus")));
        assert!(!json_requested(&args("skein up --bogus json")));
    }
}
