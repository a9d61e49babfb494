//! Another tool's migration folder, rewritten into skein's layout: each migration's up
//! and down SQL, its version as one integer that keeps the tool's order, and the tool's
//! no-transaction marker as `-- skein:no-transaction`. Nothing here writes files: the
//! result is data, checked to load as skein migrations, for the caller to review and write.

mod envsub;
mod own_table;
pub(crate) mod runner;

pub use runner::{RUNNER_TABLE, Unwrapped, unwrap, writes_table};

use crate::migration::Script;
use crate::source::{MemorySource, MigrationSource as _};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use crate::tools::Tool;

/// What reading a tool's folder gives besides its migrations.
#[derive(Debug, Default)]
pub(crate) struct Reading {
    /// Things the tool has that skein does not take.
    pub skipped: Vec<String>,
    /// What the import changed in the SQL and why.
    pub notes: Vec<String>,
    /// Repeatable migrations (Flyway's `R__` files, a runner's seeds).
    pub repeatables: Vec<Imported>,
}

/// Why a folder cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {problem}", path.display())]
    File { path: PathBuf, problem: String },
    #[error("{} and {} both become version {version}; renumber one of them first", first.display(), second.display())]
    Collision {
        version: i64,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("{} and {} are the same version (the tool itself refuses that); renumber one of them", first.display(), second.display())]
    SameVersion { first: PathBuf, second: PathBuf },
    #[error("{} holds no migration of this tool", dir.display())]
    Empty { dir: PathBuf },
    #[error("the imported files do not load: {0}")]
    Invalid(#[from] crate::error::SourceError),
}

/// One migration as the tool has it.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// The tool's id for it (a file or folder name without extension).
    pub(crate) id: String,
    /// The groups of digits of its version, in order (`1.2` -> `["1", "2"]`).
    pub(crate) parts: Vec<String>,
    pub(crate) description: String,
    pub(crate) up: String,
    pub(crate) down: Option<String>,
    /// The up file runs outside a transaction.
    pub(crate) no_transaction: bool,
    /// The down file runs outside a transaction.
    pub(crate) down_no_transaction: bool,
    pub(crate) sources: Vec<PathBuf>,
}

/// A migration in skein's layout.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The tool's id and version text.
    pub id: String,
    pub version: i64,
    /// `(file name, text)`: the up file (`.up.sql`, or `.sql` when there is no down) and
    /// the down file.
    pub files: Vec<(String, String)>,
    pub sources: Vec<PathBuf>,
}

/// What an import gives.
#[derive(Debug, Clone)]
pub struct Import {
    pub migrations: Vec<Imported>,
    /// Repeatable migrations (Flyway's `R__` files), each one file under `repeatable/`.
    pub repeatables: Vec<Imported>,
    /// Things the tool has that skein does not take (Flyway repeatables, goose Go files).
    pub skipped: Vec<String>,
    /// What the import changed in the SQL and why (a runner's wrapping taken out).
    pub notes: Vec<String>,
    /// The folder is in skein's layout already: nothing needs writing.
    pub compatible: bool,
}

/// Reads `dir` as `tool` lays migrations out.
pub fn import(tool: Tool, dir: &Path) -> Result<Import, ImportError> {
    refuse_links_out(dir, dir, 0)?;
    let def = tool.def();
    let mut reading = Reading::default();
    let mut found = tool.read_folder(dir, &mut reading)?;
    if found.is_empty() {
        return Err(ImportError::Empty {
            dir: dir.to_owned(),
        });
    }
    let versions = if def.run_order {
        runner::versions(&mut found, &mut reading.notes)?
    } else {
        versions(&found, &mut reading.notes)?
    };
    let Reading {
        skipped,
        mut notes,
        repeatables,
    } = reading;
    let mut numbered: Vec<(Found, i64)> = found.into_iter().zip(versions).collect();
    own_table::provide(def, &mut numbered, &mut notes);
    let mut migrations: Vec<Imported> = numbered
        .into_iter()
        .map(|(found, version)| imported(found, version))
        .collect();
    migrations.sort_by_key(|m| m.version);
    for repeatable in &repeatables {
        notes.push(format!(
            "{}: a repeatable migration, written as {} (applied after the versioned ones, again whenever it changes)",
            repeatable.id,
            repeatable.files[0].0
        ));
    }
    // What is written must load as skein's migrations.
    let files = migrations.iter().chain(&repeatables).flat_map(|m| {
        m.files
            .iter()
            .map(|(name, text)| (name.clone(), text.clone()))
    });
    MemorySource::new(files).load()?;
    let compatible = def.skeins_layout
        && migrations.iter().all(|m| {
            m.files.iter().all(|(name, text)| {
                m.sources.iter().any(|source| {
                    source.file_name().is_some_and(|n| *n == **name)
                        && std::fs::read_to_string(source).is_ok_and(|t| t == *text)
                })
            })
        });
    Ok(Import {
        migrations,
        repeatables,
        skipped,
        notes,
        compatible,
    })
}

/// Versions as integers in the tool's order: each group of digits zero-padded to the
/// widest of its place, then joined (`1.2`, `1.10`, `2` -> `102`, `110`, `200`;
/// `2024-01-01-120000` -> `20240101120000`). A version of one group stays the number it
/// is (`00001` -> `1`). A version of zeros only (diesel's `00000000000000_diesel_initial_setup`,
/// in every diesel project) becomes 1, the first of skein's versions, which start at 1; it
/// does not widen the others.
fn versions(found: &[Found], notes: &mut Vec<String>) -> Result<Vec<i64>, ImportError> {
    let zeros = |f: &Found| f.parts.iter().all(|p| p.bytes().all(|b| b == b'0'));
    let places = found.iter().map(|f| f.parts.len()).max().unwrap_or(1);
    let widths: Vec<usize> = (0..places)
        .map(|i| {
            found
                .iter()
                .filter(|f| !zeros(f))
                .filter_map(|f| f.parts.get(i).map(String::len))
                .max()
                .unwrap_or(1)
        })
        .collect();
    let mut seen: BTreeMap<i64, &Found> = BTreeMap::new();
    let mut out = Vec::with_capacity(found.len());
    for f in found {
        let text: String = if zeros(f) {
            notes.push(format!(
                "{}: version {} is written as version 1 (skein's versions start at 1); it stays the first",
                f.id,
                f.parts.join(".")
            ));
            "1".to_owned()
        } else if places == 1 {
            trimmed(&f.parts[0]).to_owned()
        } else {
            widths
                .iter()
                .enumerate()
                .map(|(i, &width)| {
                    format!("{:0>width$}", f.parts.get(i).map_or("0", |p| trimmed(p)))
                })
                .collect()
        };
        let version: i64 =
            text.parse()
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| ImportError::File {
                    path: f.sources[0].clone(),
                    problem: format!(
                        "its version `{}` does not make a positive integer that fits in 64 bits",
                        f.parts.join(".")
                    ),
                })?;
        if let Some(other) = seen.insert(version, f) {
            return Err(ImportError::Collision {
                version,
                first: other.sources[0].clone(),
                second: f.sources[0].clone(),
            });
        }
        out.push(version);
    }
    Ok(out)
}

/// `007` -> `7`, `0` -> `0`.
fn trimmed(digits: &str) -> &str {
    let t = digits.trim_start_matches('0');
    if t.is_empty() { "0" } else { t }
}

/// The migration in skein's layout, its marker made skein's.
fn imported(found: Found, version: i64) -> Imported {
    let slug = crate::migration::slug(&found.description);
    let stem = if slug.is_empty() {
        format!("{version}_migration")
    } else {
        format!("{version}_{slug}")
    };
    let mark = |text: &str, no_transaction: bool| {
        if no_transaction && !has_skein_marker(text) {
            format!("-- skein:no-transaction\n{text}")
        } else {
            text.to_owned()
        }
    };
    let files = match &found.down {
        Some(down) => vec![
            (
                format!("{stem}.up.sql"),
                mark(&found.up, found.no_transaction),
            ),
            (
                format!("{stem}.down.sql"),
                mark(down, found.down_no_transaction),
            ),
        ],
        None => vec![(format!("{stem}.sql"), mark(&found.up, found.no_transaction))],
    };
    Imported {
        id: found.id,
        version,
        files,
        sources: found.sources,
    }
}

fn has_skein_marker(text: &str) -> bool {
    crate::migration::Directives::parse(text).is_ok_and(|d| d.no_transaction)
}

/// The leading groups of digits of a name, and the rest as its description:
/// `20260129_0001_001_initial_schema` -> (["20260129", "0001", "001"], "initial_schema").
/// A group after the first counts only when a separator follows it, so that a
/// description may start with digits (`..._2fa_tokens`).
pub(crate) fn digit_groups(name: &str, separators: &[char]) -> (Vec<String>, String) {
    let mut parts = Vec::new();
    let mut rest = name;
    loop {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            break;
        }
        let after = rest[digits.len()..].chars().next();
        let separated = after.is_some_and(|c| separators.contains(&c));
        if !parts.is_empty() && !separated {
            break;
        }
        parts.push(digits.clone());
        rest = &rest[digits.len()..];
        match after {
            Some(c) if separated => rest = &rest[c.len_utf8()..],
            _ => break,
        }
    }
    (parts, rest.to_owned())
}

/// The version of a tool that numbers migrations with one integer (sqlx, golang-migrate,
/// dbmate, goose): the leading digits, then the description after one `_`.
pub(crate) fn one_group(name: &str) -> (Vec<String>, String) {
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return (Vec::new(), name.to_owned());
    }
    let rest = &name[digits.len()..];
    (
        vec![digits],
        rest.strip_prefix('_').unwrap_or(rest).to_owned(),
    )
}

pub(crate) fn read(path: &Path) -> Result<String, ImportError> {
    // Reading a pipe would wait for a writer for ever.
    if !path.is_file() {
        return Err(ImportError::File {
            path: path.to_owned(),
            problem: "not a regular file (a pipe, a socket or a device); remove it, or import from a copy of the folder".to_owned(),
        });
    }
    let bytes = std::fs::read(path).map_err(|source| ImportError::Read {
        path: path.to_owned(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| ImportError::File {
        path: path.to_owned(),
        problem: format!("not valid UTF-8 (at byte {})", e.utf8_error().valid_up_to()),
    })?;
    Ok(crate::checksum::normalise(&text))
}

/// Refuses a symbolic link under `dir` (the import's source, `root`) that leads outside
/// it: the import would copy a file that is not the tool's into the new folder.
fn refuse_links_out(root: &Path, dir: &Path, depth: usize) -> Result<(), ImportError> {
    let read_error = |source| ImportError::Read {
        path: dir.to_owned(),
        source,
    };
    let canonical_root = std::fs::canonicalize(root).map_err(read_error)?;
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let kind = entry.file_type().map_err(read_error)?;
        let path = entry.path();
        if kind.is_symlink() {
            let inside = std::fs::canonicalize(&path)
                .is_ok_and(|target| target.starts_with(&canonical_root));
            if !inside {
                return Err(ImportError::File {
                    path,
                    problem: format!(
                        "a link that leads outside {} (or nowhere); copy the file in, or import from the folder it belongs to",
                        root.display()
                    ),
                });
            }
        } else if kind.is_dir() && depth < 3 {
            refuse_links_out(root, &path, depth + 1)?;
        }
    }
    Ok(())
}

/// The entries of `dir`, sorted, dotfiles and README files left out.
pub(crate) fn entries(dir: &Path) -> Result<Vec<PathBuf>, ImportError> {
    let read_error = |source| ImportError::Read {
        path: dir.to_owned(),
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && !name.starts_with("README") {
            paths.push(entry.path());
        }
    }
    paths.sort();
    Ok(paths)
}

pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub(crate) fn no_version(path: &Path, example: &str) -> ImportError {
    ImportError::File {
        path: path.to_owned(),
        problem: format!("its name does not start with a version (e.g. {example})"),
    }
}

/// sqlx and golang-migrate: `<version>_<name>.up.sql` and `.down.sql`, or `.sql`. A file
/// that controls its own transaction (golang-migrate runs files as written) is marked to
/// run outside skein's.
pub(crate) fn paired(dir: &Path, reading: &mut Reading) -> Result<Vec<Found>, ImportError> {
    let skipped = &mut reading.skipped;
    let mut by_id: BTreeMap<String, Found> = BTreeMap::new();
    for path in entries(dir)? {
        let name = file_name(&path);
        let Some(stem) = name.strip_suffix(".sql") else {
            skipped.push(format!("{name}: not a .sql file"));
            continue;
        };
        let (stem, down) = match (stem.strip_suffix(".up"), stem.strip_suffix(".down")) {
            (Some(s), _) => (s, false),
            (_, Some(s)) => (s, true),
            _ => (stem, false),
        };
        let (parts, description) = one_group(stem);
        if parts.is_empty() {
            return Err(no_version(&path, "1_create_users.up.sql"));
        }
        let text = read(&path)?;
        let entry = by_id.entry(stem.to_owned()).or_insert_with(|| Found {
            id: stem.to_owned(),
            parts: parts.clone(),
            description: description.clone(),
            up: String::new(),
            down: None,
            no_transaction: false,
            down_no_transaction: false,
            sources: Vec::new(),
        });
        let controls = Script::new(path.clone(), text.clone())
            .map(|s| !s.no_transaction && s.transaction_control(false).is_some())
            .unwrap_or(false);
        if down {
            entry.down_no_transaction |= controls;
        } else {
            entry.no_transaction |= controls;
        }
        let taken = if down {
            entry.down.is_some()
        } else {
            !entry
                .sources
                .iter()
                .all(|p| file_name(p).contains(".down."))
        };
        if taken {
            return Err(ImportError::SameVersion {
                first: entry.sources[0].clone(),
                second: path,
            });
        }
        entry.sources.push(path);
        if down {
            entry.down = Some(text);
        } else {
            entry.up = text;
        }
    }
    Ok(by_id.into_values().collect())
}

/// Where one file's up and down sections start, and how a section says "no transaction".
pub(crate) struct Sections {
    pub up: &'static str,
    pub down: &'static str,
    /// Annotation lines to leave out of the SQL.
    pub annotations: &'static [&'static str],
    pub example: &'static str,
}

/// dbmate and goose: one file per migration, with an up and a down section.
pub(crate) fn sectioned(
    dir: &Path,
    sections: &Sections,
    reading: &mut Reading,
) -> Result<Vec<Found>, ImportError> {
    let (skipped, notes) = (&mut reading.skipped, &mut reading.notes);
    let mut templated: Vec<(String, Vec<String>)> = Vec::new();
    let mut found = Vec::new();
    for path in entries(dir)? {
        let name = file_name(&path);
        let Some(stem) = name.strip_suffix(".sql") else {
            skipped.push(format!(
                "{name}: not a .sql file (Go migrations are not imported)"
            ));
            continue;
        };
        let (parts, description) = one_group(stem);
        if parts.is_empty() {
            return Err(no_version(&path, sections.example));
        }
        let text = read(&path)?;
        let problem = |problem: String| ImportError::File {
            path: path.clone(),
            problem,
        };
        let mut up: Vec<envsub::Line> = Vec::new();
        let mut down: Vec<envsub::Line> = Vec::new();
        let mut envsub_on = false;
        let mut current: Option<bool> = None; // Some(true): up, Some(false): down
        let mut saw_up = false;
        let (mut up_no_transaction, mut down_no_transaction) = (false, false);
        for (index, line) in text.lines().enumerate() {
            // A marker is a comment at the start of a line, `--` then the keyword, with or
            // without a space between (as the tools read them).
            let marker = line
                .strip_prefix("--")
                .map(|rest| rest.trim().to_ascii_lowercase());
            if let Some(marker) = &marker {
                if marker.starts_with(sections.up) {
                    if current == Some(false) {
                        return Err(problem(format!(
                            "line {}: an up section after the down section; the tools read everything after the down marker as down",
                            index + 1
                        )));
                    }
                    current = Some(true);
                    saw_up = true;
                    up_no_transaction |= marker.contains("transaction:false");
                    continue;
                }
                if marker.starts_with(sections.down) {
                    current = Some(false);
                    down_no_transaction |= marker.contains("transaction:false");
                    continue;
                }
                if let Some(switch) = marker.strip_prefix("+goose envsub") {
                    envsub_on = switch.trim() == "on";
                    continue;
                }
                if sections.annotations.iter().any(|a| marker.starts_with(a)) {
                    if marker.ends_with("no transaction") {
                        up_no_transaction = true;
                        down_no_transaction = true;
                    }
                    continue;
                }
            }
            let section = match current {
                Some(true) => &mut up,
                Some(false) => &mut down,
                None => continue,
            };
            section.push((line.to_owned(), envsub_on));
        }
        if !saw_up {
            return Err(problem(format!(
                "it has no `-- {}` line (nothing would be imported)",
                sections.up
            )));
        }
        let mut names = Vec::new();
        let mut text_of = |lines: &[envsub::Line]| {
            let (text, used) = envsub::convert(lines);
            let text = text.trim_start_matches('\n').to_owned();
            if used.is_empty() {
                return text;
            }
            names.extend(
                used.into_iter()
                    .filter(|n| !names.contains(n))
                    .collect::<Vec<_>>(),
            );
            format!("-- skein:template\n{text}")
        };
        let up = text_of(&up);
        let down = Some(text_of(&down)).filter(|d| !d.trim().is_empty());
        if !names.is_empty() {
            templated.push((stem.to_owned(), names));
        }
        found.push(Found {
            id: stem.to_owned(),
            parts,
            description,
            up,
            down,
            no_transaction: up_no_transaction,
            down_no_transaction,
            sources: vec![path],
        });
    }
    if !templated.is_empty() {
        let listed: Vec<String> = templated
            .iter()
            .map(|(id, names)| format!("{id} ({})", names.join(", ")))
            .collect();
        notes.push(format!(
            "goose filled ${{VAR}} from the environment in ENVSUB sections of {}: each is now {{{{ VAR }}}} in a `-- skein:template` file, which skein fills when it runs, from the database's vars or else the environment variable of that name (an unset one stops the run, naming it)",
            listed.join(", ")
        ));
    }
    Ok(found)
}

/// A repeatable migration imported as `repeatable/<name>.sql`, its name `description` in
/// lower case with `_` for what a file name had better not hold; `None` without one.
pub(crate) fn repeatable(
    id: &str,
    description: &str,
    text: String,
    source: PathBuf,
) -> Option<Imported> {
    let name: String = description
        .trim()
        .chars()
        .map(|c| match c {
            c if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' => {
                c.to_ascii_lowercase()
            }
            _ => '_',
        })
        .collect();
    if name.trim_matches(['_', '.']).is_empty() {
        return None;
    }
    Some(Imported {
        id: id.to_owned(),
        version: crate::migration::repeatable_version(&name),
        files: vec![(
            format!("{}/{name}.sql", crate::source::REPEATABLE_DIR),
            text,
        )],
        sources: vec![source],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    fn names(import: &Import) -> Vec<String> {
        import
            .migrations
            .iter()
            .flat_map(|m| m.files.iter().map(|(n, _)| n.clone()))
            .collect()
    }

    fn text<'a>(import: &'a Import, name: &str) -> &'a str {
        import
            .migrations
            .iter()
            .flat_map(|m| m.files.iter())
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
            .unwrap()
    }

    #[test]
    fn an_sqlx_folder_is_compatible_as_it_is() {
        let dir = folder(&[
            ("1_users.up.sql", "CREATE TABLE users (id int);\n"),
            ("1_users.down.sql", "DROP TABLE users;\n"),
            (
                "2_index.sql",
                "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON users (id);\n",
            ),
        ]);
        let import = super::import(Tool::Sqlx, dir.path()).unwrap();
        assert!(import.compatible);
        assert_eq!(
            names(&import),
            ["1_users.up.sql", "1_users.down.sql", "2_index.sql"]
        );
    }

    #[test]
    fn a_golang_migrate_file_with_its_own_transaction_runs_as_written() {
        let dir = folder(&[
            (
                "000001_init.up.sql",
                "BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n",
            ),
            ("000001_init.down.sql", "DROP TABLE a;\n"),
        ]);
        let import = super::import(Tool::GolangMigrate, dir.path()).unwrap();
        assert!(!import.compatible);
        assert!(text(&import, "1_init.up.sql").starts_with("-- skein:no-transaction\nBEGIN;"));
    }

    #[test]
    fn dbmate_sections_become_files() {
        let dir = folder(&[
            (
                "20240101120000_create_users.sql",
                "-- migrate:up\nCREATE TABLE users (id int);\n\n-- migrate:down\nDROP TABLE users;\n",
            ),
            (
                "20240102120000_index.sql",
                "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON users (id);\n-- migrate:down\nDROP INDEX i;\n",
            ),
        ]);
        let import = super::import(Tool::Dbmate, dir.path()).unwrap();
        assert_eq!(
            text(&import, "20240101120000_create_users.up.sql"),
            "CREATE TABLE users (id int);\n\n"
        );
        assert_eq!(
            text(&import, "20240101120000_create_users.down.sql"),
            "DROP TABLE users;\n"
        );
        assert!(
            text(&import, "20240102120000_index.up.sql").starts_with("-- skein:no-transaction\n")
        );
    }

    #[test]
    fn goose_annotations_are_dropped() {
        let dir = folder(&[
            (
                "00002_fn.sql",
                "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n-- +goose StatementEnd\n\n-- +goose Down\nDROP FUNCTION f();\n",
            ),
            (
                "00001_init.sql",
                "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE TABLE t (id int);\n",
            ),
        ]);
        let import = super::import(Tool::Goose, dir.path()).unwrap();
        assert_eq!(
            names(&import),
            ["1_init.sql", "2_fn.up.sql", "2_fn.down.sql"]
        );
        assert!(!text(&import, "2_fn.up.sql").contains("goose"));
        assert!(text(&import, "1_init.sql").starts_with("-- skein:no-transaction\n"));
    }

    #[test]
    fn flyway_versions_keep_their_order_and_undo_files_are_downs() {
        let dir = folder(&[
            ("V1__init.sql", "CREATE TABLE a (id int);\n"),
            ("V1_2__more.sql", "CREATE TABLE b (id int);\n"),
            ("V1.10__later.sql", "CREATE TABLE c (id int);\n"),
            ("V2__last.sql", "CREATE TABLE d (id int);\n"),
            ("U2__last.sql", "DROP TABLE d;\n"),
            ("R__views.sql", "CREATE VIEW v AS SELECT 1;\n"),
        ]);
        let import = super::import(Tool::Flyway, dir.path()).unwrap();
        let versions: Vec<i64> = import.migrations.iter().map(|m| m.version).collect();
        assert_eq!(versions, [100, 102, 110, 200]);
        assert!(names(&import).contains(&"200_last.down.sql".to_owned()));
        assert!(import.skipped.is_empty(), "{:?}", import.skipped);
        assert_eq!(import.repeatables.len(), 1);
        assert_eq!(import.repeatables[0].files[0].0, "repeatable/views.sql");
    }

    #[test]
    fn diesel_and_up_down_folders() {
        let dir = folder(&[
            (
                "2024-01-01-120000_create_users/up.sql",
                "CREATE TABLE users (id int);\n",
            ),
            (
                "2024-01-01-120000_create_users/down.sql",
                "DROP TABLE users;\n",
            ),
        ]);
        let import = super::import(Tool::Diesel, dir.path()).unwrap();
        assert_eq!(
            names(&import),
            [
                "20240101120000_create_users.up.sql",
                "20240101120000_create_users.down.sql"
            ]
        );
        // Every diesel project starts with its setup migration, version zeros.
        let dir = folder(&[
            (
                "00000000000000_diesel_initial_setup/up.sql",
                "CREATE FUNCTION diesel_manage_updated_at(t regclass) RETURNS void AS $$ BEGIN END $$ LANGUAGE plpgsql;\n",
            ),
            (
                "00000000000000_diesel_initial_setup/down.sql",
                "DROP FUNCTION diesel_manage_updated_at(regclass);\n",
            ),
            (
                "2019-02-26-002946_create_user/up.sql",
                "CREATE TABLE users (id int);\n",
            ),
        ]);
        let import = super::import(Tool::Diesel, dir.path()).unwrap();
        assert_eq!(
            names(&import),
            [
                "1_diesel_initial_setup.up.sql",
                "1_diesel_initial_setup.down.sql",
                "20190226002946_create_user.sql"
            ]
        );
        assert!(
            import.notes.iter().any(|n| n.contains("00000000000000_diesel_initial_setup: version 00000000000000 is written as version 1")),
            "{:?}",
            import.notes
        );
        let dir = folder(&[
            (
                "up/20260129_0001_001_initial_schema.sql",
                "CREATE TABLE a (id int);\n",
            ),
            (
                "up/20260129_0002_001_more.sql",
                "CREATE TABLE b (id int);\n",
            ),
            (
                "down/20260129_0001_001_initial_schema.sql",
                "DROP TABLE a;\n",
            ),
        ]);
        let import = super::import(Tool::UpDown, dir.path()).unwrap();
        assert_eq!(
            names(&import),
            [
                "202601290001001_initial_schema.up.sql",
                "202601290001001_initial_schema.down.sql",
                "202601290002001_more.sql"
            ]
        );
    }

    #[test]
    fn a_pipe_among_the_files_is_refused_naming_it_without_waiting_on_it() {
        let dir = folder(&[("1_a.up.sql", "SELECT 1;\n")]);
        let pipe = dir.path().join("2_b.up.sql");
        let made = std::process::Command::new("mkfifo")
            .arg(&pipe)
            .status()
            .unwrap();
        assert!(made.success());
        let err = super::import(Tool::GolangMigrate, dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("2_b.up.sql")
                && err.to_string().contains("not a regular file"),
            "{err}"
        );
        let err = crate::source::FolderSource::new(dir.path())
            .load()
            .unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    #[test]
    fn two_files_that_become_one_version_are_an_error_naming_both() {
        let dir = folder(&[
            ("1_a.up.sql", "SELECT 1;\n"),
            ("01_b.up.sql", "SELECT 1;\n"),
        ]);
        let err = super::import(Tool::GolangMigrate, dir.path()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("1_a.up.sql")
                && text.contains("01_b.up.sql")
                && text.contains("version 1"),
            "{text}"
        );
    }

    #[test]
    fn a_runners_files_that_share_a_number_keep_the_order_it_ran_them_in() {
        let dir = folder(&[
            ("up/1_a.sql", "SELECT 1;\n"),
            ("up/01_b.sql", "SELECT 2;\n"),
        ]);
        let import = super::import(Tool::UpDown, dir.path()).unwrap();
        let ids: Vec<(&str, i64)> = import
            .migrations
            .iter()
            .map(|m| (m.id.as_str(), m.version))
            .collect();
        assert_eq!(ids, [("01_b", 1), ("1_a", 2)]);
        assert!(
            import.notes[0].contains("(01_b and 1_a)"),
            "{:?}",
            import.notes
        );
    }

    #[test]
    fn markers_without_a_space_and_sections_in_the_wrong_order() {
        let dir = folder(&[(
            "20240101120000_a.sql",
            "--migrate:up\nCREATE TABLE a (id int);\n  -- migrate:down is below\nINSERT INTO a VALUES (1);\n-- migrate:down transaction:false\nDROP TABLE a;\n",
        )]);
        let import = super::import(Tool::Dbmate, dir.path()).unwrap();
        let up = text(&import, "20240101120000_a.up.sql");
        assert!(
            up.contains("CREATE TABLE a") && up.contains("INSERT INTO a"),
            "{up}"
        );
        assert!(
            !up.starts_with("-- skein:no-transaction"),
            "only the down is marked: {up}"
        );
        assert!(
            text(&import, "20240101120000_a.down.sql").starts_with("-- skein:no-transaction\n")
        );
        let dir = folder(&[(
            "1_a.sql",
            "-- migrate:down\nDROP TABLE a;\n-- migrate:up\nCREATE TABLE a (id int);\n",
        )]);
        let err = super::import(Tool::Dbmate, dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 3: an up section after the down section"),
            "{err}"
        );
        let dir = folder(&[("1_a.sql", "-- migrate:down\nDROP TABLE a;\n")]);
        let err = super::import(Tool::Dbmate, dir.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no `-- migrate:up` line"), "{err}");
        let dir = folder(&[("00001_a.sql", "--+goose Up\nCREATE TABLE a (id int);\n")]);
        let import = super::import(Tool::Goose, dir.path()).unwrap();
        assert!(text(&import, "1_a.sql").contains("CREATE TABLE a"));
    }

    #[test]
    fn a_description_may_start_with_digits() {
        let dir = folder(&[
            ("20240101120000_a.sql", "-- migrate:up\nSELECT 1;\n"),
            (
                "20240102120000_2fa_tokens.sql",
                "-- migrate:up\nSELECT 2;\n",
            ),
        ]);
        let import = super::import(Tool::Dbmate, dir.path()).unwrap();
        let versions: Vec<i64> = import.migrations.iter().map(|m| m.version).collect();
        assert_eq!(versions, [20240101120000, 20240102120000]);
        assert!(names(&import).contains(&"20240102120000_2fa_tokens.sql".to_owned()));
        let dir = folder(&[("000002_2fa.up.sql", "SELECT 1;\n")]);
        let import = super::import(Tool::GolangMigrate, dir.path()).unwrap();
        assert_eq!(names(&import), ["2_2fa.sql"]);
        let dir = folder(&[
            ("2024-01-01-120000_3d_models/up.sql", "SELECT 1;\n"),
            ("2024-01-02-120000_b/up.sql", "SELECT 1;\n"),
        ]);
        let import = super::import(Tool::Diesel, dir.path()).unwrap();
        assert_eq!(import.migrations[0].version, 20240101120000);
    }

    #[test]
    fn the_same_version_twice_is_an_error_naming_both() {
        for (tool, files) in [
            (
                Tool::Flyway,
                [
                    ("V1_1__a.sql", "SELECT 1;\n"),
                    ("V1.1__b.sql", "SELECT 2;\n"),
                ],
            ),
            (
                Tool::GolangMigrate,
                [("1_x.sql", "SELECT 1;\n"), ("1_x.up.sql", "SELECT 2;\n")],
            ),
        ] {
            let dir = folder(&files);
            let err = super::import(tool, dir.path()).unwrap_err();
            assert!(
                matches!(
                    err,
                    ImportError::SameVersion { .. } | ImportError::Collision { .. }
                ),
                "{err}"
            );
        }
    }

    #[test]
    fn flyway_callbacks_and_odd_names_are_skipped_not_fatal() {
        let dir = folder(&[
            ("V1__a.sql", "SELECT 1;\n"),
            ("afterMigrate.sql", "SELECT 2;\n"),
            ("\u{dc}bersicht.sql", "SELECT 3;\n"),
        ]);
        let import = super::import(Tool::Flyway, dir.path()).unwrap();
        assert_eq!(import.migrations.len(), 1);
        assert_eq!(import.skipped.len(), 2, "{:?}", import.skipped);
    }
}
