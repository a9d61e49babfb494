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
    pub concurrency: usize,
    /// How long to wait for another skein's lock (`60s`, `2m`).
    #[serde(default = "default_lock_timeout")]
    pub lock_timeout: String,
    #[serde(default)]
    pub databases: BTreeMap<String, DatabaseSettings>,
    pub models: Option<ModelSettings>,
    #[serde(default)]
    pub secrets: SecretSettings,
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

/// Model databases (`[<profile>.models]`): every folder under `dir` is one database.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ModelSettings {
    #[serde(default = "default_models_dir")]
    pub dir: String,
    pub template: Option<String>,
    /// The connection; `{model}` in any value stands for the model's name.
    #[serde(flatten)]
    pub connection: ConnectionSettings,
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    pub expect: Option<ExpectRules>,
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
        "lock_timeout",
        "databases",
        "models",
        "secrets",
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
    ];
    pub const MODELS: &[&str] = &["dir", "template", "depends_on", "groups", "expect"];
    pub const EXPECT: &[&str] = &[
        "required_tables",
        "required_columns",
        "optional_tables",
        "forbidden_tables",
    ];
    pub const SECRETS: &[&str] = &["gcp_endpoint", "aws_region", "timeout"];
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

fn default_secret_timeout() -> String {
    "10s".to_owned()
}

fn default_models_dir() -> String {
    "database/models".to_owned()
}
