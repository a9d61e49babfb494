//! Configuration errors: each names the setting, file or database and says what to do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no skein.toml in {} or any folder above it; create one or pass --config PATH", start.display())]
    NotFound { start: PathBuf },
    #[error("config file {} does not exist", path.display())]
    Missing { path: PathBuf },
    #[error("invalid configuration: {0}")]
    Invalid(String),
    #[error("profile `{profile}` is not defined in {}; profiles there: {}", path.display(), known.join(", "))]
    UnknownProfile {
        profile: String,
        path: PathBuf,
        known: Vec<String>,
    },
    #[error("database `{database}`: {problem}")]
    Database { database: String, problem: String },
    #[error("no database is named `{name}`{}; configured: {}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default(), known.join(", "))]
    UnknownDatabase {
        name: String,
        suggestion: Option<String>,
        known: Vec<String>,
    },
    #[error("no group is named `{name}`; groups: {}", known.join(", "))]
    UnknownGroup { name: String, known: Vec<String> },
    #[error("{}", .0.join("\n"))]
    Secrets(Vec<String>),
    #[error("cannot read the models folder {}", dir.display())]
    ModelsDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<figment::Error> for ConfigError {
    fn from(err: figment::Error) -> Self {
        ConfigError::Invalid(
            err.into_iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        )
    }
}
