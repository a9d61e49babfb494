//! Hand-made runners: a folder of `<version>_<name>.sql` files (or `up/` and `down/`
//! folders of them) that a script runs in name order, recording each file's name in a
//! `schema_migrations` table. Such files often carry the runner's own wrapping, an outer
//! `BEGIN; ... COMMIT;` and an `INSERT INTO schema_migrations ...`: both are taken out,
//! so that the file runs in skein's transaction and skein's history is the only
//! bookkeeping.

use super::{
    Found, ImportError, Reading, digit_groups, entries, file_name, no_version, read, repeatable,
};
use crate::split::split;
use std::collections::BTreeMap;
use std::path::Path;

/// The table a hand-made runner records applied files in.
pub const RUNNER_TABLE: &str = "schema_migrations";

/// The folder of seed data beside a runner's migrations: data every environment must
/// have, imported as repeatable migrations.
pub const SEEDS_DIR: &str = "seeds";

/// A runner's folder: its migrations, each file's own wrapping taken out, and its seeds as
/// repeatable migrations. `require_up`: the `up/`-and-`down/` layout only.
pub(crate) fn read_folder(
    dir: &Path,
    require_up: bool,
    reading: &mut Reading,
) -> Result<Vec<Found>, ImportError> {
    let mut seeds = Vec::new();
    let mut found = files(dir, require_up, &mut reading.skipped, &mut seeds)?;
    unwrap_all(&mut seeds, &mut reading.notes);
    reading
        .repeatables
        .extend(seeds.into_iter().filter_map(|seed| {
            let id = format!("{SEEDS_DIR}/{}", seed.id);
            repeatable(&id, &seed.id, seed.up, seed.sources[0].clone())
        }));
    unwrap_all(&mut found, &mut reading.notes);
    Ok(found)
}

/// The files of a runner's folder: `up/` and `down/` folders when there is an `up/`, else
/// the `.sql` files at the top (the runner's `migrations/`). Files whose name starts with
/// `_` are skipped, as runners skip them, and so are sub-folders (scripts), but for
/// `seeds/`, whose files go to `seeds`.
fn files(
    dir: &Path,
    require_up: bool,
    skipped: &mut Vec<String>,
    seeds: &mut Vec<Found>,
) -> Result<Vec<Found>, ImportError> {
    let seeds_dir = dir.join(SEEDS_DIR);
    if seeds_dir.is_dir() {
        for path in entries(&seeds_dir)? {
            let name = file_name(&path);
            match name.strip_suffix(".sql") {
                Some(stem) if path.is_file() => seeds.push(Found {
                    id: stem.to_owned(),
                    parts: Vec::new(),
                    description: stem.to_owned(),
                    up: read(&path)?,
                    down: None,
                    no_transaction: false,
                    down_no_transaction: false,
                    sources: vec![path],
                }),
                _ => skipped.push(format!("{SEEDS_DIR}/{name}: not a .sql file")),
            }
        }
    }
    if dir.join("up").is_dir() {
        for path in entries(dir)? {
            let name = file_name(&path);
            if name != "up" && name != "down" && name != SEEDS_DIR {
                let kind = if path.is_dir() {
                    "/: a folder"
                } else {
                    ": a file"
                };
                skipped.push(format!(
                    "{name}{kind} beside up/ and down/ (the runner reads only those)"
                ));
            }
        }
        return up_down(dir, skipped);
    }
    if require_up {
        return Err(ImportError::File {
            path: dir.join("up"),
            problem: "there is no up/ folder (this layout is up/ and down/ folders of <version>_<name>.sql files; a flat folder of .sql files is --from schema-migrations)".to_owned(),
        });
    }
    let mut found = Vec::new();
    for path in entries(dir)? {
        let name = file_name(&path);
        if path.is_dir() && name == SEEDS_DIR {
            continue;
        }
        if path.is_dir() {
            skipped.push(format!(
                "{name}/: a folder (the runner reads only the .sql files at the top)"
            ));
            continue;
        }
        let Some(stem) = name.strip_suffix(".sql") else {
            skipped.push(format!("{name}: not a .sql file"));
            continue;
        };
        if stem.starts_with('_') {
            skipped.push(format!("{name}: starts with `_` (the runner skips it)"));
            continue;
        }
        found.push(one(&path, stem)?);
    }
    Ok(found)
}

fn one(path: &Path, stem: &str) -> Result<Found, ImportError> {
    let (parts, description) = digit_groups(stem, &['_', '-', '.']);
    if parts.is_empty() {
        return Err(no_version(path, "20260129_0001_initial_schema.sql"));
    }
    Ok(Found {
        id: stem.to_owned(),
        parts,
        description,
        up: read(path)?,
        down: None,
        no_transaction: false,
        down_no_transaction: false,
        sources: vec![path.to_owned()],
    })
}

/// `up/<version>_<name>.sql` and `down/<version>_<name>.sql`.
fn up_down(dir: &Path, skipped: &mut Vec<String>) -> Result<Vec<Found>, ImportError> {
    let mut by_id: BTreeMap<String, Found> = BTreeMap::new();
    for (sub, is_down) in [("up", false), ("down", true)] {
        let folder = dir.join(sub);
        if !folder.is_dir() {
            continue;
        }
        for path in entries(&folder)? {
            let name = file_name(&path);
            let Some(stem) = name.strip_suffix(".sql") else {
                skipped.push(format!("{sub}/{name}: not a .sql file"));
                continue;
            };
            if is_down {
                let Some(found) = by_id.get_mut(stem) else {
                    return Err(ImportError::File {
                        path,
                        problem: "a down file with no up file of the same name".to_owned(),
                    });
                };
                found.down = Some(read(&path)?);
                found.sources.push(path);
            } else {
                by_id.insert(stem.to_owned(), one(&path, stem)?);
            }
        }
    }
    Ok(by_id.into_values().collect())
}

/// Versions in the order the runner ran the files, their names' order: the numbers the
/// names start with when they rise strictly in that order, else 1, 2, 3... (a note says
/// so; `skein-import.toml` keeps each file's name either way).
pub(super) fn versions(
    found: &mut [Found],
    notes: &mut Vec<String>,
) -> Result<Vec<i64>, ImportError> {
    found.sort_by(|a, b| a.id.cmp(&b.id));
    let mut said = Vec::new();
    if let Ok(versions) = super::versions(found, &mut said)
        && versions.windows(2).all(|w| w[0] < w[1])
    {
        notes.append(&mut said);
        return Ok(versions);
    }
    let clash = found
        .windows(2)
        .find(|w| {
            let numbers = super::versions(w, &mut Vec::new());
            numbers.is_err() || numbers.is_ok_and(|v| v[0] >= v[1])
        })
        .map(|w| format!(" ({} and {})", w[0].id, w[1].id))
        .unwrap_or_default();
    notes.push(format!(
        "the files' numbers do not rise strictly in name order, the order the runner ran them{clash}: they are numbered 1 to {} in that order, and skein-import.toml maps each file's name to its number",
        found.len()
    ));
    Ok((1..=found.len() as i64).collect())
}

/// Takes the runner's wrapping out of each file, and says what was taken in `notes`.
pub(super) fn unwrap_all(found: &mut [Found], notes: &mut Vec<String>) {
    let mut wrapped = Vec::new();
    let mut bookkeeping = 0usize;
    let mut with_bookkeeping = Vec::new();
    for f in found.iter_mut() {
        let mut sections = vec![(&mut f.up, &mut f.no_transaction)];
        if let Some(down) = f.down.as_mut() {
            sections.push((down, &mut f.down_no_transaction));
        }
        let mut unwrapped_here = false;
        let mut writes_here = 0;
        for (text, no_transaction) in sections {
            let unwrapped = unwrap(text, RUNNER_TABLE);
            unwrapped_here |= unwrapped.transaction;
            writes_here += unwrapped.bookkeeping;
            *text = unwrapped.text;
            // A file that still controls its transaction (several of them) runs as written.
            *no_transaction |= crate::migration::Script::new(f.sources[0].clone(), text.clone())
                .is_ok_and(|s| s.transaction_control(false).is_some());
        }
        if unwrapped_here {
            wrapped.push(f.id.clone());
        }
        if writes_here > 0 {
            bookkeeping += writes_here;
            with_bookkeeping.push(f.id.clone());
        }
    }
    if !wrapped.is_empty() {
        notes.push(format!(
            "{} file(s) had their own BEGIN ... COMMIT taken out, so that each runs in skein's transaction: {}",
            wrapped.len(),
            listed(&wrapped)
        ));
    }
    if bookkeeping > 0 {
        notes.push(format!(
            "{bookkeeping} statement(s) writing {RUNNER_TABLE} (the runner's bookkeeping; skein keeps its own history) were taken out of {}",
            listed(&with_bookkeeping)
        ));
    }
}

/// Up to eight names, then how many more.
fn listed(ids: &[String]) -> String {
    let mut text = ids.iter().take(8).cloned().collect::<Vec<_>>().join(", ");
    if ids.len() > 8 {
        text.push_str(&format!(" and {} more", ids.len() - 8));
    }
    text
}

/// One file with the runner's wrapping taken out.
#[derive(Debug, PartialEq, Eq)]
pub struct Unwrapped {
    pub text: String,
    /// An outer BEGIN ... COMMIT was taken out.
    pub transaction: bool,
    /// How many statements writing the runner's table were taken out.
    pub bookkeeping: usize,
}

/// `text` without an outer `BEGIN; ... COMMIT;` (only when those are its first and last
/// statements and nothing between controls the transaction) and without the statements
/// that write `table`. Everything else, comments included, stays as written.
pub fn unwrap(text: &str, table: &str) -> Unwrapped {
    let statements = split(text);
    let mut cut: Vec<(usize, usize)> = Vec::new();
    let controls: Vec<bool> = statements
        .iter()
        .map(|s| crate::migration::controls_transaction(s.sql, false))
        .collect();
    let transaction = statements.len() >= 2
        && opens(statements[0].sql)
        && closes(statements[statements.len() - 1].sql)
        && !controls[1..statements.len() - 1].iter().any(|c| *c);
    if transaction {
        cut.push(span(text, statements[0].offset, statements[0].sql.len()));
        let last = statements[statements.len() - 1];
        cut.push(span(text, last.offset, last.sql.len()));
    }
    let mut bookkeeping = 0;
    for statement in &statements {
        if writes_table(statement.sql, table) {
            bookkeeping += 1;
            cut.push(span(text, statement.offset, statement.sql.len()));
        }
    }
    cut.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in cut {
        if start >= at {
            out.push_str(&text[at..start]);
            at = end;
        }
    }
    out.push_str(&text[at..]);
    Unwrapped {
        text: out,
        transaction,
        bookkeeping,
    }
}

/// The first words of a statement, upper-cased.
fn words(statement: &str, n: usize) -> Vec<String> {
    statement
        .split(|c: char| c.is_whitespace() || c == '(')
        .filter(|w| !w.is_empty())
        .take(n)
        .map(str::to_ascii_uppercase)
        .collect()
}

fn opens(statement: &str) -> bool {
    let w = words(statement, 3);
    match w.first().map(String::as_str) {
        Some("BEGIN") => w.len() == 1 || matches!(w[1].as_str(), "TRANSACTION" | "WORK"),
        Some("START") => w.get(1).is_some_and(|x| x == "TRANSACTION"),
        _ => false,
    }
}

fn closes(statement: &str) -> bool {
    let w = words(statement, 2);
    matches!(w.first().map(String::as_str), Some("COMMIT" | "END"))
        && w.get(1).is_none_or(|x| x == "TRANSACTION" || x == "WORK")
}

/// The statement inserts into, updates or deletes from `table` (quoted or not, with a
/// schema or not).
pub fn writes_table(statement: &str, table: &str) -> bool {
    let w = words(statement, 3);
    let target = match w.first().map(String::as_str) {
        Some("INSERT") if w.get(1).is_some_and(|x| x == "INTO") => w.get(2),
        Some("DELETE") if w.get(1).is_some_and(|x| x == "FROM") => w.get(2),
        Some("UPDATE") => w.get(1),
        _ => None,
    };
    target.is_some_and(|name| {
        let last = name.rsplit('.').next().unwrap_or(name);
        let bare = last.trim_matches(|c| c == '"' || c == '`');
        bare.eq_ignore_ascii_case(table)
    })
}

/// The byte range of a statement with its `;`, widened to whole lines when nothing else is
/// on them.
fn span(text: &str, offset: usize, len: usize) -> (usize, usize) {
    let mut end = offset + len;
    let after = &text[end..];
    let gap = after.len() - after.trim_start_matches([' ', '\t']).len();
    if after[gap..].starts_with(';') {
        end += gap + 1;
    }
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let before_blank = text[line_start..offset].trim().is_empty();
    let rest = &text[end..];
    let line_end = rest.find('\n').map_or(text.len(), |i| end + i + 1);
    let after_blank = text[end..line_end].trim().is_empty();
    if before_blank && after_blank {
        (line_start, line_end)
    } else {
        (offset, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runners_wrapping_and_bookkeeping_are_taken_out_and_the_rest_kept() {
        let file = "-- Migration: 20250813140000_create_conversations_table.sql\n\
                    BEGIN;\n\n\
                    -- Migration logic here\n\
                    CREATE TABLE conversations (id int);\n\n\
                    -- Record migration\n\
                    INSERT INTO schema_migrations (version, applied_by)\n\
                    VALUES ('20250813140000_create_conversations_table', 'migration_script');\n\n\
                    COMMIT;\n";
        let out = unwrap(file, "schema_migrations");
        assert!(out.transaction);
        assert_eq!(out.bookkeeping, 1);
        assert_eq!(
            out.text,
            "-- Migration: 20250813140000_create_conversations_table.sql\n\n\
             -- Migration logic here\n\
             CREATE TABLE conversations (id int);\n\n\
             -- Record migration\n\n"
        );
    }

    #[test]
    fn only_an_outer_transaction_is_taken_out() {
        let two = "BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\nBEGIN;\nCREATE TABLE b (id int);\nCOMMIT;\n";
        assert_eq!(unwrap(two, "schema_migrations").text, two);
        let function = "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$;\n";
        assert_eq!(unwrap(function, "schema_migrations").text, function);
        let lower = "begin transaction;\ncreate table a (id int);\nend;\n";
        assert_eq!(
            unwrap(lower, "schema_migrations").text,
            "create table a (id int);\n"
        );
    }

    #[test]
    fn writes_to_the_table_in_any_spelling_are_found_and_reads_are_not() {
        for statement in [
            "INSERT INTO schema_migrations (version) VALUES ('1')",
            "insert into public.schema_migrations values ('1')",
            "INSERT INTO \"schema_migrations\" VALUES ('1')",
            "DELETE FROM schema_migrations WHERE version = '1'",
            "UPDATE schema_migrations SET checksum = 'x'",
            "INSERT INTO schema_migrations(version) VALUES ('1')",
        ] {
            assert!(writes_table(statement, "schema_migrations"), "{statement}");
        }
        for statement in [
            "SELECT * FROM schema_migrations",
            "INSERT INTO schema_migrations_archive VALUES (1)",
            "CREATE TABLE schema_migrations (version text)",
        ] {
            assert!(!writes_table(statement, "schema_migrations"), "{statement}");
        }
    }

    #[test]
    fn names_that_do_not_rise_in_order_are_numbered_in_that_order() {
        let mut found: Vec<Found> = ["004_b", "003_a", "003_b", "20250813140000_c"]
            .into_iter()
            .map(|id| {
                let (parts, description) = digit_groups(id, &['_']);
                Found {
                    id: id.to_owned(),
                    parts,
                    description,
                    up: String::new(),
                    down: None,
                    no_transaction: false,
                    down_no_transaction: false,
                    sources: vec![format!("{id}.sql").into()],
                }
            })
            .collect::<Vec<_>>();
        let mut notes = Vec::new();
        let versions = versions(&mut found, &mut notes).unwrap();
        assert_eq!(versions, [1, 2, 3, 4]);
        let ids: Vec<&str> = found.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["003_a", "003_b", "004_b", "20250813140000_c"]);
        assert!(notes[0].contains("(003_a and 003_b)"), "{notes:?}");
    }
}
