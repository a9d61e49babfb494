//! Turns one profile's settings into the databases skein works on: named databases plus
//! one per model folder, with paths resolved against the config file's folder.

use crate::connection::{ConnectionSettings, ConnectionTemplate};
use crate::duration::parse_duration;
use crate::error::ConfigError;
use crate::secret::SecretOptions;
use crate::settings::{ExpectRules, SessionSettings, Settings};
use crate::spans::{SourceFile, describe_source};
use crate::validate::closest;
use figment::Figment;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The group every database of `[databases]` belongs to.
pub const INFRA_GROUP: &str = "infra";
/// The group every model database belongs to.
pub const MODELS_GROUP: &str = "models";

/// A database, ready to connect to.
#[derive(Debug, Clone, Serialize)]
pub struct ResolvedDatabase {
    pub name: String,
    /// How to connect, references unresolved; `None` when no layer set one.
    #[serde(skip)]
    pub connection: Option<ConnectionTemplate>,
    pub migrations: PathBuf,
    pub depends_on: Vec<String>,
    pub groups: Vec<String>,
    pub history_table: String,
    pub is_model: bool,
    /// The `expect` rules for `skein check`.
    pub expect: Option<ExpectRules>,
    /// Statements run first on every connection to it.
    pub init_sql: Vec<String>,
    /// SQLite: foreign keys enforced while migrating.
    pub sqlite_foreign_keys: bool,
    /// The longest one migration step may run.
    pub step_timeout: Option<Duration>,
}

/// Which databases a command works on.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub databases: Vec<String>,
    pub groups: Vec<String>,
}

/// The loaded configuration.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub config_path: PathBuf,
    /// The config file's folder; relative paths are resolved against it.
    pub root: PathBuf,
    pub profile: String,
    pub settings: Settings,
    pub lock_timeout: Duration,
    pub secret_options: SecretOptions,
    /// In dependency order: every database comes after those it depends on.
    pub databases: Vec<ResolvedDatabase>,
    figment: Figment,
    file: SourceFile,
}

pub(crate) fn resolve(
    settings: Settings,
    figment: Figment,
    file: SourceFile,
    profile: String,
) -> Result<Workspace, ConfigError> {
    let config_path = file.path.clone();
    let root = config_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let duration = |key: &str, text: &str| {
        parse_duration(text).map_err(|e| {
            ConfigError::Invalid(format!(
                "{key} ({}): {e}",
                describe_source(&figment, &file, &profile, key)
            ))
        })
    };
    let lock_timeout = duration("lock_timeout", &settings.lock_timeout)?;
    let secret_options = SecretOptions {
        gcp_endpoint: settings.secrets.gcp_endpoint.clone(),
        aws_region: settings.secrets.aws_region.clone(),
        timeout: duration("secrets.timeout", &settings.secrets.timeout)?,
    };
    let template = |name: &str, connection: &ConnectionSettings, model: Option<&str>| {
        connection
            .template(model)
            .map_err(|problem| ConfigError::Database {
                database: name.to_owned(),
                problem,
            })
    };
    let session = |key: &str, session: &SessionSettings| -> Result<ResolvedSession, ConfigError> {
        let session = session.or(&settings.session);
        Ok(ResolvedSession {
            init_sql: session.init_sql.unwrap_or_default(),
            sqlite_foreign_keys: session.sqlite_foreign_keys.unwrap_or(false),
            step_timeout: session
                .step_timeout
                .map(|text| duration(&format!("{key}step_timeout"), &text))
                .transpose()?,
        })
    };
    let mut databases = Vec::new();
    for (name, db) in &settings.databases {
        check_name(name)?;
        let session = session(&format!("databases.{name}."), &db.session)?;
        let mut groups = vec![INFRA_GROUP.to_owned()];
        groups.extend(db.groups.iter().cloned());
        databases.push(ResolvedDatabase {
            name: name.clone(),
            connection: template(name, &db.connection, None)?,
            migrations: root.join(
                db.migrations
                    .clone()
                    .unwrap_or_else(|| format!("database/{name}")),
            ),
            depends_on: db.depends_on.clone(),
            groups,
            history_table: db
                .history_table
                .clone()
                .unwrap_or_else(|| settings.history_table.clone()),
            is_model: false,
            expect: db.expect.clone(),
            init_sql: session.init_sql,
            sqlite_foreign_keys: session.sqlite_foreign_keys,
            step_timeout: session.step_timeout,
        });
    }
    if let Some(models) = &settings.models {
        let dir = root.join(&models.dir);
        let session = session("models.", &models.session)?;
        for model in model_names(&dir)? {
            if settings.databases.contains_key(&model) {
                return Err(ConfigError::Database {
                    database: model.clone(),
                    problem: format!(
                        "is both a [databases] entry and a model folder in {}; rename one",
                        dir.display()
                    ),
                });
            }
            let mut groups = vec![MODELS_GROUP.to_owned()];
            groups.extend(models.groups.iter().cloned());
            databases.push(ResolvedDatabase {
                connection: template(&model, &models.connection, Some(&model))?,
                migrations: dir.join(&model),
                depends_on: models.depends_on.clone(),
                groups,
                history_table: settings.history_table.clone(),
                is_model: true,
                expect: models.expect.clone(),
                init_sql: session.init_sql.clone(),
                sqlite_foreign_keys: session.sqlite_foreign_keys,
                step_timeout: session.step_timeout,
                name: model,
            });
        }
    }
    let databases = dependency_order(databases)?;
    Ok(Workspace {
        config_path,
        root,
        profile,
        settings,
        lock_timeout,
        secret_options,
        databases,
        figment,
        file,
    })
}

/// A database's session settings, with the wider ones filled in.
struct ResolvedSession {
    init_sql: Vec<String>,
    sqlite_foreign_keys: bool,
    step_timeout: Option<Duration>,
}

/// Database names become file names, URLs and identifiers: keep them plain.
pub fn check_name(name: &str) -> Result<(), ConfigError> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(ConfigError::Database {
            database: name.to_owned(),
            problem: "a database name is lower-case letters, digits and `_`, starting with a letter or `_`, at most 63 characters".to_owned(),
        })
    }
}

fn model_names(dir: &Path) -> Result<Vec<String>, ConfigError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(ConfigError::ModelsDir {
                dir: dir.to_owned(),
                source,
            });
        }
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| ConfigError::ModelsDir {
            dir: dir.to_owned(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !entry.path().is_dir() {
            continue;
        }
        check_name(&name)?;
        names.push(name);
    }
    names.sort();
    Ok(names)
}

/// Orders databases so each comes after its dependencies; unknown or circular
/// dependencies are errors.
fn dependency_order(
    databases: Vec<ResolvedDatabase>,
) -> Result<Vec<ResolvedDatabase>, ConfigError> {
    let names: BTreeSet<String> = databases.iter().map(|d| d.name.clone()).collect();
    for db in &databases {
        if let Some(missing) = db.depends_on.iter().find(|d| !names.contains(*d)) {
            return Err(ConfigError::Database {
                database: db.name.clone(),
                problem: format!(
                    "depends_on names `{missing}`, which is not a configured database"
                ),
            });
        }
    }
    let mut remaining: BTreeMap<String, ResolvedDatabase> =
        databases.into_iter().map(|d| (d.name.clone(), d)).collect();
    let mut ordered: Vec<ResolvedDatabase> = Vec::new();
    while !remaining.is_empty() {
        let ready: Vec<String> = remaining
            .values()
            .filter(|d| {
                d.depends_on
                    .iter()
                    .all(|dep| ordered.iter().any(|o| &o.name == dep))
            })
            .map(|d| d.name.clone())
            .collect();
        if ready.is_empty() {
            let cycle: Vec<String> = remaining.keys().cloned().collect();
            return Err(ConfigError::Invalid(format!(
                "depends_on forms a cycle among: {}",
                cycle.join(", ")
            )));
        }
        for name in ready {
            ordered.extend(remaining.remove(&name));
        }
    }
    Ok(ordered)
}

/// Makes a relative SQLite path relative to the config file's folder, not to wherever
/// skein happens to be run from.
pub(crate) fn absolutize_sqlite(url: &str, root: &Path) -> String {
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return url.to_owned();
    };
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    if path.is_empty() || path.starts_with(':') || Path::new(path).is_absolute() {
        return url.to_owned();
    }
    let absolute = root.join(path);
    let mut out = format!("sqlite://{}", absolute.display());
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

impl Workspace {
    /// The databases a selection names, in dependency order.
    pub fn select(&self, selection: &Selection) -> Result<Vec<&ResolvedDatabase>, ConfigError> {
        for name in &selection.databases {
            self.database(name)?;
        }
        let known_groups: BTreeSet<&str> = self
            .databases
            .iter()
            .flat_map(|d| d.groups.iter().map(String::as_str))
            .collect();
        for group in &selection.groups {
            if !known_groups.contains(group.as_str()) {
                return Err(ConfigError::UnknownGroup {
                    name: group.clone(),
                    known: known_groups.iter().map(|g| g.to_string()).collect(),
                });
            }
        }
        let everything = selection.databases.is_empty() && selection.groups.is_empty();
        Ok(self
            .databases
            .iter()
            .filter(|d| {
                everything
                    || selection.databases.contains(&d.name)
                    || d.groups.iter().any(|g| selection.groups.contains(g))
            })
            .collect())
    }

    /// One database by name, or an error listing the names (with a suggestion).
    pub fn database(&self, name: &str) -> Result<&ResolvedDatabase, ConfigError> {
        self.databases
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = self.databases.iter().map(|d| d.name.as_str()).collect();
                ConfigError::UnknownDatabase {
                    name: name.to_owned(),
                    suggestion: closest(name, &names).map(str::to_owned),
                    known: names.iter().map(|n| n.to_string()).collect(),
                }
            })
    }

    /// Where a setting's value came from: `skein.toml:12 [pg]`, `env SKEIN_...`, or `default`.
    pub fn source_of(&self, key: &str) -> String {
        describe_source(&self.figment, &self.file, &self.profile, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_sqlite_paths_follow_the_config_file() {
        let root = Path::new("/work/app");
        assert_eq!(
            absolutize_sqlite("sqlite://.skein/a.db", root),
            "sqlite:///work/app/.skein/a.db"
        );
        assert_eq!(
            absolutize_sqlite("sqlite:a.db?mode=rwc", root),
            "sqlite:///work/app/a.db?mode=rwc"
        );
        assert_eq!(
            absolutize_sqlite("sqlite:///abs/a.db", root),
            "sqlite:///abs/a.db"
        );
        assert_eq!(
            absolutize_sqlite("sqlite::memory:", root),
            "sqlite::memory:"
        );
        assert_eq!(
            absolutize_sqlite("postgres://h/db", root),
            "postgres://h/db"
        );
    }

    #[test]
    fn names() {
        for good in ["infra", "blub_test", "_x1"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Bad-Name", "x; DROP DATABASE y", "1abc", "UPPER"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
