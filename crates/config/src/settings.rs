//! The shape of `skein.toml` (one profile's view of it), before anything is resolved.
//! Unknown keys are caught by [`crate::validate`], which can say where they came from.

use crate::connection::ConnectionSettings;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Settings for one profile, after figment merged the layers.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Settings {
    /// The history table, `table` or `schema.table`.
    #[serde(default = "default_history_table")]
    pub history_table: String,
    /// How many databases are migrated at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: Count,
    /// At most this many databases of one server (host:port) are worked on at once.
    pub max_per_host: Option<Count>,
    /// How long to wait for another skein's lock (`60s`, `2m`).
    #[serde(default = "default_lock_timeout")]
    pub lock_timeout: String,
    /// Session settings for every database, unless one sets its own.
    #[serde(flatten)]
    pub session: SessionSettings,
    #[serde(default)]
    pub databases: BTreeMap<String, DatabaseSettings>,
    pub models: Option<ModelSettings>,
    /// More kinds of database, each a set made as the models are (`[<profile>.sets.miner]`).
    #[serde(default)]
    pub sets: BTreeMap<String, ModelSettings>,
    #[serde(default)]
    pub secrets: SecretSettings,
    /// `db drop` and `db reset` refuse to run on this profile (set it on production).
    #[serde(default)]
    pub protected: bool,
    /// `[lint]`: `on_up` and each rule's level (`off`, `warn` or `error`), by rule id;
    /// read by the command line, which knows the rules.
    #[serde(default)]
    pub lint: BTreeMap<String, String>,
}

/// One named database (`[<profile>.databases.<name>]`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DatabaseSettings {
    #[serde(flatten)]
    pub connection: ConnectionSettings,
    /// The migration folder, relative to the config file.
    pub migrations: Option<String>,
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    pub history_table: Option<String>,
    /// What the schema must, may and must not have (`skein check`).
    pub expect: Option<ExpectRules>,
    /// Tables inspect, drift, check and converge leave out (names or `*`/`?` patterns).
    #[serde(default)]
    pub ignore_tables: Vec<String>,
    /// Values for the database's `-- skein:template` files (an imported goose ENVSUB
    /// section): a name not here comes from the environment.
    #[serde(default)]
    pub vars: crate::connection::ModelVars,
    #[serde(flatten)]
    pub session: SessionSettings,
}

/// How skein's own sessions with a database are set up; each is set at the top of a
/// profile, for one database, or for the model databases, the narrower one winning.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct SessionSettings {
    /// Statements run on every connection skein opens to the database, before anything
    /// else (`SET lock_timeout = '5s'`, `SET FOREIGN_KEY_CHECKS = 0`).
    pub init_sql: Option<Vec<String>>,
    /// SQLite: keep foreign keys enforced while migrating (default: off, as SQLite's own
    /// procedure for schema changes says, with `PRAGMA foreign_key_check` before each commit).
    pub sqlite_foreign_keys: Option<bool>,
    /// The longest one migration step may run (`10m`); the server then cancels it.
    pub step_timeout: Option<String>,
}

impl SessionSettings {
    /// These settings, with `wider`'s for those not set here.
    pub fn or(&self, wider: &SessionSettings) -> SessionSettings {
        SessionSettings {
            init_sql: self.init_sql.clone().or_else(|| wider.init_sql.clone()),
            sqlite_foreign_keys: self.sqlite_foreign_keys.or(wider.sqlite_foreign_keys),
            step_timeout: self
                .step_timeout
                .clone()
                .or_else(|| wider.step_timeout.clone()),
        }
    }
}

/// The `expect` rules of a database or of the model databases: the tables a database of
/// this role must have (and their columns), may have, and must not have.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct ExpectRules {
    #[serde(default)]
    pub required_tables: Vec<String>,
    /// Per table, the columns it must have.
    #[serde(default)]
    pub required_columns: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub optional_tables: Vec<String>,
    #[serde(default)]
    pub forbidden_tables: Vec<String>,
}

/// Model databases (`[<profile>.models]`): one database per model, each applying the
/// migrations of `template` rendered for it, plus those of its own folder under `dir`.
/// The models are the folders under `dir`, the `names` list and the rows of the
/// `names_from` query, together.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ModelSettings {
    /// The folder of the members' own folders (`database/models` for `[models]`,
    /// `database/<set>` for a set).
    pub dir: Option<String>,
    /// The folder of the migrations every model applies; without it, each model applies
    /// only its own folder's.
    pub template: Option<String>,
    /// Models listed by name.
    pub names: Option<Vec<String>>,
    /// Models listed by a query against another configured database.
    pub names_from: Option<NamesFrom>,
    /// Template variables (and `{name}` in the connection) per model:
    /// `[<profile>.models.vars.<model>]`.
    #[serde(default)]
    pub vars: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    /// The connection; `{model}` in any value stands for the model's name.
    #[serde(flatten)]
    pub connection: ConnectionSettings,
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    /// The history table of the set's databases (else the profile's).
    pub history_table: Option<String>,
    pub expect: Option<ExpectRules>,
    /// Tables inspect, drift, check and converge leave out (names or `*`/`?` patterns).
    #[serde(default)]
    pub ignore_tables: Vec<String>,
    #[serde(flatten)]
    pub session: SessionSettings,
}

/// The name of the set `[<profile>.models]` makes.
pub const MODELS_SET: &str = "models";

/// One set of databases of a kind, as written: `[models]` or `[sets.<name>]`.
pub struct SetEntry<'a> {
    pub name: &'a str,
    /// The dotted key of its table (`models`, `sets.miner`).
    pub key: String,
    pub settings: &'a ModelSettings,
}

impl Settings {
    /// Every set of databases: `[models]` first (as the set `models`), then `[sets.*]` by name.
    pub fn model_sets(&self) -> Vec<SetEntry<'_>> {
        let mut sets = Vec::new();
        if let Some(models) = &self.models {
            sets.push(SetEntry {
                name: MODELS_SET,
                key: MODELS_SET.to_owned(),
                settings: models,
            });
        }
        for (name, settings) in &self.sets {
            sets.push(SetEntry {
                name,
                key: format!("sets.{name}"),
                settings,
            });
        }
        sets
    }

    /// The same, each set's settings to change, with its dotted key.
    pub(crate) fn model_sets_mut(&mut self) -> Vec<(String, &mut ModelSettings)> {
        let mut sets = Vec::new();
        if let Some(models) = &mut self.models {
            sets.push((MODELS_SET.to_owned(), models));
        }
        for (name, settings) in &mut self.sets {
            sets.push((format!("sets.{name}"), settings));
        }
        sets
    }
}

/// A count (`concurrency`, `max_per_host`): a number, or text that is one once its
/// references are expanded (`"${env:SKEIN_JOBS}"`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Count {
    Number(usize),
    Text(String),
}

impl Count {
    /// The number; text is turned into one when the configuration is loaded, so a loaded
    /// workspace holds numbers only.
    pub fn get(&self) -> usize {
        match self {
            Count::Number(n) => *n,
            Count::Text(_) => unreachable!("counts are parsed when the configuration loads"),
        }
    }

    /// Parses text into the number it holds (after its references were expanded).
    pub(crate) fn parse(&mut self) -> Result<(), String> {
        if let Count::Text(text) = self {
            let n = text
                .trim()
                .parse::<usize>()
                .map_err(|_| format!("is `{text}`, which is not a whole number (0, 1, 2...)"))?;
            *self = Count::Number(n);
        }
        Ok(())
    }
}

/// `names_from = { db = "infra", query = "SELECT name FROM models WHERE active" }`: the
/// first column of each row is a model's name; the other columns are its variables.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct NamesFrom {
    pub db: String,
    pub query: String,
}

/// Where secret managers are reached (`[<profile>.secrets]`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SecretSettings {
    /// The GCP Secret Manager API root, for private endpoints (and tests).
    pub gcp_endpoint: Option<String>,
    /// The AWS region; the standard chain (AWS_REGION, profile) decides otherwise.
    pub aws_region: Option<String>,
    /// How long one secret fetch may take.
    #[serde(default = "default_secret_timeout")]
    pub timeout: String,
}

impl Default for SecretSettings {
    fn default() -> Self {
        SecretSettings {
            gcp_endpoint: None,
            aws_region: None,
            timeout: default_secret_timeout(),
        }
    }
}

/// Keys of each table, for the unknown-key check.
pub(crate) mod keys {
    pub const TOP: &[&str] = &[
        "history_table",
        "concurrency",
        "max_per_host",
        "lock_timeout",
        "databases",
        "models",
        "sets",
        "secrets",
        "init_sql",
        "sqlite_foreign_keys",
        "step_timeout",
        "protected",
        "lint",
    ];
    pub const CONNECTION: &[&str] = &[
        "url", "driver", "host", "port", "user", "password", "database", "socket", "options",
    ];
    pub const DATABASE: &[&str] = &[
        "migrations",
        "depends_on",
        "groups",
        "history_table",
        "expect",
        "ignore_tables",
        "init_sql",
        "sqlite_foreign_keys",
        "step_timeout",
        "vars",
    ];
    pub const MODELS: &[&str] = &[
        "dir",
        "template",
        "names",
        "names_from",
        "vars",
        "depends_on",
        "groups",
        "history_table",
        "expect",
        "ignore_tables",
        "init_sql",
        "sqlite_foreign_keys",
        "step_timeout",
    ];
    pub const EXPECT: &[&str] = &[
        "required_tables",
        "required_columns",
        "optional_tables",
        "forbidden_tables",
    ];
    pub const NAMES_FROM: &[&str] = &["db", "query"];
    pub const SECRETS: &[&str] = &["gcp_endpoint", "aws_region", "timeout"];
}

fn default_history_table() -> String {
    "skein_history".to_owned()
}

fn default_concurrency() -> Count {
    Count::Number(8)
}

fn default_lock_timeout() -> String {
    "60s".to_owned()
}

fn default_secret_timeout() -> String {
    "10s".to_owned()
}
