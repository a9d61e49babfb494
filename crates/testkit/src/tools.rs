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
