//! The lint corpus (tests/fixtures/lint): every rule, positive and negative cases, on each
//! backend. Each file says with `-- expect: RULE` before a statement which rules fire
//! there; every finding must be expected, at the statement's line and column 1, and
//! every expectation found.

use skein_core::checksum::Checksum;
use skein_core::dialect::Dialect;
use skein_core::lint::{Lint, lint};
use skein_core::migration::{Migration, Script};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// `(line, rule)` for every `-- expect:` marker: the line is the next statement's.
fn expected(text: &str) -> BTreeSet<(usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = BTreeSet::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(rules) = line.trim().strip_prefix("-- expect:") else {
            continue;
        };
        let statement = lines[index + 1..]
            .iter()
            .position(|l| {
                let l = l.trim();
                !l.is_empty() && !l.starts_with("--")
            })
            .map(|offset| index + 1 + offset + 1)
            .expect("an expectation is followed by a statement");
        for rule in rules.split(',') {
            out.insert((statement, rule.trim().to_owned()));
        }
    }
    out
}

fn check(dialect: Dialect, folder: &str) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lint")
        .join(folder);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{}", dir.display());
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let migration = Migration {
            version: 1,
            description: "corpus".to_owned(),
            up: Script::new(file.clone(), text.clone()).unwrap(),
            down: None,
            checksum: Checksum::of_normalised(&text),
            repeatable: false,
        };
        let all = [migration];
        let outcome = lint(&Lint {
            dialect,
            migrations: vec![&all[0]],
            all: &all,
            session_lock_timeout: false,
            live: Default::default(),
        });
        let found: BTreeSet<(usize, String)> = outcome
            .findings
            .iter()
            .map(|f| {
                assert_eq!(f.column, 1, "{}: {f:?}", file.display());
                assert_eq!(f.file, file);
                (f.line, f.rule.id().to_owned())
            })
            .collect();
        let wanted = expected(&text);
        assert_eq!(
            found,
            wanted,
            "{}: found (left) and expected (right) differ",
            file.display()
        );
        checked += wanted.len();
    }
    checked
}

#[test]
fn every_postgres_rule_fires_exactly_where_the_corpus_says() {
    assert!(check(Dialect::Postgres, "postgres") >= 24);
}

#[test]
fn every_mysql_rule_fires_exactly_where_the_corpus_says() {
    assert!(check(Dialect::MySql, "mysql") >= 8);
}

#[test]
fn every_sqlite_rule_fires_exactly_where_the_corpus_says() {
    assert!(check(Dialect::Sqlite, "sqlite") >= 6);
}

#[test]
fn the_corpus_covers_every_statement_rule() {
    let mut seen = BTreeSet::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint");
    for folder in ["postgres", "mysql", "sqlite"] {
        for entry in std::fs::read_dir(root.join(folder)).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            seen.extend(expected(&text).into_iter().map(|(_, rule)| rule));
        }
    }
    // missing-down is about a file's neighbours and template-placeholder about a model
    // template's text, not a statement: the lint unit tests and the command's tests
    // (hardening_templates) cover them.
    use skein_core::lint::rules::Rule;
    for rule in skein_core::lint::rules::ALL {
        if !matches!(rule, Rule::MissingDown | Rule::TemplatePlaceholder) {
            assert!(seen.contains(rule.id()), "no corpus case for {}", rule.id());
        }
    }
}
