//! Turns one profile's settings into the databases skein works on: named databases plus
//! one per model folder, with paths resolved against the config file's folder.

use crate::connection::{ConnectionSettings, ConnectionTemplate, ModelVars};
use crate::duration::parse_duration;
use crate::error::ConfigError;
use crate::models::{FoundModel, ListedBy, ModelSet};
use crate::secret::SecretOptions;
use crate::settings::{ExpectRules, SessionSettings, Settings};
use crate::spans::Origins;
use crate::validate::closest;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The group every database of `[databases]` belongs to.
pub const INFRA_GROUP: &str = "infra";
/// The model template when `template` is not set (and that folder exists).
pub const DEFAULT_TEMPLATE: &str = "templates/model";
/// The group every model database belongs to (the set `[models]` makes).
pub const MODELS_GROUP: &str = crate::settings::MODELS_SET;

/// A database, ready to connect to.
#[derive(Debug, Clone, Serialize)]
pub struct ResolvedDatabase {
    pub name: String,
    /// How to connect, references unresolved; `None` when no layer set one.
    #[serde(skip)]
    pub connection: Option<ConnectionTemplate>,
    /// The migration folder; a model's own folder, which need not exist when the model
    /// has a template.
    pub migrations: PathBuf,
    /// A model's template folder: its migrations are the template's, rendered for it,
    /// merged with its own folder's.
    pub template: Option<PathBuf>,
    /// A model's template variables.
    #[serde(skip_serializing_if = "ModelVars::is_empty")]
    pub vars: ModelVars,
    /// Where a model's name came from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub listed_by: Vec<ListedBy>,
    pub depends_on: Vec<String>,
    pub groups: Vec<String>,
    pub history_table: String,
    /// A member of a set (`[models]` or `[sets.<name>]`), not a `[databases]` entry.
    pub is_model: bool,
    /// The set it is a member of (`models`, `miner`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set: Option<String>,
    /// The `expect` rules for `skein check`.
    pub expect: Option<ExpectRules>,
    /// Tables inspect, drift, check and converge leave out.
    pub ignore_tables: Vec<String>,
    /// Statements run first on every connection to it.
    pub init_sql: Vec<String>,
    /// SQLite: foreign keys enforced while migrating.
    pub sqlite_foreign_keys: bool,
    /// The longest one migration step may run.
    pub step_timeout: Option<Duration>,
}

impl ResolvedDatabase {
    /// The dotted key of this database's `setting` in the selected profile:
    /// `databases.infra.url`, `models.url` for a model database, `sets.miner.url` for a
    /// member of the set `miner`.
    pub fn setting_key(&self, setting: &str) -> String {
        format!("{}.{setting}", self.table_key())
    }

    /// The dotted key of the table its settings come from (`databases.infra`, `models`,
    /// `sets.miner`).
    pub fn table_key(&self) -> String {
        match self.set.as_deref() {
            Some(MODELS_GROUP) => MODELS_GROUP.to_owned(),
            Some(set) => format!("sets.{set}"),
            None => format!("databases.{}", self.name),
        }
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
    pub secret_options: SecretOptions,
    /// In dependency order: every database comes after those it depends on.
    pub databases: Vec<ResolvedDatabase>,
    /// What the configuration did not take, said once by the caller (an environment
    /// variable that tried to lift `protected`).
    pub warnings: Vec<String>,
    /// Each database's position in `databases`.
    positions: HashMap<String, usize>,
    /// How the members of each set are made: `[models]` first, then `[sets.*]` by name.
    sets: Vec<ModelSet>,
    /// Every secret fetched so far in this run, shared by the copies of the workspace.
    pub(crate) fetched_secrets: std::sync::Arc<std::sync::Mutex<crate::secret::Fetched>>,
    pub(crate) origins: Origins,
    /// `SKEIN_...` variables that set no known setting and were left out; the caller
    /// warns about each once.
    pub ignored_variables: Vec<crate::validate::UnknownVariable>,
}

pub(crate) fn resolve(settings: Settings, origins: Origins) -> Result<Workspace, ConfigError> {
    let config_path = origins.file().path.clone();
    let root = config_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let duration = |key: &str, text: &str| {
        parse_duration(text).map_err(|e| ConfigError::Setting {
            key: key.to_owned(),
            place: origins.describe(key),
            problem: e.to_string(),
        })
    };
    let lock_timeout = duration("lock_timeout", &settings.lock_timeout)?;
    let secret_options = SecretOptions {
        gcp_endpoint: settings.secrets.gcp_endpoint.clone(),
        aws_region: settings.secrets.aws_region.clone(),
        timeout: duration("secrets.timeout", &settings.secrets.timeout)?,
    };
    let template = |name: &str, connection: &ConnectionSettings| {
        connection
            .template(None)
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
            connection: template(name, &db.connection)?,
            migrations: root.join(
                db.migrations
                    .clone()
                    .unwrap_or_else(|| format!("database/{name}")),
            ),
            template: None,
            vars: db.vars.clone(),
            listed_by: Vec::new(),
            depends_on: db.depends_on.clone(),
            groups,
            history_table: db
                .history_table
                .clone()
                .unwrap_or_else(|| settings.history_table.clone()),
            is_model: false,
            set: None,
            expect: db.expect.clone(),
            ignore_tables: db.ignore_tables.clone(),
            init_sql: session.init_sql,
            sqlite_foreign_keys: session.sqlite_foreign_keys,
            step_timeout: session.step_timeout,
        });
    }
    let mut sets: Vec<ModelSet> = Vec::new();
    for entry in settings.model_sets() {
        let set = model_set(&entry, &settings, &root, &session)?;
        set.check(&databases)?;
        for (model, listed_by) in set.static_names()? {
            if let Some(other) = databases.iter().find(|d| d.name == model) {
                return Err(taken(&model, &listed_by, &set, other));
            }
            let vars = set.vars(&model, &ModelVars::new());
            databases.push(set.database(&model, listed_by, vars)?);
        }
        sets.push(set);
    }
    let databases = dependency_order(databases)?;
    let positions = databases
        .iter()
        .enumerate()
        .map(|(i, d)| (d.name.clone(), i))
        .collect();
    Ok(Workspace {
        config_path,
        root,
        profile: origins.profile().to_owned(),
        settings,
        lock_timeout,
        secret_options,
        databases,
        warnings: Vec::new(),
        positions,
        sets,
        fetched_secrets: Default::default(),
        origins,
        ignored_variables: Vec::new(),
    })
}

/// A set's settings resolved: its folders, history table and session settings.
fn model_set(
    entry: &crate::settings::SetEntry<'_>,
    settings: &Settings,
    root: &Path,
    session: &dyn Fn(&str, &SessionSettings) -> Result<ResolvedSession, ConfigError>,
) -> Result<ModelSet, ConfigError> {
    let invalid = |problem: String| ConfigError::Set {
        key: format!("[{}]", entry.key),
        problem,
    };
    let is_models = entry.key == MODELS_GROUP;
    if !is_models {
        check_name(entry.name).map_err(|_| {
            invalid(
                "a set's name is lower-case letters, digits and `_`, starting with a letter or `_`"
                    .to_owned(),
            )
        })?;
        if entry.name == MODELS_GROUP {
            return Err(invalid(
                "the set `models` is the one [models] makes; write its settings there".to_owned(),
            ));
        }
        if entry.name == INFRA_GROUP {
            return Err(invalid(
                "`infra` is the group of the [databases] entries; give the set another name"
                    .to_owned(),
            ));
        }
    }
    let models = entry.settings;
    let resolved = session(&format!("{}.", entry.key), &models.session)?;
    let default_dir = if is_models {
        "database/models".to_owned()
    } else {
        format!("database/{}", entry.name)
    };
    let default_template = if is_models {
        DEFAULT_TEMPLATE.to_owned()
    } else {
        format!("templates/{}", entry.name)
    };
    Ok(ModelSet {
        name: entry.name.to_owned(),
        key: entry.key.clone(),
        settings: models.clone(),
        dir: root.join(models.dir.as_deref().unwrap_or(&default_dir)),
        template: match &models.template {
            Some(template) => Some(root.join(template)),
            None => Some(root.join(default_template)).filter(|t| t.is_dir()),
        },
        history_table: models
            .history_table
            .clone()
            .unwrap_or_else(|| settings.history_table.clone()),
        init_sql: resolved.init_sql,
        sqlite_foreign_keys: resolved.sqlite_foreign_keys,
        step_timeout: resolved.step_timeout,
    })
}

/// A member whose name is also another configured database's (a `[databases]` entry, or
/// a member of another set).
fn taken(
    model: &str,
    listed_by: &[ListedBy],
    set: &ModelSet,
    other: &ResolvedDatabase,
) -> ConfigError {
    let place = if listed_by.contains(&ListedBy::Folder) {
        format!("a folder in {}", set.dir.display())
    } else if listed_by.contains(&ListedBy::Names) {
        format!("a name in {}.names", set.key)
    } else {
        format!("a database listed by {}.names_from", set.key)
    };
    let first = match &other.set {
        Some(_) => format!("a member of [{}]", other.table_key()),
        None => "a [databases] entry".to_owned(),
    };
    ConfigError::Database {
        database: model.to_owned(),
        problem: format!("is both {first} and {place}; rename one"),
    }
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

/// Orders databases so each comes after its dependencies; unknown or circular
/// dependencies are errors. Databases are ordered by depth (those that depend on
/// nothing first, then those that depend only on them, ...), by name within a depth.
fn dependency_order(
    databases: Vec<ResolvedDatabase>,
) -> Result<Vec<ResolvedDatabase>, ConfigError> {
    let index: HashMap<&str, usize> = databases
        .iter()
        .enumerate()
        .map(|(i, d)| (d.name.as_str(), i))
        .collect();
    let mut dependencies: Vec<Vec<usize>> = Vec::with_capacity(databases.len());
    for db in &databases {
        let mut of_db = Vec::with_capacity(db.depends_on.len());
        for dependency in &db.depends_on {
            let Some(&j) = index.get(dependency.as_str()) else {
                return Err(ConfigError::Database {
                    database: db.name.clone(),
                    problem: format!(
                        "depends_on names `{dependency}`, which is not a configured database"
                    ),
                });
            };
            of_db.push(j);
        }
        dependencies.push(of_db);
    }
    let depths = depths(&dependencies).map_err(|cycle| {
        let mut names: Vec<&str> = cycle.iter().map(|&i| databases[i].name.as_str()).collect();
        names.sort_unstable();
        ConfigError::DependencyCycle {
            names: names.into_iter().map(str::to_owned).collect(),
        }
    })?;
    let mut ordered: Vec<(usize, ResolvedDatabase)> = depths.into_iter().zip(databases).collect();
    ordered.sort_by(|(a_depth, a), (b_depth, b)| a_depth.cmp(b_depth).then(a.name.cmp(&b.name)));
    Ok(ordered.into_iter().map(|(_, db)| db).collect())
}

/// The depth of each node (0 for no dependencies, else one more than its deepest
/// dependency), each computed once; or the nodes of a cycle.
fn depths(dependencies: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    #[derive(Clone, Copy)]
    enum State {
        New,
        Visiting,
        Done(usize),
    }
    let mut state = vec![State::New; dependencies.len()];
    for root in 0..dependencies.len() {
        // An explicit stack: a chain of 60,000 dependencies must not overflow the real one.
        let mut stack = vec![(root, 0)];
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if *next == 0 {
                match state[node] {
                    State::Done(_) => {
                        stack.pop();
                        continue;
                    }
                    State::Visiting | State::New => state[node] = State::Visiting,
                }
            }
            if let Some(&dependency) = dependencies[node].get(*next) {
                *next += 1;
                if let State::Visiting = state[dependency] {
                    let start = stack.iter().position(|&(n, _)| n == dependency);
                    return Err(stack[start.unwrap_or(0)..]
                        .iter()
                        .map(|&(n, _)| n)
                        .collect());
                }
                stack.push((dependency, 0));
            } else {
                let depth = dependencies[node]
                    .iter()
                    .map(|&d| match state[d] {
                        State::Done(depth) => depth + 1,
                        _ => 0,
                    })
                    .max()
                    .unwrap_or(0);
                state[node] = State::Done(depth);
                stack.pop();
            }
        }
    }
    Ok(state
        .into_iter()
        .map(|s| match s {
            State::Done(depth) => depth,
            _ => 0,
        })
        .collect())
}

/// Makes a relative SQLite path relative to the config file's folder, not to wherever
/// skein happens to be run from.
pub(crate) fn absolutize_sqlite(url: &str, root: &Path) -> String {
    let scheme = skein_schemes::scheme(url);
    if !skein_schemes::Kind::of_scheme(scheme).is_some_and(skein_schemes::Kind::is_file) {
        return url.to_owned();
    }
    let after = &url[scheme.len() + 1..];
    let rest = after.strip_prefix("//").unwrap_or(after);
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    if path.is_empty() || path.starts_with(':') || Path::new(path).is_absolute() {
        return url.to_owned();
    }
    let absolute = root.join(path);
    let mut out = format!("{scheme}://{}", absolute.display());
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

impl Workspace {
    /// The sets of databases of one kind: `[models]` first, then `[sets.*]` by name.
    pub fn sets(&self) -> &[ModelSet] {
        &self.sets
    }

    /// One set by name, or an error naming the sets there are.
    pub fn set(&self, name: &str) -> Result<&ModelSet, ConfigError> {
        self.sets.iter().find(|s| s.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.sets.iter().map(|s| s.name.as_str()).collect();
            ConfigError::UnknownSet {
                name: name.to_owned(),
                suggestion: closest(name, &names).map(str::to_owned),
                known: names.iter().map(|n| n.to_string()).collect(),
            }
        })
    }

    /// The set a command that adds to one works on: `name` when given, else the only set
    /// there is.
    pub fn set_or_only(&self, name: Option<&str>) -> Result<&ModelSet, ConfigError> {
        match (name, self.sets.as_slice()) {
            (Some(name), _) => self.set(name),
            (None, [only]) => Ok(only),
            (None, sets) => Err(ConfigError::WhichSet {
                sets: sets.iter().map(|s| s.name.clone()).collect(),
            }),
        }
    }

    /// The sets whose members a `names_from` query lists, with the query.
    pub fn names_queries(&self) -> Vec<(&ModelSet, &crate::settings::NamesFrom)> {
        self.sets
            .iter()
            .filter_map(|set| set.names_from().map(|from| (set, from)))
            .collect()
    }

    /// The groups every member of `set` is in: the set's name and its own `groups`.
    pub fn set_groups(&self, set: &ModelSet) -> BTreeSet<String> {
        let mut groups = BTreeSet::from([set.name.clone()]);
        groups.extend(set.settings.groups.iter().cloned());
        groups
    }

    /// Whether there is a set of databases (`[models]` or `[sets.<name>]`).
    pub fn has_models(&self) -> bool {
        !self.sets.is_empty()
    }

    /// Adds the members the `names_from` query of `set` found: new databases, or a second
    /// source (and the row's variables) for members listed already.
    pub fn add_models(&mut self, set: &str, found: Vec<FoundModel>) -> Result<(), ConfigError> {
        let Some(set) = self.sets.iter().find(|s| s.name == set) else {
            return Ok(());
        };
        let key = &set.key;
        let from = set.names_from().map(|f| f.db.clone()).unwrap_or_default();
        let mut databases = std::mem::take(&mut self.databases);
        let mut index: HashMap<String, usize> = databases
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name.clone(), i))
            .collect();
        for model in distinct_rows(found, key, &from)? {
            check_name(&model.name).map_err(|_| ConfigError::Set {
                key: format!("{key}.names_from"),
                problem: format!(
                    "the query on `{from}` returned `{}`, which cannot be a database name: lower-case letters, digits and `_`, starting with a letter or `_`, at most 63 characters",
                    model.name
                ),
            })?;
            for var in model.vars.keys() {
                crate::models::check_var_name(var).map_err(|problem| ConfigError::Set {
                    key: format!("{key}.names_from"),
                    problem: format!(
                        "a column of the query on `{from}`: {problem} (name the column with AS)"
                    ),
                })?;
            }
            let vars = set.vars(&model.name, &model.vars);
            match index.get(&model.name) {
                Some(&i) if databases[i].set.as_deref() == Some(set.name.as_str()) => {
                    let db = &databases[i];
                    let mut listed_by = db.listed_by.clone();
                    if !listed_by.contains(&ListedBy::NamesFrom) {
                        listed_by.push(ListedBy::NamesFrom);
                    }
                    databases[i] = set.database(&model.name, listed_by, vars)?;
                }
                Some(&i) => {
                    let error = taken(&model.name, &[ListedBy::NamesFrom], set, &databases[i]);
                    self.databases = databases;
                    return Err(error);
                }
                None => {
                    index.insert(model.name.clone(), databases.len());
                    databases.push(set.database(&model.name, vec![ListedBy::NamesFrom], vars)?);
                }
            }
        }
        self.databases = dependency_order(databases)?;
        self.positions = self
            .databases
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name.clone(), i))
            .collect();
        Ok(())
    }

    /// The database member `name` of `set` would have, listed or not (`skein model new`).
    pub fn model_database(&self, set: &str, name: &str) -> Result<ResolvedDatabase, ConfigError> {
        let set = self.set(set)?;
        check_name(name)?;
        set.database(name, Vec::new(), set.vars(name, &ModelVars::new()))
    }

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
        let named: BTreeSet<&str> = selection.databases.iter().map(String::as_str).collect();
        let groups: BTreeSet<&str> = selection.groups.iter().map(String::as_str).collect();
        Ok(self
            .databases
            .iter()
            .filter(|d| {
                everything
                    || named.contains(d.name.as_str())
                    || d.groups.iter().any(|g| groups.contains(g.as_str()))
            })
            .collect())
    }

    /// One database by name, or an error listing the names (with a suggestion).
    pub fn database(&self, name: &str) -> Result<&ResolvedDatabase, ConfigError> {
        self.positions
            .get(name)
            .map(|&i| &self.databases[i])
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
        self.origins.describe(key)
    }

    /// Where `db`'s `setting` came from: its own key, else the profile-wide one
    /// (`history_table`), else `default`.
    pub fn source_of_setting(&self, db: &ResolvedDatabase, setting: &str) -> String {
        match self.source_of(&db.setting_key(setting)).as_str() {
            "default" => self.source_of(setting),
            own => own.to_owned(),
        }
    }
}

/// The rows of a `names_from` query, one per model: a row that repeats another is left
/// out, and two rows for one model with different variables are refused, naming the
/// variables (never their values), since either could be meant.
fn distinct_rows(
    found: Vec<FoundModel>,
    key: &str,
    from: &str,
) -> Result<Vec<FoundModel>, ConfigError> {
    let noun = if key == MODELS_GROUP {
        "model"
    } else {
        "member"
    };
    let mut first: HashMap<String, ModelVars> = HashMap::new();
    let mut rows = Vec::new();
    for model in found {
        match first.get(&model.name) {
            Some(vars) if *vars == model.vars => {}
            Some(vars) => {
                let differing: BTreeSet<&str> = vars
                    .keys()
                    .chain(model.vars.keys())
                    .filter(|k| vars.get(*k) != model.vars.get(*k))
                    .map(String::as_str)
                    .collect();
                return Err(ConfigError::Set {
                    key: format!("{key}.names_from"),
                    problem: format!(
                        "the query on `{from}` lists {noun} `{}` twice, with different `{}`; a model is one row: make the query return one row per name (DISTINCT, or a WHERE that picks one)",
                        model.name,
                        differing.into_iter().collect::<Vec<_>>().join("`, `")
                    ),
                });
            }
            None => {
                first.insert(model.name.clone(), model.vars.clone());
                rows.push(model);
            }
        }
    }
    Ok(rows)
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

    fn database(name: &str, depends_on: &[&str]) -> ResolvedDatabase {
        ResolvedDatabase {
            name: name.to_owned(),
            connection: None,
            migrations: PathBuf::new(),
            template: None,
            vars: ModelVars::new(),
            listed_by: Vec::new(),
            depends_on: depends_on.iter().map(|d| d.to_string()).collect(),
            groups: Vec::new(),
            history_table: "skein_history".to_owned(),
            is_model: false,
            set: None,
            expect: None,
            ignore_tables: Vec::new(),
            init_sql: Vec::new(),
            sqlite_foreign_keys: false,
            step_timeout: None,
        }
    }

    fn names(databases: &[ResolvedDatabase]) -> Vec<&str> {
        databases.iter().map(|d| d.name.as_str()).collect()
    }

    #[test]
    fn dependencies_come_first_then_names_in_order() {
        let ordered = dependency_order(vec![
            database("b_model", &["infra"]),
            database("a_model", &["infra"]),
            database("report", &["a_model", "infra"]),
            database("infra", &[]),
            database("zeta", &[]),
        ])
        .unwrap();
        assert_eq!(
            names(&ordered),
            ["infra", "zeta", "a_model", "b_model", "report"]
        );
        let unknown = dependency_order(vec![database("a", &["nope"])]).unwrap_err();
        assert!(unknown.to_string().contains("`nope`"), "{unknown}");
        let cycle = dependency_order(vec![
            database("free", &[]),
            database("leads_in", &["x"]),
            database("x", &["y"]),
            database("y", &["x"]),
        ])
        .unwrap_err();
        assert_eq!(
            cycle.to_string(),
            "invalid configuration: depends_on forms a cycle among: x, y"
        );
    }

    #[test]
    fn a_long_chain_of_dependencies_is_ordered() {
        let count = 100_000;
        let chain: Vec<ResolvedDatabase> = (0..count)
            .rev()
            .map(|i| {
                let before = format!("db_{:06}", i.max(1) - 1);
                let depends_on: &[&str] = if i == 0 { &[] } else { &[before.as_str()] };
                database(&format!("db_{i:06}"), depends_on)
            })
            .collect();
        let ordered = dependency_order(chain).unwrap();
        assert_eq!(ordered.len(), count);
        assert!(ordered.windows(2).all(|w| w[0].name < w[1].name));
    }

    #[test]
    fn valid_names() {
        for good in ["infra", "blub_test", "_x1"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Bad-Name", "x; DROP DATABASE y", "1abc", "UPPER"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    fn load(text: &str) -> Result<Workspace, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("skein.toml"), text).unwrap();
        std::fs::write(dir.path().join("jobs"), "3\n").unwrap();
        crate::load(&crate::LoadOptions {
            cwd: dir.path().to_owned(),
            ..crate::LoadOptions::default()
        })
    }

    #[test]
    fn sets_are_made_as_the_models_are_and_named_by_their_keys() {
        let workspace = load(
            "[default]\nconcurrency = \"${file:jobs}\"\n\
             [default.databases.infra]\nurl = \"sqlite://i.db\"\n\
             [default.models]\nnames = [\"m1\"]\nurl = \"sqlite://{model}.db\"\n\
             [default.sets.miner]\nnames = [\"n1\", \"n2\"]\nurl = \"sqlite://{model}.db\"\nhistory_table = \"miner_history\"\ngroups = [\"nodes\"]\n",
        )
        .unwrap();
        assert_eq!(workspace.settings.concurrency.get(), 3);
        let names: Vec<&str> = workspace.sets().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["models", "miner"]);
        let n1 = workspace.database("n1").unwrap();
        assert_eq!(n1.set.as_deref(), Some("miner"));
        assert_eq!(n1.groups, ["miner", "nodes"]);
        assert_eq!(n1.history_table, "miner_history");
        assert_eq!(n1.setting_key("url"), "sets.miner.url");
        assert_eq!(
            workspace.database("m1").unwrap().setting_key("url"),
            "models.url"
        );
        assert!(n1.migrations.ends_with("database/miner/n1"));
        let selected = workspace
            .select(&Selection {
                databases: Vec::new(),
                groups: vec!["miner".to_owned()],
            })
            .unwrap();
        assert_eq!(selected.len(), 2);
        assert!(
            workspace
                .set_or_only(None)
                .unwrap_err()
                .to_string()
                .contains("several sets (models, miner)")
        );
        assert!(
            workspace
                .set("minr")
                .unwrap_err()
                .to_string()
                .contains("did you mean `miner`?")
        );
    }

    #[test]
    fn sets_that_cannot_be_are_refused_naming_them() {
        let two = load(
            "[default.sets.a]\nnames = [\"same\"]\nurl = \"sqlite://{model}.db\"\n\
             [default.sets.b]\nnames = [\"same\"]\nurl = \"sqlite://{model}.db\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            two.contains("is both a member of [sets.a] and a name in sets.b.names"),
            "{two}"
        );
        for (set, says) in [
            ("infra", "`infra` is the group"),
            ("models", "the set `models` is the one [models] makes"),
            ("Miner", "a set's name is lower-case"),
        ] {
            let error = load(&format!(
                "[default.sets.{set}]\nnames = [\"x\"]\nurl = \"sqlite://{{model}}.db\"\n"
            ))
            .unwrap_err()
            .to_string();
            assert!(error.contains(says), "{set}: {error}");
        }
        let typo = load("[default.sets.a]\nnames = [\"x\"]\nurll = \"sqlite://x.db\"\n")
            .unwrap_err()
            .to_string();
        assert!(typo.contains("unknown setting `sets.a.urll`"), "{typo}");
        let count = load("[default]\nmax_per_host = \"${file:jobs}x\"\n[default.databases.a]\nurl = \"sqlite://a.db\"\n")
            .unwrap_err()
            .to_string();
        assert!(count.contains("`max_per_host`"), "{count}");
        assert!(
            count.contains("is `3x`, which is not a whole number"),
            "{count}"
        );
    }

    #[test]
    fn a_port_may_come_from_a_members_variable() {
        let workspace = load(
            "[default.sets.node]\nnames = [\"n1\"]\nhost = \"db\"\nport = \"{port}\"\ndatabase = \"{model}\"\n\
             [default.sets.node.vars.n1]\nport = 5433\n",
        )
        .unwrap();
        let template = workspace
            .database("n1")
            .unwrap()
            .connection
            .clone()
            .unwrap();
        let url = template
            .render(
                &|_: &crate::reference::SecretRef| -> Result<String, String> {
                    unreachable!("no reference")
                },
            )
            .unwrap();
        assert_eq!(url, "postgres://db:5433/n1");
    }
}
