//! Other migration tools, installed from the package registries, for tests that take over
//! what they made: `dbmate` (npm).

use std::path::PathBuf;
use std::process::Command;

/// The `dbmate` program: `SKEIN_TEST_DBMATE`, or `dbmate` on PATH. A test that needs it
/// fails, saying how to install it, when it is not there.
pub fn dbmate() -> PathBuf {
    let program = std::env::var_os("SKEIN_TEST_DBMATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("dbmate"));
    let works = Command::new(&program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        works,
        "cannot run dbmate ({}); install it with: npm install --prefix ~/.cache/skein-tools dbmate, then put ~/.cache/skein-tools/node_modules/.bin on PATH (or set SKEIN_TEST_DBMATE)",
        program.display()
    );
    program
}

/// The `alembic` command, with SQLAlchemy's psycopg2 driver importable beside it:
/// `SKEIN_TEST_ALEMBIC`, or `alembic` on PATH. Fails, saying how to install them, when
/// they are not there.
pub fn alembic() -> PathBuf {
    let program = std::env::var_os("SKEIN_TEST_ALEMBIC")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("alembic"));
    let works = Command::new(&program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        works,
        "cannot run alembic ({}); install it with: pip install alembic psycopg2-binary (or set SKEIN_TEST_ALEMBIC)",
        program.display()
    );
    program
}
