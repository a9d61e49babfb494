//! Programs from other ecosystems that the tests run: `dbmate` (npm) and `alembic` (PyPI)
//! to make databases skein takes over, `moto_server` (PyPI `moto[server]`) to stand in for
//! AWS Secrets Manager.
//!
//! The test kit installs them itself, from the package registries, into a cache
//! (`~/.cache/skein-tools`, or `$XDG_CACHE_HOME/skein-tools`): dbmate with npm, the Python
//! ones into a virtual environment of their own, so that `cargo test --workspace` needs
//! nothing set up by hand. The first test that needs one installs it; the others (threads
//! of this process and other test processes alike) wait on an OS lock on a file in the
//! cache and then find it installed. An install that was cut short leaves no mark that it
//! finished, so the next test starts it again.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

/// The `dbmate` program: `SKEIN_TEST_DBMATE`, or the cache's (installed on first use).
pub fn dbmate() -> PathBuf {
    overridden("SKEIN_TEST_DBMATE", "--version")
        .unwrap_or_else(|| Kit::Npm.installed().join("node_modules/.bin/dbmate"))
}

/// The `alembic` command of the cache's Python environment, which also has SQLAlchemy's
/// psycopg2 driver: `SKEIN_TEST_ALEMBIC`, or the cache's (installed on first use).
pub fn alembic() -> PathBuf {
    overridden("SKEIN_TEST_ALEMBIC", "--version")
        .unwrap_or_else(|| Kit::Python.installed().join("venv/bin/alembic"))
}

/// The Nu HTML Checker (the W3C validator), `vnu.jar` of npm's `vnu-jar`: run with
/// `java -jar`. `SKEIN_TEST_VNU_JAR`, or the cache's (installed on first use).
pub fn vnu_jar() -> PathBuf {
    if let Some(jar) = std::env::var_os("SKEIN_TEST_VNU_JAR") {
        return PathBuf::from(jar);
    }
    Kit::Npm
        .installed()
        .join("node_modules/vnu-jar/build/dist/vnu.jar")
}

/// The `moto_server` program: `SKEIN_TEST_MOTO_SERVER`, or the cache's (installed on
/// first use).
pub fn moto_server() -> PathBuf {
    overridden("SKEIN_TEST_MOTO_SERVER", "--help")
        .unwrap_or_else(|| Kit::Python.installed().join("venv/bin/moto_server"))
}

/// The program `variable` names, checked to run with `probe`; `None` when it is unset.
fn overridden(variable: &str, probe: &str) -> Option<PathBuf> {
    let program = PathBuf::from(std::env::var_os(variable)?);
    if let Err(why) = check_runs(&program, probe) {
        panic!(
            "{variable} names a program that does not run; unset it to let the tests install their own: {why}"
        );
    }
    Some(program)
}

/// One install into the cache: its packages come from one registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kit {
    /// `node_modules/.bin/dbmate`.
    Npm,
    /// `venv/bin/{alembic,moto_server}`.
    Python,
}

impl Kit {
    /// The file whose presence says the install finished; it names what was installed, so
    /// that a changed list installs again.
    fn mark(self) -> (&'static str, &'static str) {
        match self {
            Kit::Npm => ("npm.done", "dbmate vnu-jar\n"),
            Kit::Python => (
                "python.done",
                "moto[server] alembic psycopg2-binary asyncpg greenlet\n",
            ),
        }
    }

    /// The cache folder, with this kit installed in it.
    fn installed(self) -> PathBuf {
        static NPM: OnceLock<PathBuf> = OnceLock::new();
        static PYTHON: OnceLock<PathBuf> = OnceLock::new();
        let once = match self {
            Kit::Npm => &NPM,
            Kit::Python => &PYTHON,
        };
        once.get_or_init(|| {
            let cache = cache_dir();
            self.install_once(&cache)
                .unwrap_or_else(|why| panic!("{why}"));
            cache
        })
        .clone()
    }

    /// Installs the kit unless another test (or test process) did; under the cache's lock.
    fn install_once(self, cache: &Path) -> Result<(), String> {
        std::fs::create_dir_all(cache)
            .map_err(|e| format!("cannot make the tools cache {}: {e}", cache.display()))?;
        let (mark, wanted) = self.mark();
        let mark = cache.join(mark);
        let done = || std::fs::read_to_string(&mark).is_ok_and(|text| text == wanted);
        if done() {
            return Ok(());
        }
        let lock_path = cache.join("install.lock");
        let lock = File::create(&lock_path)
            .map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
        lock.lock()
            .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
        // Another process may have installed it while this one waited.
        if done() {
            return Ok(());
        }
        let started = Instant::now();
        match self {
            Kit::Npm => install_npm(cache)?,
            Kit::Python => install_python(cache)?,
        }
        std::fs::write(&mark, wanted)
            .map_err(|e| format!("cannot write {}: {e}", mark.display()))?;
        // Kept in the cache too: a test's own output is shown only when it fails.
        let note = format!(
            "installed {} in {:.1?} (process {})\n",
            wanted.trim(),
            started.elapsed(),
            std::process::id()
        );
        eprint!("skein-testkit: {note}");
        let log = cache.join("install.log");
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .and_then(|mut file| std::io::Write::write_all(&mut file, note.as_bytes()));
        appended.map_err(|e| format!("cannot write {}: {e}", log.display()))?;
        Ok(())
        // The lock is released when `lock` is dropped.
    }
}

/// `$SKEIN_TEST_TOOLS`, else `$XDG_CACHE_HOME/skein-tools`, else `~/.cache/skein-tools`.
fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SKEIN_TEST_TOOLS") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .expect("HOME is set (the tests install their tools under ~/.cache/skein-tools)");
    base.join("skein-tools")
}

fn install_npm(cache: &Path) -> Result<(), String> {
    run(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(cache)
            .args(["dbmate", "vnu-jar"]),
        "installing the tests' tools, `npm install dbmate vnu-jar` (npm comes with Node.js)",
    )?;
    check_runs(&cache.join("node_modules/.bin/dbmate"), "--version")
}

fn install_python(cache: &Path) -> Result<(), String> {
    let venv = cache.join("venv");
    // A venv left by an install that was cut short is made again from nothing.
    if venv.exists() {
        std::fs::remove_dir_all(&venv)
            .map_err(|e| format!("cannot remove {}: {e}", venv.display()))?;
    }
    run(
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
        "installing the tests' tools, `python3 -m venv` (Debian: apt-get install python3-venv)",
    )?;
    run(
        Command::new(venv.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args([
                "moto[server]",
                "alembic",
                "psycopg2-binary",
                "asyncpg",
                "greenlet",
            ]),
        "installing the tests' tools, `pip install moto[server] alembic psycopg2-binary asyncpg greenlet`",
    )?;
    check_runs(&venv.join("bin/alembic"), "--version")?;
    check_runs(&venv.join("bin/moto_server"), "--help")
}

/// Runs an install command; its output, when it fails, says why.
fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("{what}: it cannot start: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what}: it failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

fn check_runs(program: &Path, arg: &str) -> Result<(), String> {
    run(
        Command::new(program).arg(arg),
        &format!("`{} {arg}`", program.display()),
    )
}

/// A headless browser: `SKEIN_TEST_CHROMIUM`, else `chromium` on the PATH, else Debian's
/// `chromium` package, installed on first use with apt-get (as root) under the cache's
/// lock.
pub fn chromium() -> PathBuf {
    static FOUND: OnceLock<PathBuf> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            if let Some(program) = overridden("SKEIN_TEST_CHROMIUM", "--version") {
                return program;
            }
            let on_path = || {
                std::env::var_os("PATH").and_then(|path| {
                    std::env::split_paths(&path)
                        .map(|dir| dir.join("chromium"))
                        .find(|p| p.is_file())
                })
            };
            if let Some(found) = on_path() {
                return found;
            }
            let cache = cache_dir();
            std::fs::create_dir_all(&cache).unwrap();
            let lock = File::create(cache.join("install.lock")).unwrap();
            lock.lock().unwrap();
            if let Some(found) = on_path() {
                return found;
            }
            let started = Instant::now();
            let apt = |args: &[&str]| {
                run(
                    Command::new("apt-get")
                        .args(args)
                        .env("DEBIAN_FRONTEND", "noninteractive"),
                    "apt-get (Debian's chromium, for the tests of the HTML report; as root)",
                )
            };
            apt(&["update", "-qq"]).unwrap_or_else(|why| panic!("{why}"));
            apt(&[
                "install",
                "-y",
                "-qq",
                "--no-install-recommends",
                "chromium",
            ])
            .unwrap_or_else(|why| panic!("{why}"));
            eprintln!(
                "skein-testkit: installed chromium in {:.1?}",
                started.elapsed()
            );
            on_path().expect("apt-get installed chromium on the PATH")
        })
        .clone()
}
