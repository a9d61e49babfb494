//! Configuration errors: each names the setting, file or database and says what to do.

use std::path::PathBuf;

/// A configuration that works, shown when the file sets nothing.
pub const MINIMAL: &str =
    "[default.databases.app]\nmigrations = \"database/app\"\nurl = \"sqlite://.skein/app.db\"";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no skein.toml in {} or any folder above it, and no DATABASE_URL: run `skein init`, set DATABASE_URL (or pass --url URL, with --migrations DIR), or pass --config PATH", start.display())]
    NotFound { start: PathBuf },
    #[error("--url and --migrations define a database where there is no skein.toml, and {} is here: set the URL there (or in SKEIN_DATABASES__<NAME>__URL), or run from a folder without one", path.display())]
    SingleWithConfig { path: PathBuf },
    #[error("config file {} does not exist", path.display())]
    Missing { path: PathBuf },
    /// A setting's value is wrong: its key, where it was set, what is wrong with it.
    #[error("invalid configuration: `{key}` ({place}): {problem}")]
    Setting {
        key: String,
        place: String,
        problem: String,
    },
    /// Settings wrong at once (unknown keys, values of the wrong type), one line each.
    #[error("invalid configuration: {}", .0.join("\n"))]
    Settings(Vec<String>),
    /// A set of databases (`[models]`, `[sets.<name>]`) that cannot be: its key and why.
    #[error("invalid configuration: {key}: {problem}")]
    Set { key: String, problem: String },
    /// The set a command names is not there.
    #[error("invalid configuration: there is no set `{name}`{}; {}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default(), match known.is_empty() { true => "this configuration has neither [models] nor [sets.<name>]; add one with `template` and `url`".to_owned(), false => format!("the sets are: {}", known.join(", ")) })]
    UnknownSet {
        name: String,
        suggestion: Option<String>,
        known: Vec<String>,
    },
    /// A command that adds to a set, with no set or several to choose from.
    #[error("invalid configuration: {}", match sets.is_empty() { true => "this configuration has no [models] section (nor [sets.<name>]); add one with `template` and `url`".to_owned(), false => format!("there are several sets ({}); name one with --set NAME", sets.join(", ")) })]
    WhichSet { sets: Vec<String> },
    #[error("invalid configuration: depends_on forms a cycle among: {}", names.join(", "))]
    DependencyCycle { names: Vec<String> },
    /// `skein.toml` could not be edited as asked.
    #[error("invalid configuration: {}: {problem}", path.display())]
    Edit { path: PathBuf, problem: String },
    #[error("{}:{line}:{column}: {message}; fix the TOML syntax there", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("model `{model}` is listed already in {} ([{table}] names), perhaps by another run just now", path.display())]
    AlreadyListed {
        model: String,
        path: PathBuf,
        table: String,
    },
    #[error(transparent)]
    File(#[from] crate::user_file::UserFileError),
    #[error("{} sets no database; a minimal one:\n\n{MINIMAL}", path.display())]
    Empty { path: PathBuf },
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
    #[error("{}", problems.join("\n"))]
    Secrets {
        /// One line per reference that failed, naming its databases.
        problems: Vec<String>,
        /// Where the first of them is.
        first: SecretPlace,
        /// Every one failed because its service could not be reached (no answer in time,
        /// a network error, a 5xx): the same run may work later.
        unreachable: bool,
    },
    #[error("cannot read the models folder {}", dir.display())]
    ModelsDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Where a secret reference that could not be resolved is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretPlace {
    /// A database whose connection uses it.
    pub database: String,
    /// The setting that holds it (`databases.infra.url`, `models.password`).
    pub setting: String,
    /// The config file and line that set it, when the file does.
    pub file: Option<(PathBuf, usize)>,
}

impl ConfigError {
    /// Whether the mistake is in what was asked on the command line (a database, group or
    /// profile that is not configured) rather than in the configuration itself.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            ConfigError::UnknownDatabase { .. }
                | ConfigError::SingleWithConfig { .. }
                | ConfigError::UnknownGroup { .. }
                | ConfigError::UnknownProfile { .. }
        )
    }
}

impl From<figment::Error> for ConfigError {
    fn from(err: figment::Error) -> Self {
        ConfigError::Settings(err.into_iter().map(|e| e.to_string()).collect())
    }
}
