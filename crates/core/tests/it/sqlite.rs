//! The engine on SQLite files.

use crate::support::*;
use skein_core::error::Error;
use skein_core::plan::{DownTarget, Target};

fn sqlite_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}/nested/db.sqlite", dir.display())
}

#[tokio::test]
async fn applies_reverts_and_rolls_back_on_sqlite() {
    let files = folder(&[
        ("1_a.up.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY);\n"),
        ("1_a.down.sql", "DROP TABLE a;\n"),
        (
            "2_trigger.up.sql",
            "CREATE TABLE log (msg TEXT);\nCREATE TRIGGER a_log AFTER INSERT ON a BEGIN\n  INSERT INTO log VALUES ('x;y');\nEND;\n",
        ),
        (
            "2_trigger.down.sql",
            "DROP TRIGGER a_log;\nDROP TABLE log;\n",
        ),
    ]);
    let data = tempfile::tempdir().unwrap();
    let url = sqlite_url(data.path());
    let report = up(&url, files.path()).await.unwrap();
    assert_eq!(report.steps.len(), 2);
    assert!(
        data.path().join("nested/db.sqlite").is_file(),
        "the parent folder is created"
    );

    std::fs::write(
        files.path().join("3_bad.up.sql"),
        "CREATE TABLE c (id INT);\nINSERT INTO nowhere VALUES (1);\n",
    )
    .unwrap();
    let failure = up(&url, files.path()).await.unwrap_err();
    let err = statement_error(&failure);
    assert_eq!((err.position.line, err.position.column), (2, 1));
    assert!(err.message.contains("no such table"), "{err}");
    // Rolled back: table c does not exist, so the fixed file applies cleanly.
    std::fs::write(
        files.path().join("3_bad.up.sql"),
        "CREATE TABLE c (id INT);\n",
    )
    .unwrap();
    // The edit is of a file that never applied, so no checksum problem.
    up(&url, files.path()).await.unwrap();

    let down = run(&url, files.path(), Target::Down(DownTarget::Steps(1))).await;
    assert!(
        matches!(down, Err(ref f) if matches!(f.error, Error::Plan(_))),
        "3_bad has no down file"
    );
    std::fs::remove_file(files.path().join("3_bad.up.sql")).unwrap();
    std::fs::write(files.path().join("3_bad.sql"), "CREATE TABLE c (id INT);\n").unwrap();
    let report = run(&url, files.path(), Target::Down(DownTarget::To(1))).await;
    assert!(report.is_err(), "3 is irreversible");
}
