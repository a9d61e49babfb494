//! `model new`, `model list` and `db create` on the shared PostgreSQL server.

use crate::support::*;
use skein_testkit::{TestDb, exec, postgres};
use std::path::Path;

fn copy_template(workspace: &Workspace) {
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates/model");
    for entry in std::fs::read_dir(template).unwrap() {
        let path = entry.unwrap().path();
        let content = std::fs::read_to_string(&path).unwrap();
        workspace.write(
            &format!(
                "templates/model/{}",
                path.file_name().unwrap().to_string_lossy()
            ),
            &content,
        );
    }
}

fn database_exists(name: &str) -> bool {
    let admin = TestDb::new("model_probe");
    admin
        .value(&format!(
            "SELECT count(*)::text FROM pg_database WHERE datname = '{name}'"
        ))
        .as_deref()
        == Some("1")
}

/// Drops a database when the test ends, however it ends.
struct DropOnExit(String);

impl Drop for DropOnExit {
    fn drop(&mut self) {
        exec(
            &postgres().admin_url,
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.0),
        );
    }
}

#[test]
fn model_new_lists_the_model_creates_its_database_and_migrates_it() {
    let base = postgres().admin_url.rsplit_once('/').unwrap().0.to_owned();
    let config = format!(
        "[default.models]\ndir = \"database/models\"\ntemplate = \"templates/model\"\nurl = \"{base}/{{model}}\"\n"
    );
    let workspace = Workspace::new(&config, &[]);
    copy_template(&workspace);
    let name = format!("skein_test_uniswap_{}", std::process::id());
    let _cleanup = DropOnExit(name.clone());

    let run = workspace.run(&["model", "new", &name]).expect(0);
    let out = run.stdout();
    assert!(
        out.contains(&format!(
            "model {name}: listed in skein.toml ([default.models] names)"
        )),
        "{out}"
    );
    assert!(
        out.contains("created its database")
            && out.contains("applied 3 migration(s) from templates/model"),
        "{out}"
    );
    assert!(out.contains("commit skein.toml"), "{out}");
    assert!(
        !workspace
            .path()
            .join("database/models")
            .join(&name)
            .exists(),
        "no folder unless asked"
    );
    let db_url = format!("{base}/{name}");
    let probe = |sql: &str| {
        skein_testkit::block_on(async {
            use sqlx::Connection as _;
            let mut conn = sqlx::postgres::PgConnection::connect(&db_url)
                .await
                .unwrap();
            let value: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(&mut conn)
                .await
                .unwrap();
            value
        })
    };
    assert_eq!(probe("SELECT count(*)::text FROM skein_history"), "3");
    assert_eq!(
        probe("SELECT to_regclass('liquidation_events')::text"),
        "liquidation_events"
    );

    let list = workspace
        .run(&["model", "list", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(list["databases"][0]["name"], name.as_str());
    assert_eq!(list["databases"][0]["status"], "up_to_date");
    assert_eq!(list["databases"][0]["model"]["listed_by"][0], "names");

    // Names that are not safe identifiers, or listed already, are refused before anything
    // is made.
    let config = std::fs::read_to_string(workspace.path().join("skein.toml")).unwrap();
    for bad in ["x; DROP DATABASE y", "Bad-Name", name.as_str()] {
        let run = workspace.run(&["model", "new", bad]).expect(2);
        assert!(run.stderr().contains("error:"), "{}", run.stderr());
    }
    assert!(
        workspace
            .run(&["model", "new", &name])
            .expect(2)
            .stderr()
            .contains("is listed already (by names)")
    );
    assert_eq!(
        std::fs::read_to_string(workspace.path().join("skein.toml")).unwrap(),
        config
    );
    assert!(!workspace.path().join("database/models/Bad-Name").exists());

    // --folder lists a second model by a folder of its own instead.
    let second = format!("skein_test_folder_{}", std::process::id());
    let _cleanup_second = DropOnExit(second.clone());
    let out = workspace
        .run(&["model", "new", &second, "--folder"])
        .expect(0)
        .stdout();
    assert!(
        out.contains(&format!(
            "model {second}: made database/models/{second} for its own migrations"
        )),
        "{out}"
    );
    assert!(
        workspace
            .path()
            .join("database/models")
            .join(&second)
            .is_dir()
    );
    let status = workspace
        .run(&["status", "--check", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(status["databases"].as_array().unwrap().len(), 2);
}

#[test]
fn a_failing_model_new_leaves_neither_its_name_nor_its_database() {
    let base = postgres().admin_url.rsplit_once('/').unwrap().0.to_owned();
    let config =
        format!("[default.models]\ndir = \"database/models\"\nurl = \"{base}/{{model}}\"\n");
    let workspace = Workspace::new(&config, &[]);
    copy_template(&workspace);
    workspace.write(
        "templates/model/20240301124000_broken.up.sql",
        "-- {{ model }}\nSELECT * FROM nowhere;\n",
    );
    let name = format!("skein_test_broken_{}", std::process::id());
    let _cleanup = DropOnExit(name.clone());

    let run = workspace.run(&["model", "new", &name]).expect(1);
    assert!(
        run.stderr().contains("migrating it failed")
            && run.stderr().contains("20240301124000_broken.up.sql:2:15"),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr().contains("removed the database"),
        "{}",
        run.stderr()
    );
    let config = || std::fs::read_to_string(workspace.path().join("skein.toml")).unwrap();
    assert!(
        !config().contains(&name),
        "the name is gone from skein.toml"
    );
    assert!(!database_exists(&name), "the database is gone");

    // With --keep, both stay for inspection.
    let run = workspace.run(&["model", "new", &name, "--keep"]).expect(1);
    assert!(
        run.stderr().contains("kept what was made"),
        "{}",
        run.stderr()
    );
    assert!(
        config().contains(&format!("names = [\"{name}\"]")),
        "{}",
        config()
    );
    assert!(database_exists(&name));
}

#[test]
fn db_create_creates_what_is_missing() {
    let base = postgres().admin_url.rsplit_once('/').unwrap().0.to_owned();
    let name = format!("skein_test_created_{}", std::process::id());
    let _cleanup = DropOnExit(name.clone());
    let existing = TestDb::new("db_create_existing");
    let config = format!(
        "[default.databases.fresh]\nmigrations = \"m\"\nurl = \"{base}/{name}\"\n\n[default.databases.old]\nmigrations = \"m\"\nurl = \"{}\"\n",
        existing.url
    );
    let workspace = Workspace::new(&config, &[("m/1_a.up.sql", "CREATE TABLE a (id INT);\n")]);
    let out = workspace.run(&["db", "create"]).expect(0).stdout();
    assert!(
        out.contains("fresh: created") && out.contains("old: exists"),
        "{out}"
    );
    assert!(database_exists(&name));
    let again = workspace.run(&["db", "create"]).expect(0).stdout();
    assert!(again.contains("fresh: exists"), "{again}");
    workspace.run(&["up"]).expect(0);
}
