//! Renders a plan as one SQL script a DBA can review and run with psql (or sqlite3, or
//! the mysql client): the
//! history table's DDL, then each step with the statements that record it, so running
//! the script leaves the same schema and history as `up`.

use crate::dialect::{Dialect, HistoryValues};
use crate::history::HistoryTable;
use crate::migration::{Migration, Script};
use crate::plan::{Direction, Plan};
use std::fmt::Write as _;

/// The script for `plan`, against `migrations` (the files the plan was made from).
pub fn render(
    plan: &Plan,
    migrations: &[Migration],
    dialect: Dialect,
    table: &HistoryTable,
    applied_by: &str,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "-- skein: {} step(s), version {} -> {}",
        plan.steps.len(),
        version_text(plan.version_before),
        version_text(plan.version_after)
    );
    out.push_str(dialect.backend().script_preamble());
    for statement in dialect.create_history(table) {
        let _ = writeln!(out, "{statement};");
    }
    for step in &plan.steps {
        let Some(migration) = migrations.iter().find(|m| m.version == step.version) else {
            continue;
        };
        let script = match step.direction {
            Direction::Up => &migration.up,
            Direction::Down => match &migration.down {
                Some(down) => down,
                None => continue,
            },
        };
        let heading = match step.repeatable {
            true => format!("repeatable {}", step.description),
            false => format!("{} {}", step.version, step.description),
        };
        let _ = writeln!(
            out,
            "\n-- {} ({})",
            comment(&heading),
            comment(&script.path.display().to_string())
        );
        let version = step.version;
        let insert = |success: bool| {
            let row = HistoryValues {
                version,
                description: &migration.description,
                checksum: migration.checksum.as_str(),
                kind: migration.kind().as_str(),
                applied_by,
                success,
            };
            format!("{};\n", dialect.insert_history_literal(table, row))
        };
        let delete = format!("{};\n", dialect.delete_history_literal(table, version));
        let finish = format!("{};\n", dialect.finish_literal(table, version));
        let reverting = format!("{};\n", dialect.reverting_literal(table, version));
        match (step.direction, step.transactional) {
            (Direction::Up, true) => {
                out.push_str("BEGIN;\n");
                push_statements(&mut out, script, dialect);
                out.push_str(&insert(true));
                out.push_str("COMMIT;\n");
            }
            (Direction::Up, false) => {
                out.push_str(&insert(false));
                push_statements(&mut out, script, dialect);
                out.push_str(&finish);
            }
            (Direction::Down, true) => {
                out.push_str("BEGIN;\n");
                push_statements(&mut out, script, dialect);
                out.push_str(&delete);
                out.push_str("COMMIT;\n");
            }
            (Direction::Down, false) => {
                out.push_str(&reverting);
                push_statements(&mut out, script, dialect);
                out.push_str(&delete);
            }
        }
    }
    out
}

fn push_statements(out: &mut String, script: &Script, dialect: Dialect) {
    let backend = dialect.backend();
    for statement in backend.split(&script.sql) {
        out.push_str(&backend.script_statement(statement.sql));
    }
}

/// Text for a `--` comment: a control character (a newline above all, which would end the
/// comment and make the rest of a file name a statement) written as an escape.
pub fn comment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn version_text(version: Option<i64>) -> String {
    version.map_or_else(|| "base".to_owned(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::Script;
    use crate::plan::Step;
    use std::path::PathBuf;

    #[test]
    fn a_file_name_cannot_end_a_comment_and_become_a_statement() {
        let path = PathBuf::from("db/2_b\nDROP TABLE t;.sql");
        let migration = Migration {
            version: 2,
            description: "b\nDROP TABLE t;".to_owned(),
            up: Script::new(path.clone(), "SELECT 1;\n".to_owned()).unwrap(),
            down: None,
            checksum: crate::checksum::Checksum::of_normalised("SELECT 1;\n"),
            repeatable: false,
        };
        let plan = Plan {
            version_before: None,
            version_after: Some(2),
            steps: vec![Step {
                version: 2,
                description: migration.description.clone(),
                direction: Direction::Up,
                file: path,
                transactional: true,
                repeatable: false,
            }],
        };
        let script = render(
            &plan,
            &[migration],
            Dialect::Postgres,
            &HistoryTable::default(),
            "me",
        );
        let statements: Vec<&str> = script
            .lines()
            .filter(|line| line.starts_with("DROP TABLE t; ("))
            .collect();
        assert!(statements.is_empty(), "{script}");
        assert!(
            script.contains("-- 2 b\\nDROP TABLE t; (db/2_b\\nDROP TABLE t;.sql)"),
            "{script}"
        );
    }
}
