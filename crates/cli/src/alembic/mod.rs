//! `import --from alembic`: an Alembic project's revisions as skein migrations.
//!
//! [`export.py`](export.py), run with the project's own Python, finds the revisions from the
//! project's ini file and writes each one's SQL with Alembic's operations: offline where
//! the revision allows it, else by running the chain on a scratch database of the same
//! backend (never the team's database) and recording what each revision sent. Alembic's
//! version-table bookkeeping and transaction lines are left out. Versions follow the
//! revisions' order, from their Create Date where they have one, made strictly increasing.

use crate::report::LinedError;
mod converge;

use anyhow::{Context as _, bail};
use skein_core::import::{Import, Imported};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The program that exports the revisions.
const EXPORT: &str = include_str!("export.py");

/// What `import --from alembic` was given.
pub struct Request<'a> {
    /// The project folder (with `alembic.ini`) or the ini file itself.
    pub source: &'a Path,
    /// The command that runs the project's Alembic (`alembic`, `poetry run alembic -c
    /// alembic_miner.ini`).
    pub alembic: &'a str,
    /// A server where a scratch database may be made, for revisions that must run online.
    pub scratch: Option<&'a str>,
    /// Hand-written SQL for revisions that cannot be captured: id -> (up, down) files.
    pub replace: &'a BTreeMap<String, (PathBuf, Option<PathBuf>)>,
    /// The schema before the first revision: an SQL file, or MODULE:NAME of a SQLAlchemy
    /// MetaData.
    pub base: Option<&'a str>,
    /// MODULE:NAME of the MetaData env.py gives as target_metadata.
    pub metadata: Option<&'a str>,
}

/// The id the base schema (`--base`) has in the import map.
pub const BASE_ID: &str = "base-schema";

/// The migrations, and what the import has to say about how they were made.
pub struct Exported {
    pub import: Import,
    /// The project's version table when its env.py names one other than `alembic_version`.
    pub version_table: Option<String>,
}

/// One revision as `export.py` gives it.
#[derive(Debug, serde::Deserialize)]
struct Revision {
    id: String,
    #[serde(default)]
    parents: Vec<String>,
    message: String,
    created: Option<i64>,
    #[serde(default)]
    branch_labels: Vec<String>,
    path: String,
    mode: String,
    upgrade: Option<String>,
    downgrade: Option<String>,
    upgrade_error: Option<Failure>,
    downgrade_error: Option<Failure>,
    upgrade_online_error: Option<Failure>,
    downgrade_online_error: Option<Failure>,
}

impl Revision {
    /// The base schema (`--base`) as a revision of its own.
    fn base(source: &str) -> Revision {
        Revision {
            id: BASE_ID.to_owned(),
            parents: Vec::new(),
            message: "base schema".to_owned(),
            created: None,
            branch_labels: Vec::new(),
            path: source.to_owned(),
            mode: "base".to_owned(),
            upgrade: None,
            downgrade: None,
            upgrade_error: None,
            downgrade_error: None,
            upgrade_online_error: None,
            downgrade_online_error: None,
        }
    }
}

#[derive(Debug, Clone, serde::Deserialize)]
struct Failure {
    message: String,
    line: Option<usize>,
}

#[derive(Debug, serde::Deserialize)]
struct Exports {
    #[serde(default)]
    dialect: String,
    /// The `version_table` env.py gives `context.configure`, when it gives one.
    #[serde(default)]
    version_table: Option<String>,
    /// `--base` as SQL: up and down.
    #[serde(default)]
    base: Option<Base>,
    #[serde(default)]
    revisions: Vec<Revision>,
    error: Option<Failure>,
}

/// The schema before the first revision, as SQL.
#[derive(Debug, serde::Deserialize)]
struct Base {
    upgrade: String,
    downgrade: Option<String>,
}

/// The Alembic project a request names: its folder (where alembic runs), its ini file and
/// section, and the command words left once `-c`/`-n` are taken out.
#[derive(Debug, PartialEq, Eq)]
struct Project {
    dir: PathBuf,
    ini: PathBuf,
    section: Option<String>,
    command: Vec<String>,
}

impl Project {
    fn of(source: &Path, alembic: &str) -> anyhow::Result<Project> {
        let mut words = alembic.split_whitespace().map(str::to_owned);
        let mut command = Vec::new();
        let (mut config, mut section) = (None, None);
        while let Some(word) = words.next() {
            match word.as_str() {
                "-c" | "--config" => config = words.next(),
                "-n" | "--name" => section = words.next(),
                _ if word.starts_with("--config=") => config = Some(word[9..].to_owned()),
                _ if word.starts_with("--name=") => section = Some(word[7..].to_owned()),
                _ => command.push(word),
            }
        }
        if command.is_empty() {
            bail!("--alembic is empty: give the command that runs the project's Alembic");
        }
        let (dir, ini) = if source.is_file() {
            let dir = source.parent().map(Path::to_path_buf).unwrap_or_default();
            if let Some(config) = &config
                && dir.join(config) != source
            {
                bail!(
                    "--alembic names -c {config}, and the source is {}: give one ini file",
                    source.display()
                );
            }
            (dir, source.to_path_buf())
        } else {
            let ini = source.join(config.as_deref().unwrap_or("alembic.ini"));
            (source.to_path_buf(), ini)
        };
        if !ini.is_file() {
            bail!(
                "{} is not there; give the Alembic project's ini file (`skein import --from alembic alembic_miner.ini`), its folder, or -c FILE in --alembic",
                ini.display()
            );
        }
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        // Alembic finds script_location from where it runs: the ini file's folder as a
        // team runs it (`cd gaia && alembic -c alembic_miner.ini`), or else the current
        // folder (`alembic -c mlflow/store/db_migrations/alembic.ini` from site-packages).
        let dir = match script_location(&ini, section.as_deref()) {
            Some(location)
                if !Path::new(&location).is_absolute()
                    && !location.contains(':')
                    && !dir.join(&location).is_dir()
                    && Path::new(&location).is_dir() =>
            {
                PathBuf::from(".")
            }
            _ => dir,
        };
        Ok(Project {
            dir,
            ini,
            section,
            command,
        })
    }

    /// The Python the project's Alembic runs on: the interpreter of the `alembic` script
    /// (its `#!` line), or with a wrapper (`poetry run alembic`), the wrapper's `python`.
    fn python(&self) -> Vec<String> {
        let mut words = self.command.clone();
        let Some(last) = words.pop() else {
            return vec!["python3".to_owned()];
        };
        let script = match last.contains('/') {
            true => Some(PathBuf::from(&last)),
            false => which(&last),
        };
        let shebang = script
            .and_then(|path| std::fs::read_to_string(path).ok())
            .and_then(|text| text.lines().next().map(str::to_owned))
            .and_then(|line| line.strip_prefix("#!").map(str::to_owned));
        match (words.is_empty(), shebang) {
            (true, Some(interpreter)) => {
                interpreter.split_whitespace().map(str::to_owned).collect()
            }
            _ => {
                words.push("python".to_owned());
                words
            }
        }
    }
}

/// The `script_location` of the ini file's section (`alembic` unless named), as written.
fn script_location(ini: &Path, section: Option<&str>) -> Option<String> {
    let text = std::fs::read_to_string(ini).ok()?;
    let wanted = format!("[{}]", section.unwrap_or("alembic"));
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == wanted;
        } else if inside
            && let Some((key, value)) = line.split_once(['=', ':'])
            && key.trim() == "script_location"
        {
            return Some(value.trim().to_owned());
        }
    }
    None
}

/// `program` on PATH.
fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}

/// Imports the Alembic project `request` names.
pub async fn import(request: &Request<'_>) -> anyhow::Result<Exported> {
    let project = Project::of(request.source, request.alembic)?;
    // The server for a scratch database: --scratch, else DATABASE_URL.
    let server = request.scratch.map(str::to_owned).or_else(|| {
        std::env::var("DATABASE_URL")
            .ok()
            .filter(|url| !url.trim().is_empty())
    });
    let options = serde_json::json!({
        "base": base_request(request.base)?,
        "metadata": request.metadata,
        "dialect": server.as_deref().and_then(dialect_of_url),
    });
    let mut exports = export(&project, None, &options).await?;
    let mut notes = Vec::new();
    if uncaptured(&exports, request).next().is_some()
        && let Some(scratch) = Scratch::make(&exports.dialect, server.as_deref()).await?
    {
        let online = export(&project, Some(&scratch.sqlalchemy_url), &options).await;
        scratch.drop().await;
        exports = online?;
        let captured: Vec<&str> = exports
            .revisions
            .iter()
            .filter(|r| r.mode == "online")
            .map(|r| r.id.as_str())
            .collect();
        if !captured.is_empty() {
            notes.push(format!(
                    "{} revision(s) cannot run offline and were captured by running the chain on a fresh scratch {} database: {}; a branch they take on what the database holds was taken as on an empty database (read them)",
                    captured.len(),
                    exports.dialect,
                    captured.join(", ")
                ));
        }
    }
    let mut failed: Vec<String> = uncaptured(&exports, request).map(failure_text).collect();
    let mut base_hint = "";
    if !failed.is_empty()
        && let Some((revision, failure)) = exports.revisions.iter().find_map(|r| {
            r.upgrade_online_error
                .as_ref()
                .or(r.downgrade_online_error.as_ref())
                .map(|f| (r, f))
        })
    {
        if revision.parents.is_empty() && request.base.is_none() {
            base_hint = "; if the project makes the tables its first revision changes outside Alembic (create_all of its models, as MLflow does), give that schema with --base FILE.sql or --base MODULE:NAME (its SQLAlchemy MetaData)";
        }
        failed.push(format!(
            "On the scratch database the chain stopped at revision {} ({}):\n{}",
            revision.id,
            place(&revision.path, failure.line),
            indent(&failure.message)
        ));
    }
    if !failed.is_empty() {
        let scratch = match (exports.dialect.as_str(), request.scratch) {
            ("sqlite", _) | (_, Some(_)) => String::new(),
            (dialect, None) => format!(
                "give a {dialect} server where skein may create and drop a scratch database with --scratch URL (or DATABASE_URL), so that they run there; or "
            ),
        };
        return Err(LinedError(format!(
            "{} revision(s) could not be written as SQL, so nothing was imported:\n\n{}\n\nWhat to do: {scratch}write their SQL by hand and give it with --replace REVISION=UP.sql[,DOWN.sql]{base_hint}",
            failed.len(),
            failed.join("\n\n"),
        ))
        .into());
    }
    let mut migrations = Vec::new();
    let mut converging = Vec::new();
    let mut previous: i64 = 0;
    if let Some(base) = &exports.base {
        // Just before the first revision.
        let version = exports
            .revisions
            .first()
            .and_then(|r| r.created)
            .map(|created| created - 1)
            .filter(|&v| v > 0)
            .unwrap_or(1);
        previous = version;
        let source = request.base.unwrap_or_default();
        let revision = Revision::base(source);
        migrations.push(imported(
            &revision,
            version,
            &base.upgrade,
            base.downgrade.as_deref(),
        ));
        notes.push(format!(
            "the schema the first revision starts from ({source}) is the first migration, {version} ({BASE_ID} in the import map)"
        ));
    }
    for revision in &exports.revisions {
        let (up, down) = match request.replace.get(&revision.id) {
            Some((up, down)) => {
                notes.push(format!(
                    "revision {}: the SQL is {} (--replace)",
                    revision.id,
                    up.display()
                ));
                (read(up)?, down.as_deref().map(read).transpose()?)
            }
            None if revision.mode == "online" && exports.dialect == "postgresql" => {
                let (up, made) = converge::converging(revision.upgrade.as_deref().unwrap_or(""));
                let down = revision.downgrade.as_deref().map(converge::converging);
                let made = made + down.as_ref().map_or(0, |(_, n)| *n);
                if made > 0 {
                    converging.push(format!("{} ({made})", revision.id));
                }
                (up, down.map(|(sql, _)| sql))
            }
            None => (
                revision.upgrade.clone().unwrap_or_default(),
                revision.downgrade.clone(),
            ),
        };
        let version = revision
            .created
            .filter(|&v| v > previous)
            .unwrap_or(previous + 1);
        previous = version;
        migrations.push(imported(revision, version, &up, down.as_deref()));
    }
    if !converging.is_empty() {
        notes.push(format!(
            "the captured DDL of {} was given IF NOT EXISTS / IF EXISTS (statements changed in brackets): these revisions look before they act, so run again where their changes are already made (their downgrade undid nothing) they converge as under Alembic instead of failing",
            converging.join(", ")
        ));
    }
    let files = migrations
        .iter()
        .flat_map(|m| m.files.iter().map(|(n, t)| (n.clone(), t.clone())));
    use skein_core::source::MigrationSource as _;
    skein_core::source::MemorySource::new(files)
        .load()
        .context("the SQL alembic wrote does not load as skein migrations")?;
    Ok(Exported {
        import: Import {
            repeatables: Vec::new(),
            migrations,
            skipped: Vec::new(),
            notes,
            compatible: false,
        },
        version_table: exports
            .version_table
            .clone()
            .filter(|t| t != "alembic_version"),
    })
}

/// The revisions with a direction neither written nor replaced.
fn uncaptured<'a>(
    exports: &'a Exports,
    request: &'a Request<'_>,
) -> impl Iterator<Item = &'a Revision> {
    exports.revisions.iter().filter(|r| {
        (r.upgrade.is_none() || r.downgrade.is_none()) && !request.replace.contains_key(&r.id)
    })
}

/// Why a revision could not be written, naming its file and line, its traceback last
/// frame first.
fn failure_text(revision: &Revision) -> String {
    let failure = [
        &revision.upgrade_error,
        &revision.downgrade_error,
        &revision.upgrade_online_error,
        &revision.downgrade_online_error,
    ]
    .into_iter()
    .flatten()
    .next();
    let Some(failure) = failure else {
        return format!("revision {} ({})", revision.id, revision.path);
    };
    format!(
        "revision {} ({}):\n{}",
        revision.id,
        place(&revision.path, failure.line),
        indent(&failure.message)
    )
}

fn place(path: &str, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{path}:{line}"),
        None => path.to_owned(),
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("  {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// A revision as a skein migration: its up and down files, headed by where they came from.
fn imported(revision: &Revision, version: i64, up: &str, down: Option<&str>) -> Imported {
    let slug = skein_core::migration::slug(&revision.message);
    let stem = format!(
        "{version}_{}",
        if slug.is_empty() { "revision" } else { &slug }
    );
    let how = match revision.mode.as_str() {
        "online" => ", captured on a fresh scratch database",
        "base" => ", the schema the first revision starts from",
        _ => "",
    };
    let labels = match revision.branch_labels.as_slice() {
        [] => String::new(),
        labels => format!(" [branch {}]", labels.join(", ")),
    };
    let merges = match revision.parents.as_slice() {
        [_, _, ..] => format!(" (merges {})", revision.parents.join(", ")),
        _ => String::new(),
    };
    let header = |direction: &str| {
        format!(
            "-- Alembic revision {}{labels}{merges} ({direction}{how}): {}\n",
            revision.id,
            revision.message.replace(['\n', '\r'], " ")
        )
    };
    let mut files = vec![(
        format!("{stem}.up.sql"),
        header("upgrade") + &statements(up),
    )];
    if let Some(down) = down {
        files.push((
            format!("{stem}.down.sql"),
            header("downgrade") + &statements(down),
        ));
    }
    Imported {
        id: revision.id.clone(),
        version,
        files,
        sources: vec![PathBuf::from(&revision.path)],
    }
}

/// `--base` for the exporter: `{"sql": TEXT}` for a file, `{"metadata": "MODULE:NAME"}`
/// for a name, null without it.
fn base_request(base: Option<&str>) -> anyhow::Result<serde_json::Value> {
    let Some(base) = base else {
        return Ok(serde_json::Value::Null);
    };
    let path = Path::new(base);
    if path.is_file() {
        return Ok(serde_json::json!({ "sql": read(path)? }));
    }
    match base.split_once(':') {
        Some((module, name)) if !module.is_empty() && !name.is_empty() && !base.contains('/') => {
            Ok(serde_json::json!({ "metadata": base }))
        }
        _ => bail!(
            "--base {base}: no such file, and not MODULE:NAME; give the SQL of the schema the first revision starts from, or the SQLAlchemy MetaData that makes it (mlflow.store.db.initial_models:Base)"
        ),
    }
}

/// The SQLAlchemy backend of a skein URL: `postgresql`, `mysql` or `sqlite`.
fn dialect_of_url(url: &str) -> Option<&'static str> {
    Some(sqlalchemy_name(skein_schemes::Kind::of_url(url)?))
}

/// SQLAlchemy's name of a kind of database.
fn sqlalchemy_name(kind: skein_schemes::Kind) -> &'static str {
    match kind {
        skein_schemes::Kind::Postgres => "postgresql",
        skein_schemes::Kind::MySql => "mysql",
        skein_schemes::Kind::Sqlite => "sqlite",
    }
}

/// Runs `export.py` on the project with its Python; `scratch`, a SQLAlchemy URL, lets it
/// run the chain online. `options`: `base` and `metadata` as asked, and `dialect`, the
/// backend of `--scratch` or DATABASE_URL, for when the ini file's URL does not give one
/// (the teams' env.py often takes it from the environment).
async fn export(
    project: &Project,
    scratch: Option<&str>,
    options: &serde_json::Value,
) -> anyhow::Result<Exports> {
    let work = tempfile::tempdir().context("cannot make a temporary folder")?;
    let program = work.path().join("skein_alembic_export.py");
    let request = work.path().join("request.json");
    let result = work.path().join("result.json");
    let ini = std::path::absolute(&project.ini).unwrap_or_else(|_| project.ini.clone());
    std::fs::write(&program, EXPORT).context("cannot write the exporter")?;
    std::fs::write(
        &request,
        serde_json::json!({
            "ini": ini,
            "section": project.section,
            "scratch": scratch,
            "dialect": options["dialect"],
            "base": options["base"],
            "metadata": options["metadata"],
            "result": result,
        })
        .to_string(),
    )
    .context("cannot write the exporter's request")?;
    let python = project.python();
    let output = tokio::process::Command::new(&python[0])
        .args(&python[1..])
        .arg(&program)
        .arg(&request)
        .current_dir(&project.dir)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .with_context(|| {
            format!(
                "cannot run `{}`, the Python of `{}`: install Alembic (pip install alembic) in the project's environment, or give the command that runs it with --alembic CMD",
                python.join(" "),
                project.command.join(" ")
            )
        })?;
    let text = std::fs::read_to_string(&result).map_err(|_| {
        let stderr = String::from_utf8_lossy(&output.stderr);
        LinedError(format!(
            "`{}` did not export the revisions (exit {}):\n{}",
            python.join(" "),
            output.status.code().unwrap_or(-1),
            indent(stderr.trim())
        ))
    })?;
    let exports: Exports =
        serde_json::from_str(&text).context("the exporter's result is not what skein expects")?;
    if let Some(error) = &exports.error {
        return Err(LinedError(format!(
            "the Alembic project in {} does not load:\n{}",
            project.dir.display(),
            indent(&error.message)
        ))
        .into());
    }
    if exports.revisions.is_empty() {
        bail!(
            "the Alembic project in {} has no revision",
            project.dir.display()
        );
    }
    Ok(exports)
}

/// A scratch database for running revisions online, dropped after.
struct Scratch {
    /// skein's URL of it.
    url: String,
    /// SQLAlchemy's URL of it.
    sqlalchemy_url: String,
    _folder: Option<tempfile::TempDir>,
}

impl Scratch {
    /// On SQLite, a file in a temporary folder; on a server, a new database on `server`
    /// (`--scratch`, or DATABASE_URL). `None` when there is no server to use.
    async fn make(dialect: &str, server: Option<&str>) -> anyhow::Result<Option<Scratch>> {
        if dialect == "sqlite" {
            let folder = tempfile::tempdir().context("cannot make a temporary folder")?;
            let file = folder.path().join("scratch.db");
            return Ok(Some(Scratch {
                url: format!("sqlite://{}", file.display()),
                sqlalchemy_url: format!("sqlite:///{}", file.display()),
                _folder: Some(folder),
            }));
        }
        let Some(server) = server else {
            return Ok(None);
        };
        let name = format!(
            "skein_import_{}_{}",
            std::process::id(),
            jiff::Timestamp::now().as_millisecond()
        );
        let url = skein_core::driver::with_database(server, &name);
        let stop = skein_core::stop::Stop::default();
        skein_core::driver::create_database(&url, std::time::Duration::from_secs(30), &stop)
            .await
            .with_context(|| {
                format!(
                    "cannot make a scratch database on {} for the revisions that must run online",
                    skein_core::driver::redact_url(server)
                )
            })?;
        let (scheme, rest) = url.split_once("://").unwrap_or(("", &url));
        // MySQL through PyMySQL, the driver the import installs.
        let sqlalchemy_scheme = match skein_schemes::Kind::of_scheme(scheme) {
            Some(skein_schemes::Kind::MySql) => "mysql+pymysql",
            Some(kind) => sqlalchemy_name(kind),
            None => scheme,
        };
        Ok(Some(Scratch {
            sqlalchemy_url: format!("{sqlalchemy_scheme}://{rest}"),
            url,
            _folder: None,
        }))
    }

    async fn drop(&self) {
        if !skein_schemes::Kind::of_url(&self.url).is_some_and(skein_schemes::Kind::is_file) {
            let _ = skein_core::driver::drop_database(&self.url).await;
        }
    }
}

/// The statements of alembic's offline SQL, without its transaction lines and its
/// `alembic_version` bookkeeping. A COMMIT with statements after it is an `autocommit_block()`:
/// the file then runs outside a transaction, as alembic ran it.
fn statements(sql: &str) -> String {
    let all: Vec<&str> = skein_core::split::split(sql)
        .into_iter()
        .map(|s| s.sql)
        .collect();
    let is = |statement: &str, word: &str| {
        statement
            .split_whitespace()
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
    };
    // A COMMIT with statements after it (BEGIN and COMMIT aside) is an autocommit_block().
    let autocommit = all.iter().enumerate().any(|(i, s)| {
        is(s, "COMMIT")
            && all[i + 1..]
                .iter()
                .any(|t| !is(t, "BEGIN") && !is(t, "COMMIT"))
    });
    let kept: Vec<&str> = all
        .into_iter()
        .filter(|s| !is(s, "BEGIN") && !is(s, "COMMIT") && !is_bookkeeping(s))
        .collect();
    let mut out = String::new();
    if autocommit {
        out.push_str("-- skein:no-transaction\n");
    }
    if kept.is_empty() {
        out.push_str("-- nothing to do\n");
    } else {
        out.push_str(
            &kept
                .iter()
                .map(|s| format!("{s};\n"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    out
}

/// A statement on alembic's own table: its creation, and the rows it keeps.
fn is_bookkeeping(statement: &str) -> bool {
    const TABLE: &str = "alembic_version";
    if skein_core::import::writes_table(statement, TABLE) {
        return true;
    }
    let words: Vec<&str> = statement.split_whitespace().take(3).collect();
    matches!(words.as_slice(), [verb, table, name]
        if (verb.eq_ignore_ascii_case("CREATE") || verb.eq_ignore_ascii_case("DROP"))
            && table.eq_ignore_ascii_case("TABLE")
            && name.trim_matches('"').eq_ignore_ascii_case(TABLE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_is_found_from_a_folder_an_ini_file_or_c_in_the_command() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("alembic.ini"), "").unwrap();
        std::fs::write(dir.path().join("alembic_miner.ini"), "").unwrap();
        let folder = Project::of(dir.path(), "alembic").unwrap();
        assert_eq!(folder.ini, dir.path().join("alembic.ini"));
        let with_c = Project::of(
            dir.path(),
            "poetry run alembic -c alembic_miner.ini -n miner",
        )
        .unwrap();
        assert_eq!(with_c.ini, dir.path().join("alembic_miner.ini"));
        assert_eq!(with_c.section.as_deref(), Some("miner"));
        assert_eq!(with_c.command, ["poetry", "run", "alembic"]);
        assert_eq!(with_c.python(), ["poetry", "run", "python"]);
        let file = Project::of(&dir.path().join("alembic_miner.ini"), "alembic").unwrap();
        assert_eq!(file.dir, dir.path());
        assert!(Project::of(&dir.path().join("nope.ini"), "alembic").is_err());
        assert!(Project::of(dir.path(), "alembic -c nope.ini").is_err());
    }

    #[test]
    fn bookkeeping_and_transaction_lines_are_left_out() {
        let sql = "BEGIN;\n\nCREATE TABLE alembic_version (\n version_num VARCHAR(32) NOT NULL\n);\n\n-- Running upgrade  -> a\n\nCREATE TABLE users (id SERIAL NOT NULL);\n\nINSERT INTO alembic_version (version_num) VALUES ('a') RETURNING alembic_version.version_num;\n\nCOMMIT;\n";
        assert_eq!(
            statements(sql),
            "CREATE TABLE users (id SERIAL NOT NULL);\n"
        );
        assert_eq!(
            statements("BEGIN;\nUPDATE alembic_version SET version_num='b';\nCOMMIT;\n"),
            "-- nothing to do\n"
        );
    }

    #[test]
    fn a_statement_that_only_mentions_the_version_table_stays() {
        let kept =
            statements("BEGIN;\nINSERT INTO notes VALUES ('from alembic_version 0.9');\nCOMMIT;\n");
        assert_eq!(
            kept,
            "INSERT INTO notes VALUES ('from alembic_version 0.9');\n"
        );
    }

    #[test]
    fn an_autocommit_block_runs_the_file_outside_a_transaction() {
        let block = statements(
            "BEGIN;\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON t (a);\nBEGIN;\nUPDATE alembic_version SET version_num='c';\nCOMMIT;\n",
        );
        assert_eq!(
            block,
            "-- skein:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n"
        );
        assert!(!statements("BEGIN;\nSELECT 1;\nCOMMIT;\n").contains("no-transaction"));
    }
}
