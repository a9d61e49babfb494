//! `import --from alembic`: an Alembic project's revisions as skein migrations. The
//! project's own `alembic` writes each revision's SQL in offline mode (`upgrade
//! <down>:<rev> --sql` and `downgrade <rev>:<down> --sql`); its `alembic_version`
//! bookkeeping and transaction lines are left out. Versions follow the revisions' order,
//! from their Create Date where they have one, made strictly increasing.

use anyhow::{Context as _, bail};
use skein_core::import::{Import, Imported};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// One revision, as `alembic history --verbose` tells it.
#[derive(Debug, Clone, Default)]
struct Revision {
    id: String,
    parents: Vec<String>,
    message: String,
    /// `YYYYMMDDHHMMSS` from the Create Date line.
    created: Option<i64>,
}

/// Imports the Alembic project in `project` with the `alembic` command `alembic`.
pub fn import(project: &Path, alembic: &str) -> anyhow::Result<Import> {
    if !project.join("alembic.ini").is_file() {
        bail!(
            "{} has no alembic.ini; give the folder of the Alembic project",
            project.display()
        );
    }
    let history = run(project, alembic, &["history", "--verbose"])?;
    let revisions = linear(parse_history(&history))?;
    refuse_merges(&revisions)?;
    let mut migrations = Vec::new();
    let mut previous: i64 = 0;
    for revision in &revisions {
        let down = revision.parents.first().map_or("base", String::as_str);
        let up_sql = statements(&run(
            project,
            alembic,
            &["upgrade", &format!("{down}:{}", revision.id), "--sql"],
        )?);
        let down_sql = statements(&run(
            project,
            alembic,
            &["downgrade", &format!("{}:{down}", revision.id), "--sql"],
        )?);
        let version = revision
            .created
            .filter(|&v| v > previous)
            .unwrap_or(previous + 1);
        previous = version;
        let slug = skein_core::migration::slug(&revision.message);
        let stem = format!(
            "{version}_{}",
            if slug.is_empty() { "revision" } else { &slug }
        );
        let header = |direction: &str| {
            format!(
                "-- Alembic revision {} ({direction}): {}\n",
                revision.id, revision.message
            )
        };
        migrations.push(Imported {
            id: revision.id.clone(),
            version,
            files: vec![
                (format!("{stem}.up.sql"), header("upgrade") + &up_sql),
                (format!("{stem}.down.sql"), header("downgrade") + &down_sql),
            ],
            sources: Vec::new(),
        });
    }
    let files = migrations
        .iter()
        .flat_map(|m| m.files.iter().map(|(n, t)| (n.clone(), t.clone())));
    use skein_core::source::MigrationSource as _;
    skein_core::source::MemorySource::new(files)
        .load()
        .context("the SQL alembic wrote does not load as skein migrations")?;
    Ok(Import {
        migrations,
        skipped: Vec::new(),
        compatible: false,
    })
}

/// A merge revision's offline SQL (`<one parent>:<merge>`) would repeat the other
/// branch's: such a project is refused, naming the merge, before anything is written.
fn refuse_merges(revisions: &[Revision]) -> anyhow::Result<()> {
    if let Some(merge) = revisions.iter().find(|r| r.parents.len() > 1) {
        bail!(
            "revision {} merges {}; skein cannot yet write a merge revision's SQL without repeating a branch's, so the project is not imported (nothing was written)",
            merge.id,
            merge.parents.join(" and ")
        );
    }
    Ok(())
}

/// Runs `alembic args` in the project; its stdout, or an error with its stderr.
fn run(project: &Path, alembic: &str, args: &[&str]) -> anyhow::Result<String> {
    let mut words = alembic.split_whitespace();
    let program = words.next().context("--alembic is empty")?;
    let output = Command::new(program)
        .args(words)
        .args(args)
        .current_dir(project)
        .output()
        .with_context(|| {
            format!(
                "cannot run `{alembic}`: install Alembic (pip install alembic) in the project's environment, or give the command with --alembic CMD"
            )
        })?;
    if !output.status.success() {
        bail!(
            "`{alembic} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The revisions of `alembic history --verbose`: blocks that start with `Rev: <id>`.
fn parse_history(text: &str) -> Vec<Revision> {
    let mut revisions = Vec::new();
    let mut current: Option<Revision> = None;
    let mut expect_message = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("Rev: ") {
            revisions.extend(current.take());
            let id = rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            current = Some(Revision {
                id,
                ..Revision::default()
            });
            continue;
        }
        let Some(revision) = current.as_mut() else {
            continue;
        };
        if let Some(rest) = trimmed
            .strip_prefix("Parent: ")
            .or_else(|| trimmed.strip_prefix("Merges: "))
        {
            revision.parents = rest
                .split(',')
                .map(|p| p.trim().trim_matches(|c| c == '(' || c == ')').to_owned())
                .filter(|p| !p.is_empty() && p != "<base>")
                .collect();
        } else if trimmed.starts_with("Path: ") {
            expect_message = true;
        } else if let Some(date) = trimmed.strip_prefix("Create Date: ") {
            let digits: String = date.chars().filter(char::is_ascii_digit).take(14).collect();
            revision.created = (digits.len() == 14).then(|| digits.parse().ok()).flatten();
        } else if expect_message && !trimmed.is_empty() {
            revision.message = trimmed.to_owned();
            expect_message = false;
        }
    }
    revisions.extend(current);
    revisions
}

/// The revisions from base to head, each after its parents (a merge after all of them).
/// Several heads are refused, naming them.
fn linear(revisions: Vec<Revision>) -> anyhow::Result<Vec<Revision>> {
    if revisions.is_empty() {
        bail!("alembic history lists no revision");
    }
    let ids: BTreeSet<&str> = revisions.iter().map(|r| r.id.as_str()).collect();
    let parents: BTreeSet<&str> = revisions
        .iter()
        .flat_map(|r| r.parents.iter().map(String::as_str))
        .collect();
    let heads: Vec<&str> = ids.difference(&parents).copied().collect();
    if heads.len() > 1 {
        bail!(
            "the Alembic project has {} heads ({}); merge them (`alembic merge`) first",
            heads.len(),
            heads.join(", ")
        );
    }
    let by_id: BTreeMap<&str, &Revision> = revisions.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut ordered = Vec::new();
    while ordered.len() < revisions.len() {
        // The ready revision with the earliest date (then id), so branches interleave by time.
        let next = revisions
            .iter()
            .filter(|r| !done.contains(r.id.as_str()))
            .filter(|r| {
                r.parents
                    .iter()
                    .all(|p| done.contains(p.as_str()) || !by_id.contains_key(p.as_str()))
            })
            .min_by_key(|r| (r.created, r.id.clone()))
            .context("the Alembic revisions form a cycle")?;
        done.insert(next.id.as_str());
        ordered.push(next.clone());
    }
    Ok(ordered)
}

/// The statements of alembic's offline SQL, without its transaction lines and its
/// `alembic_version` bookkeeping. A COMMIT before the end is an `autocommit_block()`:
/// the file then runs outside a transaction, as alembic ran it.
fn statements(sql: &str) -> String {
    let all: Vec<&str> = skein_core::split::split(sql)
        .into_iter()
        .map(|s| s.sql)
        .collect();
    let is = |statement: &str, word: &str| {
        statement
            .split_whitespace()
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
    };
    let last_commit = all.iter().rposition(|s| is(s, "COMMIT"));
    let autocommit = all
        .iter()
        .enumerate()
        .any(|(i, s)| is(s, "COMMIT") && Some(i) != last_commit);
    let kept: Vec<&str> = all
        .into_iter()
        .filter(|s| !is(s, "BEGIN") && !is(s, "COMMIT") && !is_bookkeeping(s))
        .collect();
    let mut out = String::new();
    if autocommit {
        out.push_str("-- skein:no-transaction\n");
    }
    if kept.is_empty() {
        out.push_str("-- nothing to do\n");
    } else {
        out.push_str(
            &kept
                .iter()
                .map(|s| format!("{s};\n"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    out
}

/// A statement on alembic's own table: its creation, and the rows it keeps.
fn is_bookkeeping(statement: &str) -> bool {
    let words: Vec<String> = statement
        .split_whitespace()
        .take(3)
        .map(|w| w.to_ascii_uppercase())
        .collect();
    let target = |i: usize| {
        words
            .get(i)
            .is_some_and(|w| w.trim_matches('"').eq_ignore_ascii_case("ALEMBIC_VERSION"))
    };
    match words.first().map(String::as_str) {
        Some("CREATE" | "DROP") => words.get(1).is_some_and(|w| w == "TABLE") && target(2),
        Some("INSERT" | "DELETE") => target(2),
        Some("UPDATE") => target(1),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_parsed_and_ordered_from_base() {
        let text = "Rev: bbb222 (head)\nParent: aaa111\nPath: /p/b.py\n\n    add status enum\n    \n    Revision ID: bbb222\n    Revises: aaa111\n    Create Date: 2024-03-02 10:00:00.000000\n\nRev: aaa111\nParent: <base>\nPath: /p/a.py\n\n    create users\n\n    Revision ID: aaa111\n    Create Date: 2024-03-01 09:30:00.000000\n";
        let revisions = linear(parse_history(text)).unwrap();
        let ids: Vec<&str> = revisions.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["aaa111", "bbb222"]);
        assert_eq!(revisions[0].created, Some(20240301093000));
        assert_eq!(revisions[1].message, "add status enum");
        assert!(revisions[0].parents.is_empty());
    }

    #[test]
    fn a_merge_revision_is_refused_naming_it() {
        let text = "Rev: m4 (head) (mergepoint)\nMerges: b2, c3\nRev: c3\nParent: a1\nRev: b2\nParent: a1\nRev: a1\nParent: <base>\n";
        let revisions = linear(parse_history(text)).unwrap();
        let err = refuse_merges(&revisions).unwrap_err().to_string();
        assert!(err.contains("revision m4 merges b2 and c3"), "{err}");
    }

    #[test]
    fn two_heads_are_refused_naming_them() {
        let text = "Rev: b\nParent: a\nRev: c\nParent: a\nRev: a\nParent: <base>\n";
        let err = linear(parse_history(text)).unwrap_err().to_string();
        assert!(err.contains("2 heads (b, c)"), "{err}");
    }

    #[test]
    fn bookkeeping_and_transaction_lines_are_left_out() {
        let sql = "BEGIN;\n\nCREATE TABLE alembic_version (\n version_num VARCHAR(32) NOT NULL\n);\n\n-- Running upgrade  -> a\n\nCREATE TABLE users (id SERIAL NOT NULL);\n\nINSERT INTO alembic_version (version_num) VALUES ('a') RETURNING alembic_version.version_num;\n\nCOMMIT;\n";
        assert_eq!(
            statements(sql),
            "CREATE TABLE users (id SERIAL NOT NULL);\n"
        );
        assert_eq!(
            statements("BEGIN;\nUPDATE alembic_version SET version_num='b';\nCOMMIT;\n"),
            "-- nothing to do\n"
        );
    }

    #[test]
    fn a_statement_that_only_mentions_the_version_table_stays() {
        let kept =
            statements("BEGIN;\nINSERT INTO notes VALUES ('from alembic_version 0.9');\nCOMMIT;\n");
        assert_eq!(
            kept,
            "INSERT INTO notes VALUES ('from alembic_version 0.9');\n"
        );
    }

    #[test]
    fn an_autocommit_block_runs_the_file_outside_a_transaction() {
        let block = statements(
            "BEGIN;\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON t (a);\nBEGIN;\nUPDATE alembic_version SET version_num='c';\nCOMMIT;\n",
        );
        assert_eq!(
            block,
            "-- skein:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n"
        );
        assert!(!statements("BEGIN;\nSELECT 1;\nCOMMIT;\n").contains("no-transaction"));
    }
}
