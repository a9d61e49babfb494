//! `converge` on PostgreSQL: what a change takes with it is not dropped twice, and a
//! converge that does not commit leaves nothing behind.

use crate::support::*;
use skein_testkit::TestDb;

const MIGRATION: &str = "CREATE TYPE mood AS ENUM ('calm', 'busy');\n\
     CREATE TABLE t (id BIGINT PRIMARY KEY, note TEXT NOT NULL, mood mood);\n\
     INSERT INTO t VALUES (1, 'a', 'calm'), (2, 'b', NULL);\n";

/// A database at head, then made divergent by `divergence`; its expected fingerprint.
fn divergent(tag: &str, divergence: &str) -> (TestDb, Workspace, String) {
    let db = TestDb::new(tag);
    let workspace = Workspace::postgres(&db.url, &[("1_t.up.sql", MIGRATION)]);
    workspace.run(&["up", "-q"]).expect(0);
    let expected = fingerprint(&workspace, "app");
    db.exec(divergence);
    (db, workspace, expected)
}

fn rows(db: &TestDb) -> String {
    db.value("SELECT string_agg(id || ':' || note, ',' ORDER BY id) FROM t")
        .unwrap()
}

#[test]
fn dropping_a_column_drops_its_index_and_constraint_once() {
    let (db, workspace, expected) = divergent(
        "converge_column",
        "ALTER TABLE t ADD COLUMN extra INT UNIQUE; CREATE INDEX t_extra_note ON t (note, extra);",
    );
    let before = rows(&db);
    let run = workspace
        .run(&["converge", "--db", "app", "--apply", "--allow-destructive"])
        .expect(0);
    assert!(
        run.stdout().contains("dropped with column public.t.extra"),
        "{}",
        run.stdout()
    );
    assert_eq!(fingerprint(&workspace, "app"), expected);
    assert_eq!(rows(&db), before, "no row lost");
}

#[test]
fn dropping_a_table_drops_its_serial_sequence_once() {
    let (db, workspace, expected) = divergent(
        "converge_serial",
        "CREATE TABLE junk (id BIGSERIAL PRIMARY KEY, x INT); INSERT INTO junk (x) VALUES (1);",
    );
    let before = rows(&db);
    workspace
        .run(&["converge", "--db", "app", "--apply", "--allow-destructive"])
        .expect(0);
    assert_eq!(fingerprint(&workspace, "app"), expected);
    assert_eq!(rows(&db), before, "no row lost");
    assert_eq!(db.value("SELECT to_regclass('junk_id_seq')::text"), None);
}

#[test]
fn a_converge_that_does_not_commit_leaves_no_history_table() {
    // An enum value SQL cannot drop: the converge rolls back.
    let (db, workspace, _) = divergent(
        "converge_rollback",
        "DROP TABLE skein_history; ALTER TYPE mood ADD VALUE 'sleepy'; ALTER TABLE t ADD COLUMN extra INT;",
    );
    let run = workspace
        .run(&["converge", "--db", "app", "--apply", "--allow-destructive"])
        .expect(1);
    assert!(run.stderr().contains("not converged"), "{}", run.stderr());
    assert_eq!(db.value("SELECT to_regclass('skein_history')::text"), None);
    assert!(
        db.value("SELECT to_regclass('t')::text").is_some()
            && db
                .value("SELECT count(*)::text FROM information_schema.columns WHERE column_name = 'extra'")
                .as_deref()
                == Some("1"),
        "nothing was committed"
    );
}

#[test]
fn sqlite_check_constraints_are_compared_and_kept_by_a_table_rebuild() {
    let workspace = Workspace::new(
        "[default.databases.app]\nmigrations = \"m\"\nurl = \"sqlite://data/app.db\"\n",
        &[(
            "m/1_t.up.sql",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, qty INT NOT NULL CHECK (qty > 0), note TEXT);\n\
             INSERT INTO t VALUES (1, 5, 'a'), (2, 7, 'b');\n",
        )],
    );
    workspace.run(&["up", "-q"]).expect(0);
    let db = workspace.path().join("data/app.db");

    // A table rebuilt by hand without its CHECK is drift.
    sqlite(
        &db,
        "CREATE TABLE t2 (id INTEGER PRIMARY KEY, qty INT NOT NULL, note TEXT);\n\
         INSERT INTO t2 SELECT * FROM t; DROP TABLE t; ALTER TABLE t2 RENAME TO t;",
    )
    .unwrap();
    let drift = workspace.run(&["drift"]).expect(3).stdout();
    assert!(drift.contains("CHECK (qty > 0)"), "{drift}");
    workspace
        .run(&["converge", "--db", "app", "--apply", "--allow-destructive"])
        .expect(0);
    workspace.run(&["drift"]).expect(0);
    let refused = sqlite(&db, "INSERT INTO t VALUES (3, -1, 'c')").unwrap_err();
    assert!(refused.contains("CHECK constraint failed"), "{refused}");

    // A rebuild for another reason (a column to drop) keeps the CHECK.
    sqlite(&db, "ALTER TABLE t ADD COLUMN extra INT").unwrap();
    workspace
        .run(&["converge", "--db", "app", "--apply", "--allow-destructive"])
        .expect(0);
    workspace.run(&["drift"]).expect(0);
    let refused = sqlite(&db, "INSERT INTO t VALUES (3, -1, 'c')").unwrap_err();
    assert!(refused.contains("CHECK constraint failed"), "{refused}");
    assert_eq!(
        sqlite(&db, "INSERT INTO t VALUES (3, 1, 'c')"),
        Ok(()),
        "valid rows still go in"
    );
}

#[test]
fn converge_apply_records_the_history_of_a_database_that_matches_already() {
    let db = TestDb::new("converge_baseline");
    // Made by hand (or by another tool): the schema, no skein history.
    db.exec(MIGRATION);
    let workspace = Workspace::postgres(&db.url, &[("1_t.up.sql", MIGRATION)]);
    let run = workspace
        .run(&["converge", "--db", "app", "--apply"])
        .expect(0);
    assert!(
        run.stdout()
            .contains("history recorded to 1 (1 version(s), as baseline)"),
        "{}",
        run.stdout()
    );
    assert_eq!(
        db.value("SELECT kind FROM skein_history WHERE version = 1")
            .as_deref(),
        Some("baseline")
    );
    workspace.run(&["status", "--check"]).expect(0);
    assert_eq!(rows(&db), "1:a,2:b", "nothing ran again");
}

#[test]
fn converge_does_not_recreate_a_required_table() {
    let db = TestDb::new("converge_required");
    let workspace = Workspace::new(
        &format!(
            "[default.databases.app]\nmigrations = \"migrations\"\nurl = \"{}\"\n\n\
             [default.databases.app.expect]\nrequired_tables = [\"t\"]\n",
            db.url
        ),
        &[("migrations/1_t.up.sql", MIGRATION)],
    );
    workspace.run(&["up", "-q"]).expect(0);
    db.exec("DROP TABLE t");
    let run = workspace
        .run(&["converge", "--db", "app", "--apply", "--format", "json"])
        .expect(1);
    let error = run.json()["databases"][0]["error"]["message"].clone();
    assert!(
        error
            .as_str()
            .is_some_and(|m| m.contains("required table(s) `t` missing")),
        "{error}"
    );
    assert_eq!(db.value("SELECT to_regclass('t')::text"), None);
}

#[test]
fn a_generated_migration_that_loses_data_is_marked_and_needs_allow_destructive() {
    let db = TestDb::new("autogen_destructive");
    let workspace = Workspace::postgres(&db.url, &[("1_t.up.sql", MIGRATION)]);
    workspace.write(
        "schema.sql",
        "CREATE TYPE mood AS ENUM ('calm', 'busy');\nCREATE TABLE t (id BIGINT PRIMARY KEY, mood mood);\n",
    );
    let refused = workspace
        .run(&[
            "new",
            "--db",
            "app",
            "--from-schema",
            "schema.sql",
            "drop note",
        ])
        .expect(2);
    assert!(
        refused
            .stderr()
            .contains("would lose data in app: column public.t.note"),
        "{}",
        refused.stderr()
    );
    let written: Vec<_> = std::fs::read_dir(workspace.path().join("migrations"))
        .unwrap()
        .collect();
    assert_eq!(written.len(), 1, "nothing was written");
    workspace
        .run(&[
            "new",
            "--db",
            "app",
            "--from-schema",
            "schema.sql",
            "--allow-destructive",
            "drop note",
        ])
        .expect(0);
    let up = crate::support::written(&workspace.path().join("migrations"), "_drop_note.up.sql");
    assert!(
        up.contains(
            "-- destructive, data is lost: column public.t.note is not in the migrations\nALTER TABLE public.t DROP COLUMN note;"
        ),
        "{up}"
    );
}

#[test]
fn converge_plans_a_selection_once_per_shared_plan_and_applies_each() {
    let dbs: Vec<TestDb> = (0..3).map(|_| TestDb::new("converge_group")).collect();
    let mut config = String::new();
    for (i, db) in dbs.iter().enumerate() {
        config.push_str(&format!(
            "[default.databases.miner{i}]\nmigrations = \"m\"\nurl = \"{}\"\ngroups = [\"miners\"]\n\n",
            db.url
        ));
    }
    let workspace = Workspace::new(
        &config,
        &[(
            "m/1_t.up.sql",
            "CREATE TABLE t (id BIGINT PRIMARY KEY, note TEXT);\nCREATE INDEX t_note ON t (note);\n\
             INSERT INTO t VALUES (1, 'a');\n",
        )],
    );
    workspace.run(&["up", "-q"]).expect(0);
    dbs[0].exec("DROP INDEX t_note");
    dbs[2].exec("DROP INDEX t_note");

    let plan = workspace.run(&["converge"]).expect(0).stdout();
    assert!(
        plan.contains("2 databases share this plan (miner0, miner2)")
            && plan.contains("miner1: already has the schema of its migrations")
            && plan.matches("CREATE INDEX t_note").count() == 1,
        "{plan}"
    );
    let refused = workspace.run(&["converge", "--apply"]).expect(2);
    assert!(
        refused.stderr().contains("--db NAME or --group NAME"),
        "{}",
        refused.stderr()
    );
    let applied = workspace
        .run(&[
            "converge", "--group", "miners", "--apply", "--format", "json",
        ])
        .expect(0)
        .json();
    assert_eq!(
        statuses_of(&applied),
        [
            ("miner0".to_owned(), "ok".to_owned()),
            ("miner1".to_owned(), "up_to_date".to_owned()),
            ("miner2".to_owned(), "ok".to_owned()),
        ]
        .into()
    );
    workspace.run(&["drift"]).expect(0);
    for db in &dbs {
        assert_eq!(
            db.value("SELECT string_agg(id || ':' || note, ',') FROM t")
                .as_deref(),
            Some("1:a")
        );
    }
}

#[test]
fn sqlite_adds_a_not_null_column_without_default_by_a_rebuild_that_fills_it() {
    let workspace = Workspace::new(
        "[default.databases.app]\nmigrations = \"m\"\nurl = \"sqlite://data/app.db\"\n",
        &[(
            "m/1_t.up.sql",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, label TEXT NOT NULL, seen TIMESTAMP NOT NULL);\n",
        )],
    );
    workspace.run(&["up", "-q"]).expect(0);
    let db = workspace.path().join("data/app.db");
    let expected = fingerprint(&workspace, "app");
    sqlite(
        &db,
        "CREATE TABLE t2 (id INTEGER PRIMARY KEY); INSERT INTO t2 VALUES (1), (2);\n\
         DROP TABLE t; ALTER TABLE t2 RENAME TO t;",
    )
    .unwrap();
    let run = workspace
        .run(&["converge", "--db", "app", "--apply"])
        .expect(0);
    assert!(
        run.stdout().contains("existing rows get ''"),
        "{}",
        run.stdout()
    );
    assert_eq!(fingerprint(&workspace, "app"), expected);
    assert_eq!(
        sqlite_text(&db, "SELECT group_concat(id || ':' || label, ',') FROM t"),
        "1:,2:"
    );
}

#[test]
fn a_sqlite_rebuild_that_would_break_a_foreign_key_commits_nothing() {
    let workspace = Workspace::new(
        "[default.databases.app]\nmigrations = \"m\"\nurl = \"sqlite://data/app.db\"\n",
        &[(
            "m/1_t.up.sql",
            "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n\
             CREATE TABLE child (id INTEGER PRIMARY KEY, parent INT REFERENCES parent (id));\n\
             INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1);\n",
        )],
    );
    workspace.run(&["up", "-q"]).expect(0);
    let db = workspace.path().join("data/app.db");
    // The foreign key lost by hand, and a row that breaks it.
    sqlite(
        &db,
        "CREATE TABLE c2 (id INTEGER PRIMARY KEY, parent INT); INSERT INTO c2 SELECT * FROM child;\n\
         DROP TABLE child; ALTER TABLE c2 RENAME TO child; INSERT INTO child VALUES (2, 99);",
    )
    .unwrap();
    let diverged = fingerprint(&workspace, "app");
    let run = workspace
        .run(&["converge", "--db", "app", "--apply"])
        .expect(1);
    assert!(
        run.stderr()
            .contains("1 row(s) that break a foreign key (child)"),
        "{}",
        run.stderr()
    );
    assert_eq!(
        fingerprint(&workspace, "app"),
        diverged,
        "nothing committed"
    );
}
