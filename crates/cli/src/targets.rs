//! Alembic-style targets for `up`, `down` and `show`: `head`, `base`, `+N`, `-N`, and a
//! version or a unique prefix of one, found among the selected databases' migrations.

use crate::context;
use crate::preflight::UsageProblem;
use skein_config::ResolvedDatabase;
use skein_core::Version;
use skein_core::plan::{DownTarget, Target};

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

/// The version `text` names among `databases`' migrations: the version itself, or the
/// only one it begins.
pub fn version(text: &str, databases: &[&ResolvedDatabase]) -> Result<Version, UsageProblem> {
    let problem = |message: String| UsageProblem {
        argument: Some("TARGET"),
        message,
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(problem(format!(
            "`{text}` is not a target: give head, base, +N, -N, or a version (or the start of one)"
        )));
    }
    let mut versions: Vec<Version> = databases
        .iter()
        .filter_map(|db| context::migrations(db).ok())
        .flatten()
        .map(|m| m.version)
        .collect();
    versions.sort_unstable();
    versions.dedup();
    if let Ok(exact) = text.parse::<Version>()
        && versions.contains(&exact)
    {
        return Ok(exact);
    }
    let matching: Vec<Version> = versions
        .into_iter()
        .filter(|v| v.to_string().starts_with(text))
        .collect();
    match matching.as_slice() {
        [one] => Ok(*one),
        [] => Err(problem(format!(
            "no migration's version is or begins with `{text}`; `skein history` lists the versions"
        ))),
        many => Err(problem(format!(
            "`{text}` begins {} versions ({}{}): give more of it",
            many.len(),
            many.iter()
                .take(5)
                .map(Version::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            if many.len() > 5 { ", ..." } else { "" }
        ))),
    }
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
