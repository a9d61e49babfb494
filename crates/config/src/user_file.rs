//! Changes to files the user owns (`skein.toml`, an import map): each is made under an OS
//! lock on the file, from its text re-read under that lock, into a temporary file beside it
//! that is then renamed over it. A second writer waits for the first and starts from what
//! it wrote; a reader sees the old file or the new one, never half of either.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

/// A file could not be locked, read or replaced.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {}: {source}", path.display())]
pub struct UserFileError {
    pub action: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Changes the file at `path`: `change` gets its current text, under the lock, and returns
/// the new text (`None`: leave it as it is) with a value for the caller. A symbolic link is
/// followed, so the file it names is the one replaced.
pub fn update<T, E>(
    path: &Path,
    change: impl FnOnce(&str) -> Result<(Option<String>, T), E>,
) -> Result<T, E>
where
    E: From<UserFileError>,
{
    let error = |action: &'static str, path: &Path| {
        let path = path.to_owned();
        move |source| UserFileError {
            action,
            path,
            source,
        }
    };
    let path = std::fs::canonicalize(path).map_err(error("find", path))?;
    let mut file = lock(&path)?;
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(error("read", &path))?;
    let (new_text, value) = change(&text)?;
    if let Some(new_text) = new_text {
        replace(&path, &file, &new_text)?;
    }
    Ok(value)
}

/// Writes `text` as the file at `path` (made or replaced whole) through a temporary file
/// beside it, so that no reader sees it half-written. For files this run makes.
pub fn write(path: &Path, text: &str) -> Result<(), UserFileError> {
    write_through_temporary(path, text, None)
}

/// `text` into a temporary file beside `path` (with `permissions`, if given), synced, then
/// renamed over `path`.
fn write_through_temporary(
    path: &Path,
    text: &str,
    permissions: Option<std::fs::Permissions>,
) -> Result<(), UserFileError> {
    let error = |action, source| UserFileError {
        action,
        path: path.to_owned(),
        source,
    };
    let mut temporary = tempfile::NamedTempFile::new_in(folder_of(path))
        .map_err(|e| error("make a temporary file for", e))?;
    temporary
        .write_all(text.as_bytes())
        .and_then(|()| match permissions {
            Some(permissions) => temporary.as_file().set_permissions(permissions),
            None => Ok(()),
        })
        .and_then(|()| temporary.as_file().sync_all())
        .map_err(|e| error("write", e))?;
    temporary
        .persist(path)
        .map_err(|e| error("replace", e.error))?;
    Ok(())
}

/// Opens `path` and takes its lock, waiting for another writer; once the lock is held the
/// path must still name the file locked (a writer that renamed a new one over it leaves
/// the old one locked), else it starts again on the new one.
fn lock(path: &Path) -> Result<File, UserFileError> {
    loop {
        let file = File::open(path).map_err(|source| UserFileError {
            action: "open",
            path: path.to_owned(),
            source,
        })?;
        file.lock().map_err(|source| UserFileError {
            action: "lock",
            path: path.to_owned(),
            source,
        })?;
        if is_linked_at(&file, path) {
            return Ok(file);
        }
    }
}

/// Replaces the locked `file` at `path` with `text`, keeping its permissions.
fn replace(path: &Path, file: &File, text: &str) -> Result<(), UserFileError> {
    let permissions = file
        .metadata()
        .map_err(|source| UserFileError {
            action: "read the permissions of",
            path: path.to_owned(),
            source,
        })?
        .permissions();
    write_through_temporary(path, text, Some(permissions))
}

fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Whether `path` still names the file `file` has open.
#[cfg(unix)]
fn is_linked_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

/// Elsewhere (Windows) an open file cannot be replaced, so the path still names it.
#[cfg(not(unix))]
fn is_linked_at(_file: &File, path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_that_append_at_once_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.txt");
        std::fs::write(&path, "").unwrap();
        std::thread::scope(|scope| {
            for i in 0..16 {
                let path = &path;
                scope.spawn(move || {
                    update(path, |text| {
                        Ok::<_, UserFileError>((Some(format!("{text}{i}\n")), ()))
                    })
                    .unwrap();
                });
            }
        });
        let mut lines: Vec<u32> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        lines.sort();
        assert_eq!(lines, (0..16).collect::<Vec<_>>());
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_file_is_replaced_behind_its_link_with_its_permissions() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.toml");
        std::fs::write(&target, "a").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("skein.toml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        update(&link, |text| {
            Ok::<_, UserFileError>((Some(format!("{text}b")), ()))
        })
        .unwrap();
        assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "ab");
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }
}
