//! Alembic-style targets for `up`, `down` and `show`: `head`, `base`, `+N`, `-N`, and a
//! version or a unique prefix of one, found among the selected databases' migrations.

use crate::context;
use crate::preflight::UsageProblem;
use skein_config::ResolvedDatabase;
use skein_core::Version;
use skein_core::plan::{DownTarget, Target};
use std::collections::BTreeMap;

/// The plan target of `up TARGET`.
pub fn up(text: &str, databases: &[&ResolvedDatabase]) -> Result<Target, UsageProblem> {
    let text = text.trim();
    if text == "head" {
        return Ok(Target::Up {
            to: None,
            steps: None,
        });
    }
    if let Some(count) = text.strip_prefix('+') {
        return Ok(Target::Up {
            to: None,
            steps: Some(count_of(count, "+N")?),
        });
    }
    Ok(Target::Up {
        to: Some(version(text, databases)?),
        steps: None,
    })
}

/// The plan target of `down TARGET`.
pub fn down(text: &str, databases: &[&ResolvedDatabase]) -> Result<DownTarget, UsageProblem> {
    let text = text.trim();
    if text == "base" {
        return Ok(DownTarget::Base);
    }
    if let Some(count) = text.strip_prefix('-') {
        return Ok(DownTarget::Steps(count_of(count, "-N")?));
    }
    Ok(DownTarget::To(version(text, databases)?))
}

/// The version `--to TEXT` names: a migration's version, else a migration's imported id
/// (`001` is Alembic's revision `001` when no migration is version 1), else the number as
/// it is (checked later against each database's migrations); a text that is none of those
/// is looked up as a target is (the start of an id).
pub fn to(text: &str, databases: &[&ResolvedDatabase]) -> Result<Version, UsageProblem> {
    let number = text.parse::<Version>().ok();
    if let Some(number) = number
        && databases
            .iter()
            .filter_map(|db| context::migrations(db).ok())
            .flatten()
            .any(|m| m.version == number)
    {
        return Ok(number);
    }
    let ids = imported_ids(databases).map_err(|message| UsageProblem {
        argument: Some("--to"),
        message,
    })?;
    match (ids.get(text), number) {
        (Some(version), _) => Ok(*version),
        (None, Some(number)) => Ok(number),
        (None, None) => version(text, databases),
    }
}

/// The version `text` names among `databases`' migrations: the version itself, or the
/// only one it begins; else an id another tool gave the migration (an Alembic revision,
/// `skein-import.toml`), or the only one it begins.
pub fn version(text: &str, databases: &[&ResolvedDatabase]) -> Result<Version, UsageProblem> {
    let problem = |message: String| UsageProblem {
        argument: Some("TARGET"),
        message,
    };
    if text.is_empty() {
        return Err(problem(
            "the target is empty: give head, base, +N, -N, or a version (or the start of one)"
                .to_owned(),
        ));
    }
    let mut versions: Vec<Version> = databases
        .iter()
        .filter_map(|db| context::migrations(db).ok())
        .flatten()
        .filter(|m| !m.repeatable)
        .map(|m| m.version)
        .collect();
    versions.sort_unstable();
    versions.dedup();
    let digits = text.bytes().all(|b| b.is_ascii_digit());
    if digits
        && let Ok(exact) = text.parse::<Version>()
        && versions.contains(&exact)
    {
        return Ok(exact);
    }
    let ids = imported_ids(databases).map_err(problem)?;
    if let Some(version) = ids.get(text) {
        return Ok(*version);
    }
    let mut matching: Vec<(String, Version)> = Vec::new();
    if digits {
        matching.extend(
            versions
                .iter()
                .filter(|v| v.to_string().starts_with(text))
                .map(|v| (v.to_string(), *v)),
        );
    }
    matching.extend(
        ids.iter()
            .filter(|(id, _)| id.starts_with(text))
            .map(|(id, v)| (format!("{id} ({v})"), *v)),
    );
    matching.sort_by_key(|(_, v)| *v);
    matching.dedup_by_key(|(_, v)| *v);
    match matching.as_slice() {
        [(_, one)] => Ok(*one),
        [] if !digits && ids.is_empty() => Err(problem(format!(
            "`{text}` is not a target: give head, base, +N, -N, or a version (or the start of one)"
        ))),
        [] => Err(problem(format!(
            "no migration's version (or imported id) is or begins with `{text}`; `skein history` lists the versions"
        ))),
        many => Err(problem(format!(
            "`{text}` begins {} {} ({}{}): give more of it",
            many.len(),
            match ids.is_empty() {
                true => "versions",
                false => "migrations",
            },
            many.iter()
                .take(5)
                .map(|(name, _)| name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if many.len() > 5 { ", ..." } else { "" }
        ))),
    }
}

/// The ids other tools gave the databases' migrations, from their import maps; one id
/// that two databases map to different versions is refused.
fn imported_ids(databases: &[&ResolvedDatabase]) -> Result<BTreeMap<String, Version>, String> {
    let mut ids: BTreeMap<String, Version> = BTreeMap::new();
    for db in databases {
        let map = crate::import_map::of_database(db).map_err(|e| e.to_string())?;
        for (id, version) in map.versions {
            match ids.get(&id) {
                Some(other) if *other != version => {
                    return Err(format!(
                        "`{id}` is version {other} in one database's import map and {version} in `{}`'s: name the database with --db",
                        db.name
                    ));
                }
                _ => {
                    ids.insert(id, version);
                }
            }
        }
    }
    Ok(ids)
}

fn count_of(text: &str, form: &str) -> Result<u32, UsageProblem> {
    text.parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| UsageProblem {
            argument: Some("TARGET"),
            message: format!("`{text}` in {form} is not a count of migrations (1 or more)"),
        })
}
