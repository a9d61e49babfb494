//! Turns the selected databases' connection templates into URLs: every distinct secret is
//! fetched once, concurrently, whatever the number of databases that use it. Failures
//! are grouped by reference, each naming its databases and what to check, never a value.

use crate::connection::RenderError;
use crate::error::{ConfigError, SecretPlace};
use crate::reference::SecretSource;
use crate::resolve::{ResolvedDatabase, Workspace, absolutize_sqlite};
use crate::secret::{Fetched, SecretValue, fetch_all, pick};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::PoisonError;

/// The URL of each selected database, and every secret value used (so that output can be
/// scrubbed of them).
#[derive(Debug, Default)]
pub struct DatabaseUrls {
    pub urls: HashMap<String, SecretValue>,
    pub secrets: Vec<SecretValue>,
}

impl Workspace {
    /// The values of `sources`, each fetched at most once per run however many times URLs
    /// are resolved (a run over a `names_from` fleet resolves them in phases).
    async fn fetch_once(&self, sources: &BTreeSet<SecretSource>) -> Fetched {
        let missing: BTreeSet<SecretSource> = {
            let known = self
                .fetched_secrets
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            sources
                .iter()
                .filter(|s| !known.contains_key(*s))
                .cloned()
                .collect()
        };
        let fetched = match missing.is_empty() {
            true => Fetched::new(),
            false => fetch_all(&missing, &self.secret_options, &self.root).await,
        };
        let mut known = self
            .fetched_secrets
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        known.extend(fetched);
        sources
            .iter()
            .filter_map(|s| known.get(s).map(|value| (s.clone(), value.clone())))
            .collect()
    }

    /// Resolves the URLs of `databases`.
    pub async fn urls(&self, databases: &[&ResolvedDatabase]) -> Result<DatabaseUrls, ConfigError> {
        let mut sources = BTreeSet::new();
        for db in databases {
            let template = db.connection.as_ref().ok_or_else(|| missing_url(db))?;
            for reference in template
                .references()
                .map_err(|problem| ConfigError::Database {
                    database: db.name.clone(),
                    problem,
                })?
            {
                sources.insert(reference.source);
            }
        }
        let fetched = self.fetch_once(&sources).await;
        let mut used: BTreeMap<SecretSource, SecretValue> = BTreeMap::new();
        // (setting, reference, problem) -> the databases that share the failure.
        let mut failures: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
        // Whether every failure is a service that could not be reached (retryable).
        let mut unreachable_only = true;
        let mut urls = HashMap::new();
        for db in databases {
            let template = db.connection.as_ref().ok_or_else(|| missing_url(db))?;
            let rendered = template.render(&|reference| {
                pick(reference, &fetched)
                    .map(|value| value.expose().to_owned())
                    .map_err(|problem| {
                        let setting =
                            format!("{}.{}", db.table_key(), template.setting_of(reference));
                        (setting, reference.text.clone(), problem)
                    })
            });
            match rendered {
                Ok(url) if crate::connection::lacks_slashes(&url) => {
                    return Err(ConfigError::Database {
                        database: db.name.clone(),
                        problem: format!(
                            "`url` is `{}`: a server URL needs `//` after its scheme (postgres://user:password@host:5432/database); without it the password is read as part of the database name",
                            template.display()
                        ),
                    });
                }
                Ok(url) => {
                    let url = without_driver(&db.name, &url);
                    urls.insert(
                        db.name.clone(),
                        SecretValue::new(absolutize_sqlite(&url, &self.root)),
                    );
                }
                Err(RenderError::Secret((setting, reference, problem))) => {
                    unreachable_only &= problem.unreachable;
                    failures
                        .entry((setting, reference, problem.message))
                        .or_default()
                        .push(db.name.clone())
                }
                Err(RenderError::Template(problem)) => {
                    return Err(ConfigError::Database {
                        database: db.name.clone(),
                        problem,
                    });
                }
            }
        }
        if let Some(((setting, _, _), dbs)) = failures.first_key_value() {
            let first = SecretPlace {
                database: dbs.first().cloned().unwrap_or_default(),
                setting: setting.clone(),
                file: self.origins.file_line(setting),
            };
            return Err(ConfigError::Secrets {
                first,
                unreachable: unreachable_only,
                problems: failures
                    .into_iter()
                    .map(|((setting, reference, problem), dbs)| {
                        format!(
                            "{}: cannot resolve `{reference}` in `{setting}`: {problem}",
                            name_databases(&dbs)
                        )
                    })
                    .collect(),
            });
        }
        for (source, result) in fetched {
            if let Ok(value) = result {
                used.insert(source, value);
            }
        }
        Ok(DatabaseUrls {
            urls,
            secrets: used.into_values().collect(),
        })
    }
}

fn missing_url(db: &ResolvedDatabase) -> ConfigError {
    ConfigError::Database {
        database: db.name.clone(),
        problem: if db.is_model {
            format!(
                "no connection: set `url` (with `{{model}}`, the member's name) or the connection's parts under [<profile>.{}]",
                db.table_key()
            )
        } else {
            format!(
                "no connection: set `url` (or host, user, database...) under [<profile>.databases.{0}], or SKEIN_DATABASES__{1}__URL",
                db.name,
                db.name.to_uppercase()
            )
        },
    }
}

/// `database infra`, `databases a, b and c`, or `databases a, b, c and 197 more`.
fn name_databases(names: &[String]) -> String {
    match names {
        [one] => format!("database `{one}`"),
        _ if names.len() <= 5 => format!(
            "databases {}",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => format!(
            "databases {} and {} more",
            names[..3]
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
            names.len() - 3
        ),
    }
}

/// A SQLAlchemy-style URL (`postgresql+asyncpg://`, `mysql+pymysql://`) without its
/// Python driver: the database is the same, and skein has its own driver.
fn without_driver(database: &str, url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((base, driver)) = scheme.split_once('+') else {
        return url.to_owned();
    };
    if skein_schemes::Kind::of_scheme(base).is_none() {
        return url.to_owned();
    }
    tracing::info!(
        "database `{database}`: the URL scheme `{scheme}` names a Python driver ({driver}); using `{base}`"
    );
    format!("{base}://{rest}")
}

#[cfg(test)]
mod driver_tests {
    #[test]
    fn sqlalchemy_drivers_are_dropped_from_the_scheme() {
        let plain = |url: &str| super::without_driver("app", url);
        assert_eq!(plain("postgresql+asyncpg://u@h/db"), "postgresql://u@h/db");
        assert_eq!(plain("mysql+pymysql://u@h/db"), "mysql://u@h/db");
        assert_eq!(plain("postgres://u:p+q@h/db"), "postgres://u:p+q@h/db");
        assert_eq!(plain("weird+x://h/db"), "weird+x://h/db");
    }
}
