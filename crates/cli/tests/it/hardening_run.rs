//! Traps a deploy job or a developer walks into: a bare `down`, a NOT NULL column on a
//! table with rows, a password in a URL written without `//`, a locked SQLite file.

use crate::support::*;
use skein_testkit::TestDb;

#[test]
fn down_with_no_argument_reverts_one_migration() {
    let db = TestDb::new("bare_down");
    let workspace = Workspace::postgres(
        &db.url,
        &[
            ("1_a.up.sql", "CREATE TABLE a (id INT);\n"),
            ("1_a.down.sql", "DROP TABLE a;\n"),
            ("2_b.up.sql", "CREATE TABLE b (id INT);\n"),
            ("2_b.down.sql", "DROP TABLE b;\n"),
        ],
    );
    workspace.run(&["up"]).expect(0);
    workspace.run(&["down"]).expect(0);
    assert_eq!(
        db.value("SELECT string_agg(version::text, ',') FROM skein_history")
            .as_deref(),
        Some("1")
    );
    workspace.run(&["downgrade"]).expect(0);
    assert_eq!(
        db.value("SELECT count(*)::text FROM skein_history")
            .as_deref(),
        Some("0")
    );
}

#[test]
fn a_not_null_column_without_default_is_an_error_on_a_table_with_a_few_rows() {
    let db = TestDb::new("notnull_small");
    let workspace = Workspace::postgres(
        &db.url,
        &[(
            "1_miners.up.sql",
            "CREATE TABLE miners (id INT);\nINSERT INTO miners VALUES (1), (2);\nANALYZE miners;\n",
        )],
    );
    workspace.run(&["up"]).expect(0);
    workspace.write(
        "migrations/2_hotkey.up.sql",
        "SET lock_timeout = '5s';\nALTER TABLE miners ADD COLUMN hotkey TEXT NOT NULL;\n",
    );
    let lint = workspace.run(&["lint", "--format", "json"]).expect(3);
    let findings = lint.json()["databases"][0]["lint"]["findings"].clone();
    assert_eq!(
        findings[0]["rule"], "not-null-without-default",
        "{findings}"
    );
    assert_eq!(findings[0]["severity"], "error", "{findings}");
    // on_up = "error" refuses it before anything runs.
    let config = std::fs::read_to_string(workspace.path().join("skein.toml")).unwrap();
    workspace.write(
        "skein.toml",
        &format!("{config}\n[default.lint]\non_up = \"error\"\n"),
    );
    workspace.run(&["up"]).expect(3);
    assert_eq!(
        db.value("SELECT count(*)::text FROM skein_history")
            .as_deref(),
        Some("1")
    );
}
