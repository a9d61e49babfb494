//! The shape of `skein.toml` (one profile's view of it), before anything is resolved.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Settings for one profile, after figment merged the layers.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The history table, `table` or `schema.table`.
    #[serde(default = "default_history_table")]
    pub history_table: String,
    /// How many databases are migrated at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// How long to wait for another skein's lock (`60s`, `2m`).
    #[serde(default = "default_lock_timeout")]
    pub lock_timeout: String,
    #[serde(default)]
    pub databases: BTreeMap<String, DatabaseSettings>,
    pub models: Option<ModelSettings>,
}

/// One named database (`[<profile>.databases.<name>]`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: Option<String>,
    /// The migration folder, relative to the config file.
    pub migrations: Option<String>,
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    pub history_table: Option<String>,
}

/// Model databases (`[<profile>.models]`): every folder under `dir` is one database.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSettings {
    #[serde(default = "default_models_dir")]
    pub dir: String,
    pub template: Option<String>,
    /// The URL, with `{model}` standing for the model's name.
    pub url: Option<String>,
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
}

fn default_history_table() -> String {
    "skein_history".to_owned()
}

fn default_concurrency() -> usize {
    8
}

fn default_lock_timeout() -> String {
    "60s".to_owned()
}

fn default_models_dir() -> String {
    "database/models".to_owned()
}
