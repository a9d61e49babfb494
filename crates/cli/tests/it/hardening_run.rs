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
