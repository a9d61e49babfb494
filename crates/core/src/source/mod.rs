//! Where migrations come from: a folder on disk, a model template rendered for one model
//! ([`template`]), or an in-memory set (tests).

use crate::checksum::{Checksum, normalise};
use crate::error::SourceError;
use crate::migration::{FileKind, FileName, Migration, Script, Version};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub mod template;

/// The sub-folder of a migration folder (or template) that holds repeatable migrations.
pub const REPEATABLE_DIR: &str = "repeatable";

/// A set of migration files.
pub trait MigrationSource {
    /// Reads and checks every migration, sorted by version.
    fn load(&self) -> Result<Vec<Migration>, SourceError>;
}

/// The migrations in one folder (not recursive).
#[derive(Debug, Clone)]
pub struct FolderSource {
    dir: PathBuf,
}

impl FolderSource {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FolderSource { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl FolderSource {
    /// The migrations, the files marked `-- skein:template` rendered for `database` with
    /// `vars` (else the environment): see [`template::Template::render_marked`].
    pub fn load_rendered(
        &self,
        database: &str,
        vars: &template::Vars,
        dialect: Option<crate::dialect::Dialect>,
    ) -> Result<Vec<Migration>, SourceError> {
        let files = read_folder(&self.dir)?;
        assemble(template::Template::render_marked(
            files, database, vars, dialect,
        )?)
    }
}

impl MigrationSource for FolderSource {
    fn load(&self) -> Result<Vec<Migration>, SourceError> {
        assemble(read_folder(&self.dir)?)
    }
}

/// The `.sql` files of a folder with their contents, and those of its `repeatable/`
/// sub-folder: README files, dotfiles and other files are skipped, another sub-folder or
/// a `.sql` that is not a regular file (a pipe) is an error.
pub(crate) fn read_folder(dir: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>, SourceError> {
    read_files(dir, true)
}

fn read_files(dir: &Path, top: bool) -> Result<Vec<(PathBuf, Vec<u8>)>, SourceError> {
    let folder_error = |source| SourceError::Folder {
        dir: dir.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(folder_error)? {
        let entry = entry.map_err(folder_error)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_ignored(&name) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            if top && name == REPEATABLE_DIR {
                files.extend(read_files(&path, false)?);
                continue;
            }
            return Err(SourceError::UnexpectedFolder { path });
        }
        if is_other_file(&name) {
            tracing::debug!("skipping {}: not a .sql file", path.display());
            continue;
        }
        // Reading a pipe would wait for a writer for ever.
        if !path.is_file() {
            return Err(SourceError::NotAFile { path });
        }
        let bytes = std::fs::read(&path).map_err(|source| SourceError::Read {
            path: path.clone(),
            source,
        })?;
        files.push((path, bytes));
    }
    Ok(files)
}

/// Migrations held in memory, as `(file name, contents)`.
#[derive(Debug, Clone, Default)]
pub struct MemorySource {
    files: Vec<(PathBuf, Vec<u8>)>,
}

impl MemorySource {
    pub fn new<N: Into<PathBuf>, C: Into<Vec<u8>>>(
        files: impl IntoIterator<Item = (N, C)>,
    ) -> Self {
        MemorySource {
            files: files
                .into_iter()
                .map(|(n, c)| (n.into(), c.into()))
                .collect(),
        }
    }
}

impl MigrationSource for MemorySource {
    fn load(&self) -> Result<Vec<Migration>, SourceError> {
        assemble(self.files.clone())
    }
}

/// README files and dotfiles may live beside migrations.
fn is_ignored(name: &str) -> bool {
    name.starts_with('.') || name.starts_with("README")
}

/// Files other than `.sql` (say `embed.go` in a golang-migrate folder) are skipped, as
/// sqlx and golang-migrate do; a `.sql` file whose name does not parse is still an error.
fn is_other_file(name: &str) -> bool {
    !name.ends_with(".sql")
}

#[derive(Default)]
struct Parts {
    up: Option<(PathBuf, FileName, Vec<u8>)>,
    down: Option<(PathBuf, FileName, Vec<u8>)>,
}

/// Pairs up and down files by version and checks names, duplicates and encodings.
/// Files of the `repeatable/` sub-folder are repeatable migrations, named by their file
/// name without `.sql`, after the versioned ones in name order.
pub(crate) fn assemble(files: Vec<(PathBuf, Vec<u8>)>) -> Result<Vec<Migration>, SourceError> {
    let mut by_version: BTreeMap<Version, Parts> = BTreeMap::new();
    let mut repeatables: BTreeMap<String, (PathBuf, Vec<u8>)> = BTreeMap::new();
    for (path, bytes) in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if is_other_file(&name) {
            continue;
        }
        if is_repeatable(&path) {
            let stem = name.trim_end_matches(".sql").to_owned();
            match repeatables.get(&stem) {
                // The same file from a template and a model's own folder.
                Some((_, same)) if *same == bytes => {}
                Some((other, _)) => {
                    return Err(SourceError::DuplicateRepeatable {
                        name: stem,
                        first: other.clone(),
                        second: path,
                    });
                }
                None => {
                    repeatables.insert(stem, (path, bytes));
                }
            }
            continue;
        }
        let parsed = FileName::parse(&name).map_err(|reason| SourceError::BadName {
            path: path.clone(),
            reason,
        })?;
        let parts = by_version.entry(parsed.version).or_default();
        let slot = match parsed.kind {
            FileKind::Up | FileKind::Irreversible => &mut parts.up,
            FileKind::Down => &mut parts.down,
        };
        if let Some((other, _, _)) = slot {
            let (mut first, mut second) = (other.clone(), path.clone());
            if first > second {
                std::mem::swap(&mut first, &mut second);
            }
            return Err(SourceError::DuplicateVersion {
                version: parsed.version,
                first,
                second,
            });
        }
        *slot = Some((path, parsed, bytes));
    }
    let mut migrations: Vec<Migration> = by_version
        .into_iter()
        .map(|(version, parts)| build(version, parts))
        .collect::<Result<_, _>>()?;
    for (name, (path, bytes)) in repeatables {
        let sql = decode(&path, bytes)?;
        migrations.push(Migration {
            version: crate::migration::repeatable_version(&name),
            checksum: Checksum::of_normalised(&sql),
            up: Script::new(path, sql)?,
            down: None,
            description: name,
            repeatable: true,
        });
    }
    Ok(migrations)
}

/// Whether `path` is a file of a `repeatable/` folder.
fn is_repeatable(path: &Path) -> bool {
    path.parent()
        .and_then(Path::file_name)
        .is_some_and(|folder| folder == REPEATABLE_DIR)
}

fn build(version: Version, parts: Parts) -> Result<Migration, SourceError> {
    let Some((up_path, up_name, up_bytes)) = parts.up else {
        let (path, _, _) = parts.down.expect("a version has at least one file");
        return Err(SourceError::DownWithoutUp { path });
    };
    if up_name.kind == FileKind::Irreversible
        && let Some((down_path, _, _)) = &parts.down
    {
        return Err(SourceError::DownForIrreversible {
            up: up_path,
            down: down_path.clone(),
        });
    }
    let up_sql = decode(&up_path, up_bytes)?;
    let checksum = Checksum::of_normalised(&up_sql);
    let up = Script::new(up_path.clone(), up_sql)?;
    let down = match parts.down {
        Some((down_path, down_name, down_bytes)) => {
            if down_name.description != up_name.description {
                return Err(SourceError::MismatchedPair {
                    up: up_path,
                    down: down_path,
                });
            }
            let sql = decode(&down_path, down_bytes)?;
            Some(Script::new(down_path, sql)?)
        }
        None => None,
    };
    Ok(Migration {
        version,
        description: up_name.description,
        up,
        down,
        checksum,
        repeatable: false,
    })
}

fn decode(path: &Path, bytes: Vec<u8>) -> Result<String, SourceError> {
    let text = String::from_utf8(bytes).map_err(|e| SourceError::NotUtf8 {
        path: path.to_owned(),
        byte: e.utf8_error().valid_up_to(),
    })?;
    Ok(normalise(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(files: &[(&str, &str)]) -> Result<Vec<Migration>, SourceError> {
        MemorySource::new(files.iter().map(|(n, c)| (*n, *c))).load()
    }

    #[test]
    fn pairs_up_and_down_and_sorts_by_version() {
        let migrations = load(&[
            ("2_b.sql", "SELECT 2;"),
            ("1_a.up.sql", "SELECT 1;"),
            ("1_a.down.sql", "SELECT -1;"),
        ])
        .unwrap();
        assert_eq!(migrations.len(), 2);
        assert_eq!(migrations[0].version, 1);
        assert!(migrations[0].down.is_some());
        assert_eq!(migrations[1].version, 2);
        assert!(migrations[1].down.is_none());
    }

    #[test]
    fn a_duplicate_version_names_both_files() {
        let err = load(&[("1_a.up.sql", "SELECT 1;"), ("1_b.sql", "SELECT 1;")]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("1_a.up.sql") && text.contains("1_b.sql"),
            "{text}"
        );
    }

    #[test]
    fn bad_pairs_are_errors() {
        assert!(matches!(
            load(&[("1_a.down.sql", "")]),
            Err(SourceError::DownWithoutUp { .. })
        ));
        assert!(matches!(
            load(&[("1_a.up.sql", "SELECT 1;"), ("1_b.down.sql", "")]),
            Err(SourceError::MismatchedPair { .. })
        ));
        assert!(matches!(
            load(&[("1_a.sql", "SELECT 1;"), ("1_a.down.sql", "")]),
            Err(SourceError::DownForIrreversible { .. })
        ));
        assert!(matches!(
            load(&[("notes.sql", "SELECT 1;")]),
            Err(SourceError::BadName { .. })
        ));
        assert!(
            load(&[("embed.go", "package migrations"), ("notes.txt", "")])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn repeatable_files_are_named_by_their_file_and_come_last() {
        let migrations = load(&[
            ("repeatable/views.sql", "CREATE VIEW v AS SELECT 1;"),
            ("2_b.sql", "SELECT 2;"),
            ("repeatable/a_seed.sql", "SELECT 0;"),
            ("1_a.sql", "SELECT 1;"),
        ])
        .unwrap();
        let names: Vec<(&str, bool)> = migrations
            .iter()
            .map(|m| (m.description.as_str(), m.repeatable))
            .collect();
        assert_eq!(
            names,
            [
                ("a", false),
                ("b", false),
                ("a_seed", true),
                ("views", true)
            ]
        );
        assert!(migrations[2].version < 0 && migrations[2].version != migrations[3].version);
        assert_eq!(
            migrations[3].version,
            crate::migration::repeatable_version("views"),
            "the key is the name's, whatever the folder"
        );
    }

    #[test]
    fn a_repeatable_folder_holds_files_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("repeatable/nested")).unwrap();
        std::fs::write(dir.path().join("repeatable/v.sql"), "SELECT 1;").unwrap();
        assert!(matches!(
            FolderSource::new(dir.path()).load(),
            Err(SourceError::UnexpectedFolder { .. })
        ));
        std::fs::remove_dir(dir.path().join("repeatable/nested")).unwrap();
        std::fs::create_dir_all(dir.path().join("other")).unwrap();
        assert!(matches!(
            FolderSource::new(dir.path()).load(),
            Err(SourceError::UnexpectedFolder { .. })
        ));
        std::fs::remove_dir(dir.path().join("other")).unwrap();
        assert_eq!(FolderSource::new(dir.path()).load().unwrap().len(), 1);
    }

    #[test]
    fn bom_and_crlf_files_have_the_checksum_of_the_plain_file() {
        let plain = load(&[("1_a.sql", "SELECT 1;\nSELECT 2;\n")]).unwrap();
        let windows = load(&[("1_a.sql", "\u{feff}SELECT 1;\r\nSELECT 2;\r\n")]).unwrap();
        assert_eq!(plain[0].checksum, windows[0].checksum);
        assert_eq!(windows[0].up.sql, "SELECT 1;\nSELECT 2;\n");
    }

    #[test]
    fn non_utf8_is_an_error_with_the_byte_offset() {
        let source = MemorySource::new([("1_a.sql", vec![b'S', 0xff])]);
        match source.load() {
            Err(SourceError::NotUtf8 { byte, .. }) => assert_eq!(byte, 1),
            other => panic!("{other:?}"),
        }
    }
}
