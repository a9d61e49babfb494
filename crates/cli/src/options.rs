//! What the command line says beside each command's own arguments, converted from the
//! clap types once, before anything runs: the output format, the databases selected, the
//! timeouts and how a fleet runs. Everything below the command line reads these.

use crate::cli::{Cli, Command, ConfigCommand, DbCommand, FleetArgs, LockArgs, ModelCommand};
use crate::preflight::UsageProblem;
use skein_config::Selection;
use std::path::PathBuf;
use std::time::Duration;

/// How results are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    /// `inspect`'s schema as SQL.
    Sql,
    /// `lint`'s findings as GitHub Actions annotations.
    Github,
    /// A fleet's summary for a CI job summary.
    Markdown,
    /// A fleet's page.
    Html,
}

impl From<crate::cli::Format> for Format {
    fn from(format: crate::cli::Format) -> Self {
        match format {
            crate::cli::Format::Human => Format::Human,
            crate::cli::Format::Json => Format::Json,
            crate::cli::Format::Sql => Format::Sql,
            crate::cli::Format::Github => Format::Github,
            crate::cli::Format::Markdown => Format::Markdown,
            crate::cli::Format::Html => Format::Html,
        }
    }
}

/// The command line's settings for the whole run.
#[derive(Debug, Clone)]
pub struct Options {
    pub config: Option<PathBuf>,
    pub profile: Option<String>,
    /// `--url` and `--migrations`: the one database, where there is no skein.toml.
    pub url: Option<String>,
    pub migrations: Option<PathBuf>,
    pub format: Format,
    /// `-v` given this many times.
    pub verbose: u8,
    pub quiet: bool,
    /// `--db` and `--group`.
    pub selection: Selection,
    pub timeouts: Timeouts,
    pub fleet: FleetOptions,
}

/// How long to wait, from the command line; the configuration gives the rest.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timeouts {
    /// For another skein's lock.
    pub lock: Option<Duration>,
    /// For a connection that fails for a passing reason.
    pub connect: Option<Duration>,
    /// For one migration step.
    pub step: Option<Duration>,
}

/// How a command runs over many databases, from the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct FleetOptions {
    pub concurrency: Option<usize>,
    /// Start no new database once this many failed.
    pub max_failures: Option<usize>,
    /// Only shard K of N.
    pub shard: Option<(u32, u32)>,
}

impl Options {
    /// The options of `cli`; a `--shard` that cannot be used is a usage error.
    pub fn of(cli: &Cli) -> anyhow::Result<Self> {
        let (selection, fleet, lock) = parts(&cli.command);
        let global = &cli.global;
        Ok(Options {
            config: global.config.clone(),
            profile: global.profile.clone(),
            url: global.url.clone(),
            migrations: global.migrations.clone(),
            format: global.format.into(),
            verbose: global.verbose,
            quiet: global.quiet,
            selection: selection
                .map(|s| Selection {
                    databases: s.databases.clone(),
                    groups: s.groups.clone(),
                })
                .unwrap_or_default(),
            timeouts: lock.map_or_else(Timeouts::default, |lock| Timeouts {
                lock: lock.lock_timeout,
                connect: lock.connect_timeout,
                step: lock.step_timeout,
            }),
            fleet: match fleet {
                Some(fleet) => FleetOptions {
                    concurrency: fleet.concurrency.map(usize::from),
                    max_failures: match (fleet.fail_fast, fleet.max_failures) {
                        (true, _) => Some(1),
                        (false, limit) => limit.map(|k| k as usize),
                    },
                    shard: shard(fleet)?,
                },
                None => FleetOptions::default(),
            },
        })
    }
}

/// The selection, fleet and timeout arguments of a command, where it has them.
fn parts(
    command: &Command,
) -> (
    Option<&crate::cli::Selection>,
    Option<&FleetArgs>,
    Option<&LockArgs>,
) {
    match command {
        Command::Status(a) => (Some(&a.selection), Some(&a.fleet), Some(&a.lock)),
        Command::History(a) => (Some(&a.selection), None, Some(&a.lock)),
        Command::Up(a) => (Some(&a.selection), Some(&a.fleet), Some(&a.lock)),
        Command::Down(a) => (Some(&a.selection), Some(&a.fleet), Some(&a.lock)),
        Command::Redo(a) => (Some(&a.selection), None, Some(&a.lock)),
        Command::New(a) => (Some(&a.selection), None, Some(&a.lock)),
        Command::Stamp(a) => (Some(&a.selection), Some(&a.fleet), Some(&a.lock)),
        Command::Repair(a) => (Some(&a.selection), Some(&a.fleet), Some(&a.lock)),
        Command::Adopt(a) => (Some(&a.selection), Some(&a.fleet), Some(&a.lock)),
        Command::Model(ModelCommand::New(a)) => (None, None, Some(&a.lock)),
        Command::Model(ModelCommand::List(a)) => (None, Some(&a.fleet), Some(&a.lock)),
        Command::Db(DbCommand::Create(a)) => (Some(&a.selection), Some(&a.fleet), Some(&a.lock)),
        Command::Db(DbCommand::Drop(a) | DbCommand::Reset(a)) => {
            (Some(&a.selection), Some(&a.fleet), Some(&a.lock))
        }
        Command::Wait(a) => (Some(&a.selection), Some(&a.fleet), Some(&a.lock)),
        Command::Show(a) => (Some(&a.selection), None, Some(&a.lock)),
        Command::Inspect(a) => (Some(&a.selection), None, Some(&a.lock)),
        Command::Drift(a) | Command::Check(a) => {
            (Some(&a.selection), Some(&a.fleet), Some(&a.lock))
        }
        Command::Converge(a) => (Some(&a.selection), Some(&a.fleet), Some(&a.lock)),
        Command::Lint(a) => (Some(&a.selection), Some(&a.fleet), Some(&a.lock)),
        Command::Config(ConfigCommand::Show(a)) => (Some(&a.selection), None, None),
        Command::Import(_)
        | Command::Init(_)
        | Command::Completions(_)
        | Command::Man
        | Command::Report(_) => (None, None, None),
    }
}

/// Which shard to run: `K/N`, or `auto` with K from JOB_COMPLETION_INDEX and N from
/// `--shards` / SKEIN_SHARDS. A problem names the flag it is about.
fn shard(args: &FleetArgs) -> Result<Option<(u32, u32)>, UsageProblem> {
    let Some(shard) = &args.shard else {
        return Ok(None);
    };
    let problem = |argument: &'static str, message: String| UsageProblem {
        argument: Some(argument),
        message,
    };
    let (k, n) = if shard == "auto" {
        let index = std::env::var("JOB_COMPLETION_INDEX").map_err(|_| {
            problem(
                "--shard",
                "--shard auto needs JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job)"
                    .to_owned(),
            )
        })?;
        let k: u32 = index.parse().map_err(|_| {
            problem(
                "--shard",
                format!("--shard auto: JOB_COMPLETION_INDEX `{index}` is not a number"),
            )
        })?;
        let n = args.shards.ok_or_else(|| {
            problem(
                "--shards",
                "--shard auto needs the shard count: --shards N or SKEIN_SHARDS".to_owned(),
            )
        })?;
        (k, n)
    } else {
        let number = |text: &str, which: &str| {
            text.trim()
                .parse::<u32>()
                .map_err(|_| problem("--shard", format!("--shard K/N: {which} is not a number")))
        };
        let (k, n) = shard
            .split_once('/')
            .ok_or_else(|| problem("--shard", "--shard is K/N (e.g. 0/4) or auto".to_owned()))?;
        (number(k, "K")?, number(n, "N")?)
    };
    if n == 0 || k >= n {
        return Err(problem(
            "--shard",
            format!("--shard {k}/{n}: K must be between 0 and N-1"),
        ));
    }
    Ok(Some((k, n)))
}
