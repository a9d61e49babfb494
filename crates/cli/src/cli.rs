//! The command line, as clap types.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "skein",
    version,
    about = "Keeps the schemas of many databases in step"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The config file (default: skein.toml in this folder or the nearest parent).
    #[arg(long, global = true, env = "SKEIN_CONFIG")]
    pub config: Option<PathBuf>,
    /// The profile to use on top of [default].
    #[arg(long, global = true, env = "SKEIN_PROFILE")]
    pub profile: Option<String>,
    /// How results are printed on stdout.
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// More logging on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// When to colour the logs on stderr: auto (on a terminal, unless NO_COLOR is set),
    /// always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Without a skein.toml: the one database's URL (default: DATABASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    pub url: Option<String>,
    /// Without a skein.toml: the one database's migration folder (default: ./migrations).
    #[arg(long, global = true, value_name = "DIR")]
    pub migrations: Option<PathBuf>,
    /// Do not read `.env` (from this folder, and beside skein.toml).
    #[arg(long, global = true)]
    pub no_dotenv: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    /// The schema as SQL (`inspect` only).
    Sql,
    /// GitHub Actions annotations, one per finding (`lint` only).
    Github,
    /// A summary in GitHub-flavoured Markdown, for a CI job summary: the counts per status
    /// and the databases that are not up to date.
    Markdown,
    /// One self-contained HTML page: every database, sortable and filterable, the failed
    /// ones first with their errors, drift groups, lint findings and the run's timeline.
    Html,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Current version, pending count and problems per database.
    #[command(alias = "current")]
    Status(StatusArgs),
    /// Every migration of one database: applied, pending, modified or missing.
    History(HistoryArgs),
    /// Apply pending migrations.
    #[command(alias = "upgrade")]
    Up(UpArgs),
    /// Revert applied migrations (name the databases, unless only one is configured).
    #[command(alias = "downgrade")]
    Down(DownArgs),
    /// Revert the newest migration and apply it again.
    Redo(RedoArgs),
    /// Write a new migration: <UTC timestamp>_<slug>.up.sql and .down.sql.
    #[command(
        override_usage = "skein new [OPTIONS] <DESCRIPTION>\n       skein new --from-schema <FILE> --check"
    )]
    New(NewArgs),
    /// Record migrations as applied (or not) without running them.
    Stamp(StampArgs),
    /// Clear failed rows, forget rows of missing files, record today's checksums.
    Repair(RepairArgs),
    /// Model databases, made from the template.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Database commands.
    #[command(subcommand)]
    Db(DbCommand),
    /// The live schema of a database, normalised, with its fingerprint.
    Inspect(InspectArgs),
    /// Live schemas against the schemas their migrations give, grouped by fingerprint.
    Drift(DriftArgs),
    /// The `expect` rules: required, optional and forbidden tables.
    Check(DriftArgs),
    /// Destructive and lock-unsafe statements in migrations: the pending ones by default.
    Lint(LintArgs),
    /// Bring divergent databases to the schema of their migrations at head (one plan per
    /// group of databases that share it).
    Converge(ConvergeArgs),
    /// Configuration commands.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Write a commented skein.toml and an empty migrations folder here.
    Init(InitArgs),
    /// Wait until the server of every selected database accepts connections.
    Wait(WaitArgs),
    /// One migration: its files, checksum, whether it is applied, and its up and down SQL.
    Show(ShowArgs),
    /// Print the shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Render a saved JSON report (`--format json` of any command) as the HTML page that
    /// `--format html` writes.
    Report(ReportArgs),
    /// Print the man page (roff), e.g. `skein man > skein.1`.
    Man,
    /// Rewrite another tool's migration folder into skein's layout (sqlx, golang-migrate,
    /// dbmate, goose, flyway, diesel, up-down).
    Import(ImportArgs),
    /// Take over databases another tool migrated: record what it applied as skein's
    /// history, after checking the live schema is what those migrations give.
    Adopt(AdoptArgs),
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// The tool whose history to read (sqlx, golang-migrate, dbmate, goose, flyway,
    /// alembic); else the tool skein-import.toml names; else found by its table (with
    /// several there, --from is needed).
    #[arg(long = "from", value_name = "TOOL")]
    pub tool: Option<String>,
    /// The other tool's history table, when it is not the tool's usual one (a hand-made
    /// runner's `schema_migrations(version text, ...)`).
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
    /// Record even when the live schema differs from what the migrations give, and leave
    /// out ids the tool applied that have no migration here (a goose Go migration); says so.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The tool that wrote the folder: sqlx, golang-migrate, dbmate, goose, flyway, diesel,
    /// alembic (the project folder, with alembic.ini, or the ini file), up-down (up/ and
    /// down/ folders of a hand-made runner) or schema-migrations (a hand-made runner's
    /// folder of .sql files run in name order; its BEGIN/COMMIT and schema_migrations
    /// writes are taken out).
    #[arg(long = "from", value_name = "TOOL")]
    pub tool: String,
    /// The tool's migration folder.
    pub source: std::path::PathBuf,
    /// The new folder for skein's files (it must not exist, or be empty).
    #[arg(long, value_name = "DIR")]
    pub to: Option<std::path::PathBuf>,
    /// With --from alembic: the command that runs the project's Alembic (default
    /// `alembic`), e.g. "poetry run alembic" or "alembic -c alembic_miner.ini".
    #[arg(long, value_name = "CMD")]
    pub alembic: Option<String>,
    /// With --from alembic: a server where skein may create (and then drop) a scratch
    /// database, to run the revisions that cannot be written offline (default:
    /// DATABASE_URL's server; SQLite needs none).
    #[arg(long, value_name = "URL")]
    pub scratch: Option<String>,
    /// With --from alembic: the SQL of a revision that cannot be captured, written by hand:
    /// REVISION=UP.sql or REVISION=UP.sql,DOWN.sql (repeatable).
    #[arg(long, value_name = "REVISION=FILE", value_parser = parse_replacement)]
    pub replace: Vec<(String, std::path::PathBuf, Option<std::path::PathBuf>)>,
    /// With --from alembic: the schema the first revision starts from, when the project
    /// makes it outside Alembic (MLflow's `create_all`): an SQL file, or MODULE:NAME, a
    /// SQLAlchemy MetaData (or declarative base) the project's Python imports. It becomes
    /// the first migration, `base-schema` in the import map.
    #[arg(long, value_name = "FILE|MODULE:NAME")]
    pub base: Option<String>,
    /// With --from alembic: MODULE:NAME of the SQLAlchemy MetaData the project's env.py
    /// gives as target_metadata, when it has a naming convention (constraints are then
    /// named by it, as under Alembic). env.py itself is not run.
    #[arg(long, value_name = "MODULE:NAME")]
    pub metadata: Option<String>,
}

/// `REVISION=UP.sql[,DOWN.sql]`.
fn parse_replacement(
    text: &str,
) -> Result<(String, std::path::PathBuf, Option<std::path::PathBuf>), String> {
    let (revision, files) = text
        .split_once('=')
        .ok_or("write REVISION=UP.sql or REVISION=UP.sql,DOWN.sql")?;
    let (up, down) = match files.split_once(',') {
        Some((up, down)) => (up, Some(down.into())),
        None => (files, None),
    };
    if revision.is_empty() || up.is_empty() {
        return Err("write REVISION=UP.sql or REVISION=UP.sql,DOWN.sql".to_owned());
    }
    Ok((revision.to_owned(), up.into(), down))
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// The migrations each database has not applied (the default; needs the database).
    #[arg(long, conflicts_with_all = ["since", "files"])]
    pub pending: bool,
    /// The migrations newer than VERSION (the database, when it answers, gives table sizes).
    #[arg(long, value_name = "VERSION", conflicts_with = "files")]
    pub since: Option<i64>,
    /// These migration files (up files of the selected databases).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct ConvergeArgs {
    /// The databases (every one when none is named; `--apply` needs them named).
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Run the plan (in one transaction; kept only if the schema then matches).
    #[arg(long)]
    pub apply: bool,
    /// Also run the destructive steps (drops, narrowing type changes).
    #[arg(long)]
    pub allow_destructive: bool,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The database (--db NAME, or a group that holds one); may be left out when the
    /// configuration has only one.
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Add a model: list it in skein.toml (or make its folder with --folder), create its
    /// database and apply the template's migrations.
    New(ModelNewArgs),
    /// Every model: where its name came from, its version and the template's head.
    List(ModelListArgs),
}

#[derive(Debug, Args)]
pub struct ModelNewArgs {
    /// The model's name: lower-case letters, digits and `_`.
    pub name: String,
    /// The set it joins (`models`, or a `[sets.<name>]`); may be left out when the
    /// configuration has one set.
    #[arg(long, value_name = "NAME")]
    pub set: Option<String>,
    /// List the model by a folder of its own under the models' `dir` (for migrations
    /// particular to it) instead of in the config's `names`.
    #[arg(long)]
    pub folder: bool,
    /// Do not create the database (it exists already, or is made elsewhere).
    #[arg(long)]
    pub no_create: bool,
    /// Do not migrate it.
    #[arg(long)]
    pub no_migrate: bool,
    /// If a step fails, keep what was made (the folder, the database) instead of removing it.
    #[arg(long)]
    pub keep: bool,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct ModelListArgs {
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Create the configured databases that do not exist.
    Create(DbCreateArgs),
    /// Drop the selected databases (asks on a terminal; --yes elsewhere).
    Drop(DbDropArgs),
    /// Drop, create and migrate the selected databases to head (asks on a terminal;
    /// --yes elsewhere).
    Reset(DbDropArgs),
}

#[derive(Debug, Args)]
pub struct DbDropArgs {
    /// The databases (every one when none is named and only one is configured).
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Do not ask: needed when stdin is not a terminal.
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The kind of database the new skein.toml points at (default: the --url's, or
    /// sqlite). Its URL is --url, or else DATABASE_URL (postgres, mysql) or a file beside
    /// skein.toml (sqlite).
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    Postgres,
    Sqlite,
    Mysql,
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The database (--db NAME); may be left out when the configuration has only one.
    #[command(flatten)]
    pub selection: Selection,
    /// A version, a unique prefix of one, or `head` (the newest).
    #[arg(value_name = "VERSION|head")]
    pub target: String,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The JSON report (`-` for standard input).
    pub file: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct DbCreateArgs {
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args, Clone, Default)]
pub struct Selection {
    /// A database by name (repeatable).
    #[arg(long = "db", value_name = "NAME")]
    pub databases: Vec<String>,
    /// A group: infra, models, or one named in the config (repeatable).
    #[arg(long = "group", value_name = "NAME")]
    pub groups: Vec<String>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The database (--db NAME, or a group that holds one); may be left out when the
    /// configuration has only one.
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub lock: LockArgs,
}

/// How a command runs over many databases.
#[derive(Debug, Args, Clone, Default)]
pub struct FleetArgs {
    /// Databases worked on at once (default: `concurrency` in the config, 8).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: Option<u16>,
    /// Start no new database after the first failure (the same as --max-failures 1).
    #[arg(long)]
    pub fail_fast: bool,
    /// Start no new database once K have failed.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "fail_fast")]
    pub max_failures: Option<u32>,
    /// Only the databases of shard K of N (by a stable hash of the name), plus what they
    /// depend on; `auto` takes K from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job).
    #[arg(long, value_name = "K/N|auto")]
    pub shard: Option<String>,
    /// The number of shards for `--shard auto`.
    #[arg(long, value_name = "N", env = "SKEIN_SHARDS")]
    pub shards: Option<u32>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Exit 3 if anything is pending or has a problem.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args, Clone, Default)]
pub struct LockArgs {
    /// How long to wait for another skein's lock (e.g. 30s, 2m).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub lock_timeout: Option<std::time::Duration>,
    /// How long to retry a connection that fails for a passing reason (default 30s).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub connect_timeout: Option<std::time::Duration>,
    /// The longest one migration step may run; the server then cancels it (overrides
    /// the `step_timeout` setting).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub step_timeout: Option<std::time::Duration>,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// `head` (every pending migration, the default), `+N` (the next N), or a version or
    /// a unique prefix of one (up to it, inclusive), as Alembic's `upgrade` takes.
    #[arg(value_name = "TARGET", conflicts_with = "to")]
    pub target: Option<String>,
    /// Stop at this version (inclusive), or at the migration an imported id names.
    #[arg(long, value_name = "VERSION")]
    pub to: Option<DownTo>,
    /// Print the plan; change nothing.
    #[arg(long, conflicts_with = "sql")]
    pub dry_run: bool,
    /// Print the SQL script `up` would run (for review or psql); change nothing.
    #[arg(long)]
    pub sql: bool,
    /// Apply pending migrations older than the newest applied one.
    #[arg(long)]
    pub allow_out_of_order: bool,
    /// Create each database that does not exist first (as `db create`), so that a model
    /// just listed is made and migrated in one run.
    #[arg(long, conflicts_with_all = ["dry_run", "sql"])]
    pub create: bool,
    /// Migrate N model databases first (the first N by name); the others start only if
    /// all of them succeed.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub canary: Option<u32>,
    /// A model database to migrate first, as a canary (repeatable).
    #[arg(long = "canary-db", value_name = "NAME")]
    pub canary_db: Vec<String>,
    #[command(flatten)]
    pub lock: LockArgs,
    #[command(flatten)]
    pub fleet: FleetArgs,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// `-N` (the newest N), `base` (all), or a version or a unique prefix of one (every
    /// migration newer than it), as Alembic's `downgrade` takes. With no target, no
    /// --steps and no --to: the newest one (`-1`), as `sqlx migrate revert` and `dbmate
    /// rollback` do.
    #[arg(value_name = "TARGET", allow_negative_numbers = true, conflicts_with_all = ["steps", "to"])]
    pub target: Option<String>,
    /// Revert the newest N migrations.
    #[arg(long, value_name = "N", conflicts_with = "to")]
    pub steps: Option<u32>,
    /// Revert every migration newer than VERSION (or the migration an imported id names);
    /// `base` reverts all.
    #[arg(long, value_name = "VERSION|base")]
    pub to: Option<DownTo>,
    /// Print the plan; change nothing.
    #[arg(long, conflicts_with = "sql")]
    pub dry_run: bool,
    /// Print the SQL script; change nothing.
    #[arg(long)]
    pub sql: bool,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Clone)]
pub enum DownTo {
    /// A version, or an id another tool gave a migration (`cec3a80e61a4`, `001`), found
    /// in the import maps.
    Version(String),
    Base,
}

impl std::str::FromStr for DownTo {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "base" => Ok(DownTo::Base),
            "" => Err("give a version, an imported id, or `base`".to_owned()),
            v => Ok(DownTo::Version(v.to_owned())),
        }
    }
}

#[derive(Debug, Args)]
pub struct RedoArgs {
    /// The database (--db NAME, or a group that holds one); may be left out when the
    /// configuration has only one.
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// --db NAME: the database whose folder gets the files (a model's own folder, made if
    /// need be; may be left out when the configuration has only one database).
    /// --group models: the model template, which every model applies.
    #[command(flatten)]
    pub selection: Selection,
    /// What the migration does, e.g. "add trades index" (not with --check).
    #[arg(required_unless_present = "check", value_name = "DESCRIPTION")]
    pub description: Option<String>,
    /// Write one irreversible `<version>_<slug>.sql` instead of an up/down pair.
    #[arg(long, conflicts_with = "from_schema")]
    pub irreversible: bool,
    /// Write a repeatable migration, `repeatable/<slug>.sql`: applied after the versioned
    /// ones, again whenever it changes (views, functions, seed data).
    #[arg(long, conflicts_with_all = ["from_schema", "irreversible"])]
    pub repeatable: bool,
    /// Generate the migration: what takes the schema at head to the one this SQL file
    /// declares (replayed into scratch databases), and back.
    #[arg(long, value_name = "FILE")]
    pub from_schema: Option<std::path::PathBuf>,
    /// With --from-schema: write nothing; exit 3 if the migrations do not give the
    /// declared schema (for CI).
    #[arg(long, requires = "from_schema")]
    pub check: bool,
    /// With --from-schema: write the migration even though its up file drops or narrows
    /// something (each such statement is marked with what it loses).
    #[arg(long, requires = "from_schema")]
    pub allow_destructive: bool,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct StampArgs {
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// A version, `head` (every file) or `base` (nothing).
    pub target: String,
    /// Record without first checking, on a database with no skein history, that the live
    /// schema is what the migrations up to the target give.
    #[arg(long)]
    pub no_verify: bool,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct RepairArgs {
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Each database's resolved settings and where each came from (secrets hidden).
    Show(ConfigShowArgs),
}

#[derive(Debug, Args)]
pub struct ConfigShowArgs {
    #[command(flatten)]
    pub selection: Selection,
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    skein_config::duration::parse_duration(text)
}
