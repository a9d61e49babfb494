//! One migration: its version, description, up and down scripts and checksum.

use crate::checksum::Checksum;
use crate::error::SourceError;
use std::path::PathBuf;

/// A migration version: a positive integer, by convention the UTC time it was written.
pub type Version = i64;

/// A migration as it is on disk (or in memory).
#[derive(Debug, Clone)]
pub struct Migration {
    pub version: Version,
    pub description: String,
    pub up: Script,
    /// `None` for an irreversible migration (a plain `<version>_<name>.sql`, or an up without down).
    pub down: Option<Script>,
    /// Checksum of the up script: what was applied.
    pub checksum: Checksum,
    /// A repeatable migration (a file of the `repeatable/` folder): no version of its own
    /// (`version` is [`repeatable_version`] of its name), applied after the versioned ones
    /// whenever its checksum changes, never reverted.
    pub repeatable: bool,
}

impl Migration {
    /// The file a step in `direction` runs: its down file may be missing.
    pub fn script(&self, direction: crate::plan::Direction) -> Option<&Script> {
        match direction {
            crate::plan::Direction::Up => Some(&self.up),
            crate::plan::Direction::Down => self.down.as_ref(),
        }
    }

    /// The kind its history row has.
    pub fn kind(&self) -> crate::history::MigrationKind {
        if self.repeatable {
            crate::history::MigrationKind::Repeatable
        } else {
            crate::history::MigrationKind::Migration
        }
    }
}

/// The history table's key of a repeatable migration named `name`: a negative number
/// derived from the name, so that it never meets a migration's (positive) version and
/// the history table keeps its shape.
pub fn repeatable_version(name: &str) -> Version {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("skein repeatable\0{name}"));
    let bits = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) >> 1;
    -(i64::try_from(bits).expect("63 bits fit") + 1)
}

/// The newest version among `migrations`, repeatable ones left out.
pub fn head(migrations: &[Migration]) -> Option<Version> {
    migrations
        .iter()
        .filter(|m| !m.repeatable)
        .map(|m| m.version)
        .max()
}

/// Whether a history version is a repeatable migration's key.
pub fn is_repeatable_version(version: Version) -> bool {
    version < 0
}

/// The SQL of one direction of a migration.
#[derive(Debug, Clone)]
pub struct Script {
    /// Where the script came from, for messages.
    pub path: PathBuf,
    /// The normalised text (no BOM, LF line endings); positions in errors refer to it.
    pub sql: String,
    /// Run outside a transaction (`-- skein:no-transaction`).
    pub no_transaction: bool,
}

impl Script {
    /// Builds a script from normalised text, reading its directives.
    pub fn new(path: PathBuf, sql: String) -> Result<Self, SourceError> {
        let directives =
            Directives::parse(&sql).map_err(|(line, directive)| SourceError::UnknownDirective {
                path: path.clone(),
                line,
                directive,
            })?;
        Ok(Script {
            path,
            sql,
            no_transaction: directives.no_transaction,
        })
    }

    /// Whether the script was never written: no statement, and the placeholder a tool left
    /// in a new file (`skein new`, `sqlx migrate add`, `diesel migration generate`). An
    /// empty or blank file, or one of comments alone, is a deliberate no-op (say, "nothing
    /// to do on SQLite", or a down file with nothing to undo), and runs, as golang-migrate,
    /// goose, morph and diesel run it. `#` comments are MySQL's.
    pub fn is_unwritten(&self) -> bool {
        // MySQL's rules only matter for `#` comments: no second pass without one.
        let no_statement = crate::split::split(&self.sql).is_empty()
            || (self.sql.contains('#') && crate::split::split_mysql(&self.sql).is_empty());
        if !no_statement {
            return false;
        }
        let comments: Vec<String> = self
            .sql
            .lines()
            .map(|line| {
                line.trim()
                    .trim_start_matches(['-', '#'])
                    .trim()
                    .to_ascii_lowercase()
            })
            .filter(|line| !line.is_empty())
            .collect();
        comments
            .iter()
            .any(|line| PLACEHOLDERS.contains(&line.as_str()))
    }
}

/// The comment lines tools write into a new, unwritten migration file (lower case).
const PLACEHOLDERS: [&str; 6] = [
    "write the migration here, then delete this line.",
    "add migration script here",
    "add up migration script here",
    "add down migration script here",
    "your sql goes here",
    "this file should undo anything in `up.sql`",
];

/// A statement that starts, ends or rolls back a transaction, in a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionControl {
    /// Its first words, as written (`COMMIT`, `START TRANSACTION`).
    pub statement: String,
    /// Its byte offset in the script.
    pub offset: usize,
}

impl Script {
    /// The first statement (outside function bodies and blocks) that controls the
    /// transaction: BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK (but not ROLLBACK TO a
    /// savepoint), ABORT, PREPARE TRANSACTION. Such a statement breaks the transaction skein
    /// runs the file in. `mysql`: the script follows MySQL's rules, where `BEGIN NOT ATOMIC`
    /// opens a block.
    pub fn transaction_control(&self, mysql: bool) -> Option<TransactionControl> {
        let statements = if mysql {
            crate::split::split_mysql(&self.sql)
        } else {
            crate::split::split(&self.sql)
        };
        statements.into_iter().find_map(|statement| {
            let controls = controls_transaction(statement.sql, mysql);
            controls.then(|| TransactionControl {
                statement: statement
                    .sql
                    .split_whitespace()
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" "),
                offset: statement.offset,
            })
        })
    }
}

/// The statement starts, ends or rolls back a transaction: BEGIN, START TRANSACTION,
/// COMMIT, END, ROLLBACK (but not ROLLBACK TO a savepoint), ABORT, PREPARE TRANSACTION.
/// `mysql`: MySQL's `BEGIN NOT ATOMIC` opens a block instead.
pub fn controls_transaction(statement: &str, mysql: bool) -> bool {
    let words: Vec<String> = statement
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .take(3)
        .map(str::to_ascii_uppercase)
        .collect();
    let word = |i: usize| words.get(i).map_or("", String::as_str);
    match word(0) {
        "BEGIN" => !(mysql && word(1) == "NOT"),
        "START" => word(1) == "TRANSACTION",
        "COMMIT" | "END" | "ABORT" => true,
        "ROLLBACK" => !(word(1) == "TO" || word(2) == "TO"),
        "PREPARE" => word(1) == "TRANSACTION",
        _ => false,
    }
}

/// The `-- skein:...` directives at the top of a script.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Directives {
    pub no_transaction: bool,
    /// `-- skein:template`: a file of the database's own folder rendered before it runs,
    /// its `{{ VAR }}` filled from the database's vars or else the environment.
    pub template: bool,
}

impl Directives {
    /// Reads the comment lines before the first statement. An unknown `skein:` directive is
    /// an error (line, directive) so that a typo never silently changes how a file runs.
    pub fn parse(sql: &str) -> Result<Self, (usize, String)> {
        let mut directives = Directives::default();
        for (index, line) in sql.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let Some(comment) = line.strip_prefix("--") else {
                break;
            };
            if is_foreign_no_transaction(comment) {
                directives.no_transaction = true;
                continue;
            }
            let Some(directive) = comment.trim().strip_prefix("skein:") else {
                continue;
            };
            match directive.trim() {
                "no-transaction" => directives.no_transaction = true,
                "template" => directives.template = true,
                // Read by `skein lint`, before the statement it is about.
                d if d.starts_with("lint-ignore") => {}
                other => return Err((index + 1, format!("skein:{other}"))),
            }
        }
        Ok(directives)
    }
}

/// The no-transaction markers of other tools, so that their migrations run as they were
/// written: sqlx `-- no-transaction`, dbmate `-- migrate:up transaction:false`, goose
/// `-- +goose NO TRANSACTION`, morph `-- morph:nontransactional`, atlas
/// `-- atlas:txmode none`. `comment` is the line after its `--`.
fn is_foreign_no_transaction(comment: &str) -> bool {
    let words: Vec<String> = comment
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    matches!(
        words.as_slice(),
        ["no-transaction"]
            | ["+goose", "no", "transaction"]
            | ["morph:nontransactional"]
            | ["atlas:txmode", "none"]
    ) || (words.first() == Some(&"migrate:up") && words.contains(&"transaction:false"))
}

/// A description as a file name's part: `Add trades index!` -> `add_trades_index`, at most
/// 60 characters (empty when it has no letter or digit).
pub fn slug(description: &str) -> String {
    let mut slug = String::new();
    for c in description.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('_') {
            slug.push('_');
        }
    }
    slug.trim_end_matches('_').chars().take(60).collect()
}

/// What a migration file's name says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    pub version: Version,
    pub description: String,
    pub kind: FileKind,
}

/// The three kinds of migration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `<version>_<name>.up.sql`
    Up,
    /// `<version>_<name>.down.sql`
    Down,
    /// `<version>_<name>.sql`: up only, irreversible.
    Irreversible,
}

impl FileName {
    /// Parses a file name; `Err` carries the reason it is not a migration name.
    pub fn parse(name: &str) -> Result<Self, &'static str> {
        let (stem, kind) = if let Some(stem) = name.strip_suffix(".up.sql") {
            (stem, FileKind::Up)
        } else if let Some(stem) = name.strip_suffix(".down.sql") {
            (stem, FileKind::Down)
        } else if let Some(stem) = name.strip_suffix(".sql") {
            (stem, FileKind::Irreversible)
        } else {
            return Err("a migration file ends in .up.sql, .down.sql or .sql");
        };
        let (version, description) = stem
            .split_once('_')
            .ok_or("a migration file is named <version>_<description>")?;
        if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
            return Err("the version (before the first `_`) must be digits");
        }
        let version: Version = version
            .parse()
            .map_err(|_| "the version does not fit in a 64-bit integer")?;
        if version <= 0 {
            return Err("the version must be a positive integer");
        }
        if description.is_empty() {
            return Err("the description (after the first `_`) is empty");
        }
        Ok(FileName {
            version,
            description: description.replace('_', " "),
            kind,
        })
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // test tables read best inline
mod tests {
    use super::*;

    fn control(sql: &str, mysql: bool) -> Option<String> {
        Script::new("t.sql".into(), sql.to_owned())
            .unwrap()
            .transaction_control(mysql)
            .map(|c| format!("{}@{}", c.statement, c.offset))
    }

    #[test]
    fn unwritten_files_are_told_from_deliberate_no_ops() {
        let unwritten = |sql: &str| {
            Script::new("t.sql".into(), sql.to_owned())
                .unwrap()
                .is_unwritten()
        };
        for sql in [
            "-- Add migration script here\n",
            "-- Your SQL goes here\n",
            "-- add trades index (up)\n-- Write the migration here, then delete this line.\n",
        ] {
            assert!(unwritten(sql), "{sql:?}");
        }
        for sql in [
            "",
            " \n\n",
            "-- Integer size in SQLite is already i64, so we don't need to do anything\n",
            "SELECT 1;",
            "-- Add migration script here\nCREATE TABLE t (id int);",
        ] {
            assert!(!unwritten(sql), "{sql:?}");
        }
    }

    #[test]
    fn transaction_control_outside_bodies_is_found() {
        assert_eq!(
            control("BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;", false).as_deref(),
            Some("BEGIN@0")
        );
        assert_eq!(
            control("CREATE TABLE a (id int);\ncommit;", false).as_deref(),
            Some("commit@25")
        );
        assert_eq!(
            control("SELECT 1;\nSTART TRANSACTION;", false).as_deref(),
            Some("START TRANSACTION@10")
        );
        assert!(control("SELECT 1;\nEND;", false).is_some());
        assert!(control("SELECT 1;\nABORT;", false).is_some());
        assert!(control("SELECT 1;\nROLLBACK;", false).is_some());
        assert!(
            control(
                "SAVEPOINT s;\nROLLBACK TO SAVEPOINT s;\nROLLBACK TRANSACTION TO s;",
                false
            )
            .is_none()
        );
        let body = "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$;\n\
                    DO $$ BEGIN PERFORM 1; END $$;\n\
                    CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;";
        assert_eq!(control(body, false), None);
        assert_eq!(control("BEGIN NOT ATOMIC SELECT 1; END;", true), None);
        assert!(control("BEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;", true).is_some());
        assert_eq!(
            control("-- begin here\nCREATE TABLE begin_log (id int);", false),
            None
        );
    }

    #[test]
    fn file_names() {
        let cases: &[(&str, Result<(i64, &str, FileKind), ()>)] = &[
            (
                "20240101120000_create_users.up.sql",
                Ok((20240101120000, "create users", FileKind::Up)),
            ),
            ("1_init.down.sql", Ok((1, "init", FileKind::Down))),
            ("0002_seed.sql", Ok((2, "seed", FileKind::Irreversible))),
            ("0_zero.sql", Err(())),
            ("v1_init.sql", Err(())),
            ("1.sql", Err(())),
            ("1_.sql", Err(())),
            ("1_init.txt", Err(())),
            ("99999999999999999999_big.sql", Err(())),
        ];
        for (name, expected) in cases {
            let got = FileName::parse(name)
                .map(|f| (f.version, f.description.clone(), f.kind))
                .map_err(|_| ());
            let expected = expected.map(|(v, d, k)| (v, d.to_owned(), k));
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn directives_are_read_from_the_leading_comments_only() {
        let parse = |s: &str| Directives::parse(s).map(|d| d.no_transaction);
        assert_eq!(
            parse("-- skein:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);"),
            Ok(true)
        );
        assert_eq!(
            parse("\n-- about this file\n--skein:no-transaction\nSELECT 1;"),
            Ok(true)
        );
        assert_eq!(parse("SELECT 1;\n-- skein:no-transaction\n"), Ok(false));
        assert_eq!(
            parse("-- skein:no-transactoin\nSELECT 1;"),
            Err((1, "skein:no-transactoin".to_owned()))
        );
    }

    #[test]
    fn other_tools_no_transaction_markers_are_honoured() {
        let parse = |s: &str| Directives::parse(s).map(|d| d.no_transaction);
        for marker in [
            "-- no-transaction",
            "-- migrate:up transaction:false",
            "-- +goose NO TRANSACTION",
            "-- morph:nontransactional",
            "-- atlas:txmode none",
        ] {
            assert_eq!(
                parse(&format!("{marker}\nCREATE INDEX CONCURRENTLY i ON t (a);")),
                Ok(true),
                "{marker}"
            );
        }
        for not_a_marker in [
            "-- no transaction here, just prose",
            "-- migrate:up",
            "-- atlas:txmode file",
        ] {
            assert_eq!(
                parse(&format!("{not_a_marker}\nSELECT 1;")),
                Ok(false),
                "{not_a_marker}"
            );
        }
        assert_eq!(parse("SELECT 1;\n-- no-transaction\n"), Ok(false));
    }
}
