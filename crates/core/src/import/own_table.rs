//! Migrations that touch their tool's own history table. golang-migrate makes
//! `schema_migrations` before it runs the first migration, so a project may alter it (Harbor
//! adds a column its application reads). Under skein nothing makes that table, so the
//! import makes it: the first migration begins by creating it in the tool's shape, if it
//! is not there yet.

use super::Found;
use crate::split::split;
use crate::tools::ToolDef;

/// When a migration refers to the tool's own table and none creates it, the first
/// migration (in version order) is made to create it; a note says so.
pub(super) fn provide(tool: &ToolDef, found: &mut [(Found, i64)], notes: &mut Vec<String>) {
    let Some((table, create)) = tool.own_table else {
        return;
    };
    let mut users = Vec::new();
    for (f, version) in found.iter() {
        let texts = std::iter::once(&f.up).chain(f.down.as_ref());
        let mut refers = false;
        for text in texts {
            for statement in split(text) {
                if creates(statement.sql, table) {
                    return;
                }
                refers |= names(statement.sql, table);
            }
        }
        if refers {
            users.push(format!("{version} ({})", f.id));
        }
    }
    let Some((first, version)) = found.iter_mut().min_by_key(|(_, v)| *v) else {
        return;
    };
    if users.is_empty() {
        return;
    }
    let tool_name = tool.name;
    first.up = format!(
        "-- Made by skein import: {tool_name} makes {table} before its first migration, and {} use it.\n{create}\n\n{}",
        users.join(", "),
        first.up
    );
    notes.push(format!(
        "{} refer to {tool_name}'s own table {table}, which {tool_name} makes before any migration runs: the first migration ({version}, {}) now begins by creating it as {tool_name} does (if it is not there), so that they run on an empty database and in a scratch replay",
        users.join(", "),
        first.id
    ));
}

/// The words of a statement outside its quoted strings, lower-cased.
fn words(statement: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    for c in statement.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' => quote = Some(c),
            None if c.is_alphanumeric() || c == '_' => word.push(c.to_ascii_lowercase()),
            None => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

fn names(statement: &str, table: &str) -> bool {
    words(statement).iter().any(|w| w == table)
}

/// `CREATE TABLE [IF NOT EXISTS] [schema.]table`.
fn creates(statement: &str, table: &str) -> bool {
    let tokens: Vec<String> = statement
        .split(|c: char| c.is_whitespace() || c == '(')
        .filter(|t| !t.is_empty())
        .take(6)
        .map(str::to_ascii_lowercase)
        .collect();
    let name = match tokens
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["create", "table", "if", "not", "exists", name, ..] | ["create", "table", name, ..] => {
            name.to_string()
        }
        _ => return false,
    };
    let last = name.rsplit('.').next().unwrap_or(&name);
    last.trim_matches(|c| c == '"' || c == '`') == table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(id: &str, up: &str) -> Found {
        Found {
            id: id.to_owned(),
            parts: vec![],
            description: String::new(),
            up: up.to_owned(),
            down: None,
            no_transaction: false,
            down_no_transaction: false,
            sources: vec![],
        }
    }

    #[test]
    fn a_migration_that_alters_the_tools_table_gets_it_made_first() {
        let mut all = vec![
            (
                found(
                    "0030_2.0.0_schema",
                    "ALTER TABLE schema_migrations ADD COLUMN data_version int;\n",
                ),
                30,
            ),
            (
                found("0001_initial_schema", "CREATE TABLE project (id int);\n"),
                1,
            ),
        ];
        let mut notes = Vec::new();
        provide(
            crate::tools::Tool::GolangMigrate.def(),
            &mut all,
            &mut notes,
        );
        assert!(all[1].0.up.contains("CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);"));
        assert!(all[1].0.up.ends_with("CREATE TABLE project (id int);\n"));
        assert!(notes[0].contains("30 (0030_2.0.0_schema)"), "{notes:?}");
    }

    #[test]
    fn a_mention_in_a_string_or_a_project_that_makes_the_table_itself_is_left_alone() {
        for up in [
            "INSERT INTO notes VALUES ('see schema_migrations');\n",
            "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint);\nALTER TABLE schema_migrations ADD COLUMN x int;\n",
        ] {
            let mut all = vec![(found("1_a", up), 1)];
            let mut notes = Vec::new();
            provide(
                crate::tools::Tool::GolangMigrate.def(),
                &mut all,
                &mut notes,
            );
            assert_eq!(all[0].0.up, up);
            assert!(notes.is_empty());
        }
    }
}
