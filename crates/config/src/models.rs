//! The sets of databases of one kind: how each member database is made from
//! `[<profile>.models]` (the set `models`) or `[<profile>.sets.<name>]`, and where the
//! names of the members come from (folders, the `names` list, a `names_from` query).

use crate::connection::ModelVars;
use crate::error::ConfigError;
use crate::resolve::{ResolvedDatabase, check_name};
use crate::settings::{ModelSettings, NamesFrom};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where a model's name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListedBy {
    /// A folder under the models' `dir`.
    Folder,
    /// The `names` list.
    Names,
    /// A row of the `names_from` query.
    NamesFrom,
}

impl ListedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ListedBy::Folder => "folder",
            ListedBy::Names => "names",
            ListedBy::NamesFrom => "names_from",
        }
    }
}

/// A model found by the `names_from` query: its name and the row's other columns.
#[derive(Debug, Clone)]
pub struct FoundModel {
    pub name: String,
    pub vars: ModelVars,
}

/// Everything needed to make a member database of one set, resolved once.
#[derive(Debug, Clone)]
pub struct ModelSet {
    /// The set's name, which is also the group of its databases (`models`, `miner`).
    pub name: String,
    /// The dotted key of its table (`models`, `sets.miner`), for messages.
    pub key: String,
    pub settings: ModelSettings,
    /// The folder of the models' own folders.
    pub dir: PathBuf,
    pub template: Option<PathBuf>,
    pub history_table: String,
    pub init_sql: Vec<String>,
    pub sqlite_foreign_keys: bool,
    pub step_timeout: Option<Duration>,
}

impl ModelSet {
    /// The models named by folders and by the `names` list, with where each came from.
    pub fn static_names(&self) -> Result<BTreeMap<String, Vec<ListedBy>>, ConfigError> {
        let mut names: BTreeMap<String, Vec<ListedBy>> = BTreeMap::new();
        for name in folder_names(&self.dir)? {
            names.entry(name).or_default().push(ListedBy::Folder);
        }
        for name in self.settings.names.iter().flatten() {
            check_name(name).map_err(|_| ConfigError::Set {
                key: format!("{}.names", self.key),
                problem: format!(
                    "`{name}` cannot be a database name: lower-case letters, digits and `_`, starting with a letter or `_`, at most 63 characters"
                ),
            })?;
            let listed = names.entry(name.clone()).or_default();
            if !listed.contains(&ListedBy::Names) {
                listed.push(ListedBy::Names);
            }
        }
        Ok(names)
    }

    pub fn names_from(&self) -> Option<&NamesFrom> {
        self.settings.names_from.as_ref()
    }

    /// The variables of `model`: its `[models.vars.<model>]` table over `found` (the
    /// `names_from` row's columns).
    pub fn vars(&self, model: &str, found: &ModelVars) -> ModelVars {
        let mut vars = found.clone();
        if let Some(own) = self.settings.vars.get(model) {
            vars.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        vars
    }

    /// The database of model `name`.
    pub fn database(
        &self,
        name: &str,
        listed_by: Vec<ListedBy>,
        vars: ModelVars,
    ) -> Result<ResolvedDatabase, ConfigError> {
        let connection = self
            .settings
            .connection
            .template(Some((name, &vars)))
            .map_err(|problem| ConfigError::Database {
                database: name.to_owned(),
                problem,
            })?;
        let mut groups = vec![self.name.clone()];
        groups.extend(
            self.settings
                .groups
                .iter()
                .filter(|g| **g != self.name)
                .cloned(),
        );
        Ok(ResolvedDatabase {
            name: name.to_owned(),
            connection,
            migrations: self.dir.join(name),
            template: self.template.clone(),
            vars,
            listed_by,
            depends_on: self.settings.depends_on.clone(),
            groups,
            history_table: self.history_table.clone(),
            is_model: true,
            set: Some(self.name.clone()),
            expect: self.settings.expect.clone(),
            ignore_tables: self.settings.ignore_tables.clone(),
            init_sql: self.init_sql.clone(),
            sqlite_foreign_keys: self.sqlite_foreign_keys,
            step_timeout: self.step_timeout,
        })
    }

    /// Checks what can be checked before any database is reached: the variable names,
    /// and that `names_from` names a configured database that is not a model.
    pub fn check(&self, databases: &[ResolvedDatabase]) -> Result<(), ConfigError> {
        for (model, vars) in &self.settings.vars {
            for name in vars.keys() {
                check_var_name(name).map_err(|problem| ConfigError::Set {
                    key: format!("{}.vars.{model}.{name}", self.key),
                    problem,
                })?;
            }
        }
        if let Some(from) = self.names_from() {
            if !databases.iter().any(|d| d.name == from.db && !d.is_model) {
                let known: Vec<&str> = databases
                    .iter()
                    .filter(|d| !d.is_model)
                    .map(|d| d.name.as_str())
                    .collect();
                return Err(ConfigError::Set {
                    key: format!("{}.names_from.db", self.key),
                    problem: format!(
                        "`{}` is not a configured database (known: {}); the query runs against one of [databases]",
                        from.db,
                        known.join(", ")
                    ),
                });
            }
            if from.query.trim().is_empty() {
                return Err(ConfigError::Set {
                    key: format!("{}.names_from.query", self.key),
                    problem:
                        "it is empty; give the SELECT whose first column is the database's name"
                            .to_owned(),
                });
            }
        }
        Ok(())
    }
}

/// A template variable is a plain identifier, and not `model` (that is the model's name).
pub fn check_var_name(name: &str) -> Result<(), String> {
    let plain = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !plain {
        return Err(format!(
            "`{name}` cannot be a template variable: letters, digits and `_`, not starting with a digit"
        ));
    }
    if name == "model" {
        return Err("`model` is the model's own name; call the variable something else".to_owned());
    }
    Ok(())
}

/// The model folders under `dir` (none when it does not exist).
fn folder_names(dir: &Path) -> Result<Vec<String>, ConfigError> {
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
