//! Finds `skein.toml` and layers it with figment: built-in defaults < `[default]` <
//! the selected profile < `SKEIN_...` environment variables (`__` between levels).
//! Command-line flags are applied last, by the caller.

use crate::error::ConfigError;
use crate::reference::expand_local;
use crate::resolve::{Workspace, resolve};
use crate::settings::Settings;
use crate::spans::{Origins, SourceFile};
use crate::validate::{UnknownVariable, check_keys};
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use std::path::{Path, PathBuf};

/// The config file's name, looked for in the current folder and its parents.
pub const FILE_NAME: &str = "skein.toml";

/// Environment variables under `SKEIN_` that are not settings.
const NOT_SETTINGS: &[&str] = &["profile", "config", "format", "log", "shards"];

/// Where to load from.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--config PATH`; must exist when given.
    pub config: Option<PathBuf>,
    /// `--profile` / `SKEIN_PROFILE`; `default` when unset.
    pub profile: Option<String>,
    /// Where to start looking for `skein.toml`.
    pub cwd: PathBuf,
    /// `--url`: with no `skein.toml`, the one database's URL (DATABASE_URL otherwise).
    pub url: Option<String>,
    /// `--migrations`: with no `skein.toml`, the one database's folder (`migrations`
    /// otherwise).
    pub migrations: Option<PathBuf>,
}

/// The variable that gives the one database's URL when there is no `skein.toml`, as
/// sqlx-cli and dbmate read it.
pub const DATABASE_URL: &str = "DATABASE_URL";

/// Loads and resolves the configuration.
pub fn load(options: &LoadOptions) -> Result<Workspace, ConfigError> {
    let mut warnings = Vec::new();
    let found = match &options.config {
        Some(path) if path.is_file() => Some(path.clone()),
        Some(path) => return Err(ConfigError::Missing { path: path.clone() }),
        None => find(&options.cwd),
    };
    let (path, text, source) = match found {
        Some(path) if options.url.is_some() || options.migrations.is_some() => {
            return Err(ConfigError::SingleWithConfig { path });
        }
        Some(path) => {
            let path = std::path::absolute(&path).unwrap_or(path);
            // Read once: what is checked, parsed and pointed at is one version of the file
            // (`model new` may replace it meanwhile).
            let text = std::fs::read_to_string(&path).map_err(|source| {
                crate::user_file::UserFileError {
                    action: "read",
                    path: path.clone(),
                    source,
                }
            })?;
            check_syntax(&path, &text)?;
            unused_database_url(&path, &text, &mut warnings);
            let source = ConfigFile::new(&path, &text);
            (path, Some(text), source)
        }
        None => {
            let (path, text) = single(options)?;
            let source = ConfigFile::without_file(&text);
            (path, Some(text), source)
        }
    };
    let profile = profile_name(options);
    let file = Figment::new().merge(source);
    // What the file alone says of `protected`: the environment may add protection, never
    // take it away (a stray `.env` must not make a production profile droppable).
    let file_protected = file
        .clone()
        .select(profile.as_str())
        .extract_inner::<bool>("protected")
        .unwrap_or(false);
    let layered = |ignored: &[UnknownVariable]| file.clone().merge(environment(ignored));
    let figment = layered(&[]);
    let known: Vec<String> = figment
        .profiles()
        .map(|p| p.as_str().as_str().to_owned())
        .filter(|p| p != "global")
        .collect();
    if profile != "default" && !known.contains(&profile) {
        return Err(ConfigError::UnknownProfile {
            profile,
            path,
            known,
        });
    }
    let origins_of = |figment: Figment| {
        Origins::new(
            figment.select(profile.as_str()),
            SourceFile::from_text(&path, text.clone()),
            profile.clone(),
        )
    };
    let mut origins = origins_of(figment);
    let ignored = check_keys(&origins)?;
    if !ignored.is_empty() {
        // Layered again without those variables, and checked again: what is left is the
        // file's (and known variables'), whose unknown keys are errors.
        origins = origins_of(layered(&ignored));
        check_keys(&origins)?;
    }
    let mut settings: Settings = origins
        .figment()
        .extract()
        .map_err(|err| invalid_value(err, &origins))?;
    if origins.file().sets_nothing()
        && settings.databases.is_empty()
        && settings.model_sets().is_empty()
    {
        return Err(ConfigError::Empty { path });
    }
    let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
    expand_references(&mut settings, &root).map_err(|(key, problem)| ConfigError::Setting {
        place: origins.describe(&key),
        key,
        problem,
    })?;
    if file_protected && !settings.protected {
        warnings.push(format!(
            "{} makes profile `{}` protected; {} cannot lift that and is ignored (edit the file to unprotect it)",
            path.display(),
            origins.profile(),
            crate::spans::env_name("protected")
        ));
        settings.protected = true;
    }
    let mut workspace = resolve(settings, origins)?;
    workspace.warnings = warnings;
    workspace.ignored_variables = ignored;
    Ok(workspace)
}

fn profile_name(options: &LoadOptions) -> String {
    options
        .profile
        .clone()
        .unwrap_or_else(|| "default".to_owned())
}

/// DATABASE_URL set (by the environment or a `.env`) while the config file, which decides
/// the databases, does not refer to it: said once, since the two may differ.
fn unused_database_url(path: &Path, text: &str, warnings: &mut Vec<String>) {
    let set = std::env::var(DATABASE_URL).is_ok_and(|url| !url.trim().is_empty());
    if set && !text.contains("env:DATABASE_URL") {
        warnings.push(format!(
            "DATABASE_URL is set but {} does not refer to it: the databases are those {0} configures (`skein config show` lists them); use `${{env:DATABASE_URL}}` there, or run where no skein.toml is found, to use it",
            path.display()
        ));
    }
}

/// A TOML syntax error, with its line and column, before figment (whose message has
/// neither) reads the file.
fn check_syntax(path: &Path, text: &str) -> Result<(), ConfigError> {
    let Err(err) = text.parse::<toml_edit::DocumentMut>() else {
        return Ok(());
    };
    let offset = err.span().map_or(0, |span| span.start).min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Err(ConfigError::Syntax {
        path: path.to_owned(),
        line,
        column,
        message: err.message().to_owned(),
    })
}

/// The config file's text as a figment provider, named as the file it was read from (so
/// that [`Origins`] can point at its lines).
#[derive(Clone)]
struct ConfigFile {
    text: String,
    path: Option<PathBuf>,
}

impl ConfigFile {
    fn new(path: &Path, text: &str) -> Self {
        ConfigFile {
            text: text.to_owned(),
            path: Some(path.to_owned()),
        }
    }

    /// The configuration made from DATABASE_URL or --url, which no file holds.
    fn without_file(text: &str) -> Self {
        ConfigFile {
            text: text.to_owned(),
            path: None,
        }
    }
}

impl figment::Provider for ConfigFile {
    fn metadata(&self) -> figment::Metadata {
        match &self.path {
            Some(path) => figment::Metadata::from("TOML file", path.as_path()),
            None => Toml::string(&self.text).metadata(),
        }
    }

    fn data(
        &self,
    ) -> Result<figment::value::Map<figment::Profile, figment::value::Dict>, figment::Error> {
        Toml::string(&self.text).nested().data()
    }
}

/// The `SKEIN_...` variables that are settings, less those found to set no known key.
fn environment(ignored: &[UnknownVariable]) -> Env {
    let ignored: Vec<String> = ignored.iter().map(|v| v.key.to_ascii_lowercase()).collect();
    Env::prefixed("SKEIN_")
        .split("__")
        .filter(move |key| {
            let key = key.as_str().to_ascii_lowercase();
            let under = |prefix: &String| {
                key == *prefix
                    || key
                        .strip_prefix(prefix.as_str())
                        .is_some_and(|r| r.starts_with('.'))
            };
            !NOT_SETTINGS.contains(&key.as_str())
                && !key.starts_with("test_")
                && !ignored.iter().any(under)
        })
        .global()
}

/// The nearest `skein.toml` at or above `start`.
pub fn find(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
}

/// With no `skein.toml`: the configuration of the one database that `--url` (or
/// DATABASE_URL) and `--migrations` (or `./migrations`) give, as if `skein.toml` in the
/// current folder said so.
fn single(options: &LoadOptions) -> Result<(PathBuf, String), ConfigError> {
    let not_found = || ConfigError::NotFound {
        start: options.cwd.clone(),
    };
    let url = match &options.url {
        Some(url) => url.clone(),
        None => std::env::var(DATABASE_URL)
            .ok()
            .filter(|url| !url.trim().is_empty())
            .ok_or_else(not_found)?,
    };
    let migrations = options
        .migrations
        .clone()
        .unwrap_or_else(|| PathBuf::from("migrations"));
    let mut document = toml_edit::DocumentMut::new();
    let mut database = toml_edit::Table::new();
    database["url"] = toml_edit::value(url.as_str());
    database["migrations"] = toml_edit::value(migrations.display().to_string());
    let mut databases = toml_edit::Table::new();
    databases.insert(&single_name(&url), toml_edit::Item::Table(database));
    let mut default = toml_edit::Table::new();
    default.insert("databases", toml_edit::Item::Table(databases));
    document.insert("default", toml_edit::Item::Table(default));
    let path = std::path::absolute(options.cwd.join(FILE_NAME)).unwrap_or_default();
    Ok((path, document.to_string()))
}

/// The name of the one database of a URL: the database it names (a SQLite file's stem),
/// when that is a plain name, or `default`.
///
/// ```
/// use skein_config::load::single_name;
/// assert_eq!(single_name("postgres://u:p@db.internal:5432/app?sslmode=require"), "app");
/// assert_eq!(single_name("sqlite://app.db"), "app");
/// assert_eq!(single_name("sqlite://data/orders.sqlite3"), "orders");
/// assert_eq!(single_name("postgres://u@db.internal"), "default");
/// assert_eq!(single_name("postgres://localhost"), "default");
/// assert_eq!(single_name("postgres://h/My-App"), "my_app");
/// assert_eq!(single_name("postgres://h/2024"), "default");
/// ```
pub fn single_name(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or_default();
    let (scheme, after_scheme) = without_query
        .split_once("://")
        .unwrap_or(("", without_query));
    // A server URL names its database after the host's `/`; a SQLite URL is a path.
    let path = match skein_schemes::Kind::of_scheme(scheme) {
        Some(kind) if kind.is_file() => Some(after_scheme),
        _ => after_scheme.split_once('/').map(|(_, path)| path),
    };
    let last = path
        .and_then(|p| p.rsplit('/').next())
        .unwrap_or_default()
        .trim_end_matches(".sqlite3")
        .trim_end_matches(".sqlite")
        .trim_end_matches(".db");
    // As a configured name must be: lower case, `_` for `-`.
    let name = last.to_ascii_lowercase().replace('-', "_");
    match crate::resolve::check_name(&name) {
        Ok(()) => name,
        Err(_) => "default".to_owned(),
    }
}

/// A value of the wrong type or form, with its key and where it was set.
fn invalid_value(err: figment::Error, origins: &Origins) -> ConfigError {
    let messages: Vec<String> = err
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            if key.is_empty() {
                e.kind.to_string()
            } else {
                format!("`{key}` ({}): {}", origins.describe(&key), e.kind)
            }
        })
        .collect();
    ConfigError::Settings(messages)
}

/// Expands `${env:...}` / `${file:...}` in every setting that is not a connection;
/// connections are resolved later, with the secret managers, for the selected databases.
fn expand_references(settings: &mut Settings, root: &Path) -> Result<(), (String, String)> {
    let expand = |key: String, value: &mut String| -> Result<(), (String, String)> {
        *value = expand_local(value, root).map_err(|problem| (key, problem))?;
        Ok(())
    };
    expand("history_table".to_owned(), &mut settings.history_table)?;
    expand("lock_timeout".to_owned(), &mut settings.lock_timeout)?;
    expand("secrets.timeout".to_owned(), &mut settings.secrets.timeout)?;
    if let Some(endpoint) = &mut settings.secrets.gcp_endpoint {
        expand("secrets.gcp_endpoint".to_owned(), endpoint)?;
    }
    if let Some(region) = &mut settings.secrets.aws_region {
        expand("secrets.aws_region".to_owned(), region)?;
    }
    for (name, db) in &mut settings.databases {
        if let Some(migrations) = &mut db.migrations {
            expand(format!("databases.{name}.migrations"), migrations)?;
        }
        if let Some(table) = &mut db.history_table {
            expand(format!("databases.{name}.history_table"), table)?;
        }
    }
    for (key, set) in settings.model_sets_mut() {
        if let Some(dir) = &mut set.dir {
            expand(format!("{key}.dir"), dir)?;
        }
        if let Some(template) = &mut set.template {
            expand(format!("{key}.template"), template)?;
        }
        if let Some(table) = &mut set.history_table {
            expand(format!("{key}.history_table"), table)?;
        }
        if let Some(names_from) = &mut set.names_from {
            expand_sql(
                format!("{key}.names_from.query"),
                &mut names_from.query,
                root,
            )?;
        }
        for (model, vars) in &mut set.vars {
            for (name, value) in vars.iter_mut() {
                expand_json(&format!("{key}.vars.{model}.{name}"), value, root)?;
            }
        }
        expand_init_sql(&format!("{key}.init_sql"), &mut set.session, root)?;
    }
    expand_count("concurrency", &mut settings.concurrency, root)?;
    if let Some(limit) = &mut settings.max_per_host {
        expand_count("max_per_host", limit, root)?;
    }
    expand_init_sql("init_sql", &mut settings.session, root)?;
    for (name, db) in &mut settings.databases {
        expand_init_sql(&format!("databases.{name}.init_sql"), &mut db.session, root)?;
        for (var, value) in db.vars.iter_mut() {
            expand_json(&format!("databases.{name}.vars.{var}"), value, root)?;
        }
    }
    Ok(())
}

/// Expands the references of a count given as text, then reads the number.
fn expand_count(
    key: &str,
    count: &mut crate::settings::Count,
    root: &Path,
) -> Result<(), (String, String)> {
    if let crate::settings::Count::Text(text) = count {
        *text = expand_local(text, root).map_err(|problem| (key.to_owned(), problem))?;
    }
    count.parse().map_err(|problem| (key.to_owned(), problem))
}

/// Expands references in SQL settings, which keep every other `$` as SQL means it.
fn expand_sql(key: String, sql: &mut String, root: &Path) -> Result<(), (String, String)> {
    *sql = crate::reference::expand_local_in_sql(sql, root).map_err(|problem| (key, problem))?;
    Ok(())
}

fn expand_init_sql(
    key: &str,
    session: &mut crate::settings::SessionSettings,
    root: &Path,
) -> Result<(), (String, String)> {
    for statement in session.init_sql.iter_mut().flatten() {
        expand_sql(key.to_owned(), statement, root)?;
    }
    Ok(())
}

/// Expands references in the strings of a template variable (a list's or table's too).
fn expand_json(
    key: &str,
    value: &mut serde_json::Value,
    root: &Path,
) -> Result<(), (String, String)> {
    match value {
        serde_json::Value::String(text) => {
            *text = expand_local(text, root).map_err(|problem| (key.to_owned(), problem))?;
        }
        serde_json::Value::Array(items) => {
            for item in items {
                expand_json(key, item, root)?;
            }
        }
        serde_json::Value::Object(fields) => {
            for item in fields.values_mut() {
                expand_json(key, item, root)?;
            }
        }
        _ => {}
    }
    Ok(())
}
