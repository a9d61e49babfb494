//! Other migration tools, installed from the package registries, for tests that take over
//! what they made: `dbmate` (npm) and `alembic` (PyPI).

use std::path::PathBuf;
use std::process::Command;

/// The `dbmate` program: `SKEIN_TEST_DBMATE`, or `dbmate` on PATH.
pub fn dbmate() -> PathBuf {
    tool(
        "SKEIN_TEST_DBMATE",
        "dbmate",
        "npm install --prefix ~/.cache/skein-tools dbmate, then put ~/.cache/skein-tools/node_modules/.bin on PATH",
    )
}

/// The `alembic` command, with SQLAlchemy's psycopg2 driver importable beside it:
/// `SKEIN_TEST_ALEMBIC`, or `alembic` on PATH.
pub fn alembic() -> PathBuf {
    tool(
        "SKEIN_TEST_ALEMBIC",
        "alembic",
        "pip install alembic psycopg2-binary",
    )
}

/// The program `variable` names, or `name` on PATH. A test that needs it fails, saying how
/// to install it, when it does not run.
fn tool(variable: &str, name: &str, install: &str) -> PathBuf {
    let program = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(name));
    let works = Command::new(&program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        works,
        "cannot run {name} ({}); install it with: {install} (or set {variable})",
        program.display()
    );
    program
}
