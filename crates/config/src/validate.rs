//! Catches unknown settings before anything runs, naming where each was set and the
//! known key it most likely meant. An unknown key in `skein.toml` is an error; one that
//! only a `SKEIN_...` environment variable sets is a warning: deploy systems set variables
//! of their own under that prefix (`SKEIN_REF` for the version to install, say), and a
//! variable is not the user's file.

use crate::error::ConfigError;
use crate::settings::keys;
use crate::spans::Origins;
use figment::value::{Dict, Value};

/// A `SKEIN_...` variable that sets no known setting: skein ignores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownVariable {
    /// The key it would set, dotted (`ref`, `databases.infra.urll`).
    pub key: String,
    /// The known key it most likely meant, if one is close.
    pub suggestion: Option<String>,
}

impl std::fmt::Display for UnknownVariable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "environment variable {} sets no setting (unknown setting `{}`{}); it is ignored",
            crate::spans::env_name(&self.key),
            self.key,
            self.suggestion
                .as_ref()
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default()
        )
    }
}

/// Checks every key of the merged settings against the known ones: an unknown key set in
/// the file is an error, one set only by the environment is returned.
pub(crate) fn check_keys(origins: &Origins) -> Result<Vec<UnknownVariable>, ConfigError> {
    let Ok(root) = origins.figment().extract::<Dict>() else {
        return Ok(Vec::new()); // Extraction reports its own error.
    };
    let mut problems = Vec::new();
    let mut from_environment = Vec::new();
    let mut check = |prefix: &str, dict: &Dict, known: &[&[&str]]| {
        for key in dict.keys() {
            if !known.iter().any(|k| k.contains(&key.as_str())) {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                let all: Vec<&str> = known.iter().flat_map(|k| k.iter().copied()).collect();
                let closest = closest(key, &all);
                if origins.from_environment(&path) {
                    from_environment.push(UnknownVariable {
                        key: path,
                        suggestion: closest.map(str::to_owned),
                    });
                    continue;
                }
                let suggestion = closest
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_else(|| format!("; known here: {}", all.join(", ")));
                problems.push(format!(
                    "unknown setting `{path}` ({}){suggestion}",
                    origins.describe(&path)
                ));
            }
        }
    };
    check("", &root, &[keys::TOP]);
    if let Some(Value::Dict(_, databases)) = root.get("databases") {
        for (name, database) in databases {
            if let Value::Dict(_, settings) = database {
                check(
                    &format!("databases.{name}"),
                    settings,
                    &[keys::CONNECTION, keys::DATABASE],
                );
                if let Some(Value::Dict(_, expect)) = settings.get("expect") {
                    check(&format!("databases.{name}.expect"), expect, &[keys::EXPECT]);
                }
            }
        }
    }
    let mut sets: Vec<(String, &Dict)> = Vec::new();
    if let Some(Value::Dict(_, models)) = root.get("models") {
        sets.push(("models".to_owned(), models));
    }
    if let Some(Value::Dict(_, named)) = root.get("sets") {
        for (name, set) in named {
            if let Value::Dict(_, set) = set {
                sets.push((format!("sets.{name}"), set));
            }
        }
    }
    for (key, set) in sets {
        check(&key, set, &[keys::CONNECTION, keys::MODELS]);
        if let Some(Value::Dict(_, expect)) = set.get("expect") {
            check(&format!("{key}.expect"), expect, &[keys::EXPECT]);
        }
        if let Some(Value::Dict(_, names_from)) = set.get("names_from") {
            check(
                &format!("{key}.names_from"),
                names_from,
                &[keys::NAMES_FROM],
            );
        }
    }
    if let Some(Value::Dict(_, secrets)) = root.get("secrets") {
        check("secrets", secrets, &[keys::SECRETS]);
    }
    if problems.is_empty() {
        Ok(from_environment)
    } else {
        Err(ConfigError::Settings(problems))
    }
}

/// The known name closest to `name`, if it is close enough to be a typo.
pub fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::levenshtein(name, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_for_typos() {
        let known = ["infra", "blub_test"];
        assert_eq!(closest("infr", &known), Some("infra"));
        assert_eq!(closest("blub_tset", &known), Some("blub_test"));
        assert_eq!(closest("zzzzzz", &known), None);
        assert_eq!(closest("urll", keys::CONNECTION), Some("url"));
    }
}
