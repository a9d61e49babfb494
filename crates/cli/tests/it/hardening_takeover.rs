//! Import and adopt reading hostile input: file names that break a naive map, links out of
//! the folder, and history rows that are dirty or not numbers.

use crate::support::*;
use skein_testkit::TestDb;

/// A PostgreSQL database with a golang-migrate-shaped history and the tables of 1 and 2.
fn golang_migrate_db(rows: &str) -> (TestDb, Workspace) {
    let db = TestDb::new("hostile_adopt");
    db.exec(&format!(
        "CREATE TABLE a (id INT); CREATE TABLE b (id INT);\n\
         CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, dirty BOOLEAN NOT NULL);\n\
         INSERT INTO schema_migrations VALUES {rows};"
    ));
    let workspace = Workspace::postgres(
        &db.url,
        &[
            ("1_a.up.sql", "CREATE TABLE a (id INT);\n"),
            ("2_b.up.sql", "CREATE TABLE b (id INT);\n"),
        ],
    );
    (db, workspace)
}

#[test]
fn adopt_reads_every_row_and_refuses_a_dirty_one_anywhere() {
    let (db, workspace) = golang_migrate_db("(2, false), (1, true)");
    let run = workspace
        .run(&["adopt", "--from", "golang-migrate"])
        .expect(1);
    assert!(
        run.stderr().contains("version 1 is dirty"),
        "{}",
        run.stderr()
    );
    assert_eq!(db.value("SELECT to_regclass('skein_history')::text"), None);
}

#[test]
fn adopt_refuses_a_version_that_is_not_a_whole_number_naming_it() {
    let db = TestDb::new("hostile_adopt_text");
    db.exec(
        "CREATE TABLE a (id INT);\n\
         CREATE TABLE schema_migrations (version VARCHAR(128) PRIMARY KEY);\n\
         INSERT INTO schema_migrations VALUES ('1.5');",
    );
    let workspace = Workspace::postgres(
        &db.url,
        &[
            ("15_a.up.sql", "CREATE TABLE a (id INT);\n"),
            ("16_b.up.sql", "CREATE TABLE b (id INT);\n"),
        ],
    );
    let run = workspace.run(&["adopt", "--from", "dbmate"]).expect(1);
    assert!(run.stderr().contains("`1.5`"), "{}", run.stderr());
    assert!(
        run.stderr().contains("not a whole number"),
        "{}",
        run.stderr()
    );
    assert_eq!(db.value("SELECT to_regclass('skein_history')::text"), None);
}

#[cfg(unix)]
#[test]
fn import_writes_any_file_name_into_a_map_that_parses_and_refuses_links_out_of_the_folder() {
    let workspace = Workspace::new("", &[]);
    let source = workspace.path().join("db/migrations");
    std::fs::create_dir_all(&source).unwrap();
    for (name, sql) in [
        ("20240101120000_new\nline.sql", "CREATE TABLE a (id INT);"),
        (
            "20240102120000_esc\u{1b}[31m.sql",
            "CREATE TABLE b (id INT);",
        ),
        (
            "20240103120000_quote\"and\\slash.sql",
            "CREATE TABLE c (id INT);",
        ),
    ] {
        std::fs::write(
            source.join(name),
            format!("-- migrate:up\n{sql}\n\n-- migrate:down\nSELECT 1;\n"),
        )
        .unwrap();
    }
    workspace
        .run(&[
            "import",
            "--from",
            "dbmate",
            "db/migrations",
            "--to",
            "database/app",
        ])
        .expect(0);
    let map =
        std::fs::read_to_string(workspace.path().join("database/app/skein-import.toml")).unwrap();
    let parsed: toml_edit::DocumentMut = map.parse().unwrap_or_else(|e| panic!("{e}\n{map}"));
    let versions = parsed["versions"].as_table().unwrap();
    assert_eq!(versions.len(), 3, "{map}");
    assert!(versions.contains_key("20240101120000_new\nline"), "{map}");

    // A link that leads out of the source folder is refused, naming it.
    let outside = workspace.path().join("secret.sql");
    std::fs::write(&outside, "-- migrate:up\nSELECT 1;\n").unwrap();
    std::os::unix::fs::symlink(&outside, source.join("20240104120000_link.sql")).unwrap();
    let run = workspace
        .run(&[
            "import",
            "--from",
            "dbmate",
            "db/migrations",
            "--to",
            "database/other",
        ])
        .expect(2);
    assert!(
        run.stderr().contains("20240104120000_link.sql"),
        "{}",
        run.stderr()
    );
    assert!(run.stderr().contains("outside"), "{}", run.stderr());
    assert!(!workspace.path().join("database/other").exists());
}

#[test]
fn a_file_that_fails_in_the_scratch_replay_is_named_and_repair_is_not_advised() {
    let db = TestDb::new("replay_fails");
    db.exec(
        "CREATE TABLE a (id INT);\n\
         CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, dirty BOOLEAN NOT NULL);\n\
         INSERT INTO schema_migrations VALUES (1, false);",
    );
    // Outside a transaction, so that its failure leaves the scratch database half-done.
    let workspace = Workspace::postgres(
        &db.url,
        &[(
            "1_a.up.sql",
            "-- skein:no-transaction\nCREATE TABLE a (id INT);\nINSERT INTO runner_log VALUES (1);\n",
        )],
    );
    let run = workspace.run(&["adopt"]).expect(1);
    let stderr = run.stderr();
    assert!(
        stderr.contains("1_a.up.sql:3:") && stderr.contains("runner_log"),
        "{stderr}"
    );
    assert!(!stderr.contains("repair"), "{stderr}");
}

#[test]
fn several_history_tables_are_chosen_from_by_the_import_map_or_named_with_from() {
    let db = TestDb::new("two_histories");
    // A project once on Alembic, later on golang-migrate: both tables are still there.
    db.exec(
        "CREATE TABLE a (id INT);\n\
         CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);\n\
         INSERT INTO alembic_version VALUES ('0a1b2c3d4e5f');\n\
         CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, dirty BOOLEAN NOT NULL);\n\
         INSERT INTO schema_migrations VALUES (1, false);",
    );
    let workspace = Workspace::postgres(&db.url, &[("1_a.up.sql", "CREATE TABLE a (id INT);\n")]);
    let run = workspace.run(&["adopt"]).expect(1);
    assert!(
        run.stderr()
            .contains("(schema_migrations, alembic_version)")
            && run.stderr().contains("--from TOOL"),
        "{}",
        run.stderr()
    );
    // The import map written by `skein import --from golang-migrate` names the tool.
    workspace.write(
        "migrations/skein-import.toml",
        "from = \"golang-migrate\"\n[versions]\n\"1_a\" = 1\n",
    );
    let run = workspace.run(&["adopt", "--format", "json"]).expect(0);
    assert_eq!(
        run.json()["databases"][0]["foreign_history"]["table"],
        "schema_migrations"
    );
    assert!(
        run.stderr().contains("adopting golang-migrate's schema_migrations (named by skein-import.toml); alembic_version is here too"),
        "{}",
        run.stderr()
    );
}

#[test]
fn an_alembic_table_with_two_heads_is_refused_naming_them() {
    let db = TestDb::new("two_heads");
    db.exec(
        "CREATE TABLE a (id INT); CREATE TABLE b (id INT);\n\
         CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);\n\
         INSERT INTO alembic_version VALUES ('c0ffee000002'), ('b0b000000001');",
    );
    let workspace = Workspace::postgres(
        &db.url,
        &[
            ("1_a.up.sql", "CREATE TABLE a (id INT);\n"),
            ("2_b.up.sql", "CREATE TABLE b (id INT);\n"),
            (
                "skein-import.toml",
                "from = \"alembic\"\n[versions]\n\"b0b000000001\" = 1\n\"c0ffee000002\" = 2\n",
            ),
        ],
    );
    let run = workspace.run(&["adopt"]).expect(1);
    assert!(
        run.stderr()
            .contains("2 heads (b0b000000001, c0ffee000002)")
            && run.stderr().contains("alembic merge heads"),
        "{}",
        run.stderr()
    );
    assert_eq!(db.value("SELECT to_regclass('skein_history')::text"), None);
}
