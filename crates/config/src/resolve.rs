//! Turns one profile's settings into the databases skein works on: named databases plus
//! one per model folder, with paths resolved against the config file's folder.

use crate::duration::parse_duration;
use crate::error::ConfigError;
use crate::settings::Settings;
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
    /// `None` when no layer set one; using the database is then an error.
    #[serde(skip)]
    pub url: Option<String>,
    pub migrations: PathBuf,
    pub depends_on: Vec<String>,
    pub groups: Vec<String>,
    pub history_table: String,
    pub is_model: bool,
}

impl ResolvedDatabase {
    /// The URL, or an error that says where to set it.
    pub fn require_url(&self) -> Result<&str, ConfigError> {
        self.url.as_deref().ok_or_else(|| ConfigError::Database {
            database: self.name.clone(),
            problem: if self.is_model {
                "no url: set `url` (with `{model}`) under [<profile>.models]".to_owned()
            } else {
                format!(
                    "no url: set `url` under [<profile>.databases.{0}] or SKEIN_DATABASES__{1}__URL",
                    self.name,
                    self.name.to_uppercase()
                )
            },
        })
    }
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
    /// In dependency order: every database comes after those it depends on.
    pub databases: Vec<ResolvedDatabase>,
    figment: Figment,
}

pub(crate) fn resolve(
    settings: Settings,
    figment: Figment,
    config_path: PathBuf,
    root: PathBuf,
    profile: String,
) -> Result<Workspace, ConfigError> {
    let lock_timeout = parse_duration(&settings.lock_timeout)
        .map_err(|e| ConfigError::Invalid(format!("lock_timeout: {e}")))?;
    let mut databases = Vec::new();
    for (name, db) in &settings.databases {
        check_name(name)?;
        let mut groups = vec![INFRA_GROUP.to_owned()];
        groups.extend(db.groups.iter().cloned());
        databases.push(ResolvedDatabase {
            name: name.clone(),
            url: db.url.as_deref().map(|url| absolutize_sqlite(url, &root)),
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
        });
    }
    if let Some(models) = &settings.models {
        let dir = root.join(&models.dir);
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
                url: models
                    .url
                    .as_deref()
                    .map(|url| absolutize_sqlite(&url.replace("{model}", &model), &root)),
                migrations: dir.join(&model),
                depends_on: models.depends_on.clone(),
                groups,
                history_table: settings.history_table.clone(),
                is_model: true,
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
        databases,
        figment,
    })
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
fn absolutize_sqlite(url: &str, root: &Path) -> String {
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
                let known: Vec<String> = self.databases.iter().map(|d| d.name.clone()).collect();
                ConfigError::UnknownDatabase {
                    name: name.to_owned(),
                    suggestion: closest(name, &known),
                    known,
                }
            })
    }

    /// Where a setting's value came from: `skein.toml [pg]`, `SKEIN_... environment`, or `default`.
    pub fn source_of(&self, key: &str) -> String {
        let Ok(value) = self.figment.find_value(key) else {
            return "default".to_owned();
        };
        let tag = value.tag();
        let Some(metadata) = self.figment.get_metadata(tag) else {
            return "default".to_owned();
        };
        match &metadata.source {
            Some(figment::Source::File(path)) => {
                let file = path
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                // figment tags know default and global; any other profile is the selected one.
                match tag.profile() {
                    Some(profile) => format!("{file} [{profile}]"),
                    None => format!("{file} [{}]", self.profile),
                }
            }
            _ => format!(
                "env SKEIN_{}",
                key.split('.')
                    .map(str::to_uppercase)
                    .collect::<Vec<_>>()
                    .join("__")
            ),
        }
    }
}

/// The known name closest to `name`, if it is close enough to be a typo.
fn closest(name: &str, known: &[String]) -> Option<String> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.clone())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
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
    fn suggestions_for_typos() {
        let known = vec!["infra".to_owned(), "blub_test".to_owned()];
        assert_eq!(closest("infr", &known).as_deref(), Some("infra"));
        assert_eq!(closest("blub_tset", &known).as_deref(), Some("blub_test"));
        assert_eq!(closest("zzzzzz", &known), None);
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
