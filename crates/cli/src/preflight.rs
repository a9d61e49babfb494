//! Configuration mistakes that show only once the selected databases are resolved (a URL
//! skein cannot connect to, a history table name it cannot use, a database name the
//! server would cut short, a migration folder that is not there, an `up --to` version no file has). They are found for every selected
//! database before any is touched, so the command stops with exit 2 instead of failing
//! some databases after migrating others.

use crate::context;
use skein_config::{DatabaseUrls, ResolvedDatabase, Workspace};
use skein_core::Version;
use skein_core::history::HistoryTable;

/// Problems in the configuration of the selected databases, one line each.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct ConfigProblems(pub Vec<String>);

/// A command-line value that does not fit the selected databases.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UsageProblem {
    /// The flag whose value it is.
    pub argument: Option<&'static str>,
    pub message: String,
}

/// What the command will do with the databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Connect only (`db create`, `inspect`).
    Connection,
    /// Connect and read the migration folder.
    Migrations,
}

/// Checks each database's resolved URL, history table and (with `Needs::Migrations`) its
/// migration folder.
pub fn check(
    workspace: &Workspace,
    databases: &[&ResolvedDatabase],
    urls: &DatabaseUrls,
    needs: Needs,
) -> Result<(), ConfigProblems> {
    let mut problems = Vec::new();
    for db in databases {
        let from = |setting: &str| workspace.source_of_setting(db, setting);
        if let Some(url) = urls.urls.get(&db.name)
            && !skein_core::driver::knows_scheme(url.expose())
        {
            let shown = db
                .connection
                .as_ref()
                .map(|c| c.display())
                .unwrap_or_default();
            problems.push(format!(
                "database `{}`: `url` ({}) is `{shown}`, which is not a database URL skein knows; use postgres://..., mysql://... or sqlite://...",
                db.name,
                from("url")
            ));
        }
        if db.is_model
            && let Some(template) = &db.connection
            && let Some(placeholder) = unfilled_placeholder(&template.display())
        {
            problems.push(format!(
                "model `{}`: its connection uses `{placeholder}`, a variable it does not have; give it in [{}.vars.{}] or as a column of the names_from query ({})",
                db.name,
                db.table_key(),
                db.name,
                from("url")
            ));
        }
        match HistoryTable::parse(&db.history_table) {
            Err(e) => problems.push(format!(
                "database `{}`: {e} (`history_table`, {})",
                db.name,
                from("history_table")
            )),
            // A name the server would cut short, a history table the server would share.
            Ok(history_table) => {
                if let Some(url) = urls.urls.get(&db.name)
                    && let Err(e) = skein_core::driver::check_target(url.expose(), &history_table)
                {
                    problems.push(format!("database `{}`: {e}", db.name));
                }
            }
        }
        if needs == Needs::Migrations
            && let Some(template) = &db.template
        {
            if !template.is_dir() {
                problems.push(format!(
                    "database `{}`: the model template {} does not exist (`{}`, {}); create it or fix the path",
                    db.name,
                    template.display(),
                    db.setting_key("template"),
                    workspace.source_of(&db.setting_key("template"))
                ));
            }
        } else if needs == Needs::Migrations && !db.migrations.is_dir() {
            let setting = if db.is_model { "dir" } else { "migrations" };
            problems.push(format!(
                "database `{}`: the migration folder {} does not exist (`{setting}`, {}); create it or fix the path",
                db.name,
                db.migrations.display(),
                from(setting)
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ConfigProblems(problems))
    }
}

/// Refuses two configured databases that are one database with one history table (a model
/// whose URL, once `{model}` and its variables are filled in, reaches the infrastructure
/// database, say): each would read the other's history as its own, and `repair` on one
/// would delete the other's rows. The selected databases are compared with each other and
/// with every other configured database whose URL resolves (one that does not is left out:
/// an unrelated secret must not stop the command).
pub async fn check_distinct(
    workspace: &Workspace,
    databases: &[&ResolvedDatabase],
    urls: &DatabaseUrls,
) -> Result<(), ConfigProblems> {
    let key = |db: &ResolvedDatabase, url: &str| {
        skein_core::driver::database_identity(url)
            .map(|identity| (identity, db.history_table.clone()))
    };
    let mut by_key: std::collections::BTreeMap<(String, String), Vec<&str>> = Default::default();
    for db in databases {
        if let Some(url) = urls.urls.get(&db.name)
            && let Some(key) = key(db, url.expose())
        {
            by_key.entry(key).or_default().push(&db.name);
        }
    }
    let selected: std::collections::HashSet<&str> =
        databases.iter().map(|db| db.name.as_str()).collect();
    for db in &workspace.databases {
        if selected.contains(db.name.as_str()) {
            continue;
        }
        if let Ok(other) = workspace.urls(&[db]).await
            && let Some(url) = other.urls.get(&db.name)
            && let Some(key) = key(db, url.expose())
            && let Some(names) = by_key.get_mut(&key)
        {
            names.push(&db.name);
        }
    }
    let problems: Vec<String> = by_key
        .iter()
        .filter(|(_, names)| names.len() > 1)
        .map(|((identity, table), names)| {
            format!(
                "databases `{}` are one database ({identity}) with one history table `{table}`: each would take the other's migrations as its own; give each its own database (check their `url`, and a model's name or variables that fill it in)",
                names.join("` and `"),
            )
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ConfigProblems(problems))
    }
}

/// The first `{name}` left in a model's connection once its variables are filled in.
fn unfilled_placeholder(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let end = after.find('}')?;
        let name = &after[..end];
        let plain = !name.is_empty()
            && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if plain && !rest[..start].ends_with('$') {
            return Some(&rest[start..start + end + 2]);
        }
        rest = &after[end + 1..];
    }
    None
}

/// Checks that a version asked for (`up --to`, `stamp VERSION`) is a migration of every
/// selected database. A database whose folder cannot be read is left to the run, which
/// reports it. (`down --to` may name a version whose file is gone but whose history row
/// remains: only the database can say, so the plan checks it.)
pub fn check_version(
    flag: &'static str,
    version: Version,
    databases: &[&ResolvedDatabase],
) -> Result<(), UsageProblem> {
    let lacking: Vec<&str> = databases
        .iter()
        .filter(|db| {
            context::migrations(db)
                .is_ok_and(|migrations| !migrations.iter().any(|m| m.version == version))
        })
        .map(|db| db.name.as_str())
        .collect();
    match lacking.as_slice() {
        [] => Ok(()),
        [one] => Err(UsageProblem {
            argument: Some(flag),
            message: format!(
                "{flag} {version}: database `{one}` has no migration {version}; `skein history --db {one}` lists its versions"
            ),
        }),
        many => Err(UsageProblem {
            argument: Some(flag),
            message: format!(
                "{flag} {version}: {} databases have no migration {version} ({}{}); `skein history --db NAME` lists a database's versions",
                many.len(),
                many.iter()
                    .take(5)
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if many.len() > 5 { ", ..." } else { "" }
            ),
        }),
    }
}
