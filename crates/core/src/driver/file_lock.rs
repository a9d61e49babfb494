//! SQLite's migration lock: an OS lock (`flock`) on a file beside the database,
//! `<database>-skein.lock`. SQLite's own locks last one transaction; this one is held for a
//! whole run, as PostgreSQL's advisory lock is, so a step outside a transaction is never
//! seen half-done by another skein. The OS releases it when the process ends, however it
//! ends. The file holds who took it, for those who wait, and is removed when the lock is
//! released (one left by a killed process is simply taken over).

use super::LockWait;
use crate::error::{Error, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

/// The lock file of the database at `database`.
pub(crate) fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-skein.lock");
    PathBuf::from(name)
}

/// A held lock; releasing it (drop) removes the file.
#[derive(Debug)]
pub(crate) struct FileLock {
    path: PathBuf,
    _file: File,
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Removed while still held: whoever opened it meanwhile finds it unlinked once
        // they get it, and starts again on a new file (see `acquire`).
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Takes the lock, waiting as `wait` allows.
pub(crate) async fn acquire(path: &Path, client: &str, mut wait: LockWait) -> Result<FileLock> {
    let io_error = |source: std::io::Error| Error::Io {
        action: "use the lock file",
        path: path.to_owned(),
        source,
    };
    loop {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io_error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                if !wait.pause().await? {
                    return Err(Error::LockTimeout {
                        timeout: wait.timeout(),
                        holder: holder_of(&mut file),
                    });
                }
                continue;
            }
            Err(TryLockError::Error(e)) => return Err(io_error(e)),
        }
        if !is_linked_at(&file, path) {
            continue; // Its holder removed it as it let go: take the new one.
        }
        let since = jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .unwrap_or_else(|_| jiff::Timestamp::now());
        let owner = format!("pid {} ({client}), since {since}", std::process::id());
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(owner.as_bytes()))
            .map_err(io_error)?;
        return Ok(FileLock {
            path: path.to_owned(),
            _file: file,
        });
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

/// Elsewhere (Windows) an open file cannot be removed or replaced, so the path still
/// names it while it is open.
#[cfg(not(unix))]
fn is_linked_at(_file: &File, path: &Path) -> bool {
    path.exists()
}

/// Who holds the lock of `path` now, if anyone; never creates the file.
pub(crate) fn holder(path: &Path) -> Option<String> {
    let mut file = File::open(path).ok()?;
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            None
        }
        Err(TryLockError::WouldBlock) => {
            holder_of(&mut file).or_else(|| Some("another skein".to_owned()))
        }
        Err(TryLockError::Error(_)) => None,
    }
}

fn holder_of(file: &mut File) -> Option<String> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.take(1024).read_to_string(&mut text).ok()?;
    let text = text.trim().to_owned();
    (!text.is_empty()).then_some(text)
}
