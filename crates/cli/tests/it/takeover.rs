//! Taking over databases another tool migrated: its markers, its tables.

use crate::support::*;

/// Runs SQL on the SQLite file at `path`.
fn sqlite_exec(path: &std::path::Path, sql: &str) {
    let url = format!("sqlite://{}", path.display());
    let sql = sql.to_owned();
    skein_testkit::block_on(async move {
        use sqlx::Connection as _;
        let mut conn = sqlx::sqlite::SqliteConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
    });
}

#[test]
fn ignored_tables_are_left_out_of_inspect_drift_check_and_converge() {
    let config = r#"[default.databases.app]
url = "sqlite://data/app.db"
migrations = "m"
ignore_tables = ["alembic_version", "tmp_*"]

[default.databases.app.expect]
required_tables = ["users"]
forbidden_tables = ["alembic_version"]
"#;
    let workspace = Workspace::new(
        config,
        &[("m/1_users.sql", "CREATE TABLE users (id INT);\n")],
    );
    workspace.run(&["up", "-q"]).expect(0);
    sqlite_exec(
        &workspace.path().join("data/app.db"),
        "CREATE TABLE alembic_version (version_num TEXT); CREATE TABLE tmp_load (x INT); CREATE TABLE stray (x INT);",
    );
    let inspect = workspace
        .run(&["inspect", "--db", "app", "--format", "json"])
        .expect(0)
        .json();
    let tables: Vec<String> = inspect["schema"]["tables"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert!(tables.iter().any(|t| t.ends_with("users")), "{tables:?}");
    assert!(tables.iter().any(|t| t.ends_with("stray")), "{tables:?}");
    assert!(
        !tables
            .iter()
            .any(|t| t.contains("alembic") || t.contains("tmp_")),
        "{tables:?}"
    );
    // drift names the stray table only; converge drops it and nothing ignored.
    let drift = workspace.run(&["drift"]).expect(3).stdout();
    assert!(
        drift.contains("stray") && !drift.contains("tmp_load"),
        "{drift}"
    );
    workspace.run(&["check"]).expect(0);
    workspace
        .run(&["converge", "--db", "app", "--apply", "--allow-destructive"])
        .expect(0);
    workspace.run(&["drift"]).expect(0);
    let still = workspace.run(&["inspect", "--db", "app", "--format", "json"]);
    assert!(!still.stdout().contains("stray"));
    // Without the setting, the ignored tables are there again.
    workspace.write(
        "skein.toml",
        "[default.databases.app]\nurl = \"sqlite://data/app.db\"\nmigrations = \"m\"\n",
    );
    let drift = workspace.run(&["drift"]).expect(3).stdout();
    assert!(
        drift.contains("tmp_load") && drift.contains("alembic_version"),
        "{drift}"
    );
}

#[test]
fn a_dbmate_folder_is_imported_then_migrated_and_an_sqlx_folder_needs_nothing() {
    let workspace = Workspace::new(
        "[default.databases.app]\nurl = \"sqlite://data/app.db\"\nmigrations = \"database/app\"\n",
        &[
            (
                "old/20240101120000_create_users.sql",
                "-- migrate:up\nCREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n\n-- migrate:down\nDROP TABLE users;\n",
            ),
            (
                "old/20240102090000_add_email.sql",
                "-- migrate:up\nALTER TABLE users ADD COLUMN email TEXT;\n-- migrate:down\nALTER TABLE users DROP COLUMN email;\n",
            ),
            ("sqlx/1_a.up.sql", "CREATE TABLE a (id INTEGER);\n"),
            ("sqlx/1_a.down.sql", "DROP TABLE a;\n"),
        ],
    );
    let out = workspace
        .run(&["import", "--from", "dbmate", "old", "--to", "database/app"])
        .expect(0)
        .stdout();
    assert!(
        out.contains("20240101120000_create_users -> 20240101120000_create_users.up.sql, 20240101120000_create_users.down.sql"),
        "{out}"
    );
    let mapping =
        std::fs::read_to_string(workspace.path().join("database/app/skein-import.toml")).unwrap();
    assert!(
        mapping.contains("\"20240102090000_add_email\" = 20240102090000"),
        "{mapping}"
    );
    let up = workspace.run(&["up", "--format", "json"]).expect(0).json();
    assert_eq!(up["databases"][0]["version_after"], 20240102090000i64);
    workspace
        .run(&["down", "--db", "app", "--to", "base", "-q"])
        .expect(0);
    // Nothing is overwritten.
    let again = workspace
        .run(&["import", "--from", "dbmate", "old", "--to", "database/app"])
        .expect(2);
    assert!(again.stderr().contains("not empty"), "{}", again.stderr());
    // An sqlx folder is skein's layout already.
    let sqlx = workspace
        .run(&["import", "--from", "sqlx", "sqlx"])
        .expect(0)
        .stdout();
    assert!(
        sqlx.contains("in skein's layout already (1 migration(s))"),
        "{sqlx}"
    );
    let unknown = workspace
        .run(&["import", "--from", "liquibase", "old"])
        .expect(2);
    assert!(
        unknown.stderr().contains("dbmate, goose"),
        "{}",
        unknown.stderr()
    );
}
