//! `inspect --format sql`: a database's schema as the SQL that creates it, which replayed
//! gives the same schema, its columns in the same order.

use crate::support::*;
use skein_testkit::TestDb;

const TABLES: &str = "CREATE TABLE parent (zeta BIGINT PRIMARY KEY, alpha TEXT NOT NULL, mid INT DEFAULT 3);\n\
     CREATE TABLE child (id BIGINT PRIMARY KEY, parent BIGINT REFERENCES parent (zeta), b TEXT, a TEXT);\n\
     CREATE INDEX child_a ON child (a);\n";

/// The column names of `table`'s `CREATE TABLE` in `sql`, in order.
fn column_order(sql: &str, table: &str) -> Vec<String> {
    let start = sql
        .find(&format!("CREATE TABLE {table} ("))
        .or_else(|| sql.find(&format!("CREATE TABLE public.{table} (")))
        .unwrap_or_else(|| panic!("no CREATE TABLE {table} in:\n{sql}"));
    sql[start..]
        .lines()
        .skip(1)
        .take_while(|line| !line.starts_with(')'))
        .map(|line| line.trim().split(' ').next().unwrap().to_owned())
        .filter(|word| {
            !matches!(
                word.as_str(),
                "PRIMARY" | "CONSTRAINT" | "FOREIGN" | "UNIQUE"
            )
        })
        .collect()
}

/// Migrates `source`, dumps it, replays the dump as `copy`'s one migration, and compares.
fn round_trip(config: &str) {
    let workspace = Workspace::new(config, &[("source/1_t.up.sql", TABLES)]);
    workspace.run(&["up", "--db", "source", "-q"]).expect(0);
    let dump = workspace
        .run(&["inspect", "--db", "source", "--format", "sql"])
        .expect(0)
        .stdout();
    assert_eq!(
        column_order(&dump, "parent"),
        ["zeta", "alpha", "mid"],
        "{dump}"
    );
    if config.contains("sqlite://") {
        assert!(
            !dump.contains("public."),
            "no PostgreSQL schema on SQLite:\n{dump}"
        );
    }
    assert_eq!(
        column_order(&dump, "child"),
        ["id", "parent", "b", "a"],
        "{dump}"
    );
    workspace.write("copy/1_dump.up.sql", &dump);
    workspace.run(&["up", "--db", "copy", "-q"]).expect(0);
    assert_eq!(
        fingerprint(&workspace, "copy"),
        fingerprint(&workspace, "source")
    );
    let again = workspace
        .run(&["inspect", "--db", "copy", "--format", "sql"])
        .expect(0)
        .stdout();
    assert_eq!(again, dump, "the copy dumps as the source does");
}

#[test]
fn a_postgres_dump_keeps_the_column_order_and_replays_to_the_same_schema() {
    let (source, copy) = (TestDb::new("dump_source"), TestDb::new("dump_copy"));
    round_trip(&format!(
        "[default.databases.source]\nmigrations = \"source\"\nurl = \"{}\"\n\n\
         [default.databases.copy]\nmigrations = \"copy\"\nurl = \"{}\"\n",
        source.url, copy.url
    ));
}

#[test]
fn a_sqlite_dump_keeps_the_column_order_and_replays_to_the_same_schema() {
    round_trip(
        "[default.databases.source]\nmigrations = \"source\"\nurl = \"sqlite://data/source.db\"\n\n\
         [default.databases.copy]\nmigrations = \"copy\"\nurl = \"sqlite://data/copy.db\"\n",
    );
}

#[test]
fn serial_and_identity_columns_dump_as_themselves() {
    let (source, copy) = (TestDb::new("dump_serial"), TestDb::new("dump_serial_copy"));
    let workspace = Workspace::new(
        &format!(
            "[default.databases.source]\nmigrations = \"source\"\nurl = \"{}\"\n\n\
             [default.databases.copy]\nmigrations = \"copy\"\nurl = \"{}\"\n",
            source.url, copy.url
        ),
        &[(
            "source/1_s.up.sql",
            "CREATE TABLE s (id BIGSERIAL PRIMARY KEY, small SMALLSERIAL, n SERIAL, \
             i INT GENERATED ALWAYS AS IDENTITY, note TEXT);\n\
             CREATE SEQUENCE standalone START WITH 100;\n",
        )],
    );
    workspace.run(&["up", "--db", "source", "-q"]).expect(0);
    let dump = workspace
        .run(&["inspect", "--db", "source", "--format", "sql"])
        .expect(0)
        .stdout();
    for line in [
        "id bigserial NOT NULL",
        "small smallserial NOT NULL",
        "n serial NOT NULL",
        "i integer GENERATED ALWAYS AS IDENTITY NOT NULL",
        "CREATE SEQUENCE public.standalone",
    ] {
        assert!(dump.contains(line), "{line}:\n{dump}");
    }
    assert_eq!(dump.matches("CREATE SEQUENCE").count(), 1, "{dump}");
    workspace.write("copy/1_dump.up.sql", &dump);
    workspace.run(&["up", "--db", "copy", "-q"]).expect(0);
    assert_eq!(
        fingerprint(&workspace, "copy"),
        fingerprint(&workspace, "source")
    );

    // A generated migration creates a new table's serial column as such.
    workspace.write(
        "schema.sql",
        &format!("{dump}\nCREATE TABLE extra (id BIGSERIAL PRIMARY KEY, v TEXT);\n"),
    );
    workspace
        .run(&[
            "new",
            "--db",
            "copy",
            "--from-schema",
            "schema.sql",
            "add extra",
        ])
        .expect(0);
    let up = written(&workspace.path().join("copy"), "_add_extra.up.sql");
    assert!(
        up.contains("id bigserial NOT NULL") && !up.contains("CREATE SEQUENCE"),
        "{up}"
    );
    workspace.run(&["up", "--db", "copy", "-q"]).expect(0);
    workspace
        .run(&[
            "new",
            "--db",
            "copy",
            "--from-schema",
            "schema.sql",
            "--check",
        ])
        .expect(0);
}

/// The example workspace's databases, dumped and replayed, on SQLite and PostgreSQL.
#[test]
fn the_example_workspace_round_trips_through_its_dump() {
    let workspace = crate::example::example();
    let pg: Vec<TestDb> = (0..2).map(|_| TestDb::new("dump_example")).collect();
    // The example's PostgreSQL profile, pointed at this test's databases.
    let config = std::fs::read_to_string(workspace.path().join("skein.toml")).unwrap();
    let config = config
        .replace(
            "postgres://postgres@127.0.0.1:5432/indexer_shared",
            &pg[0].url,
        )
        .replace("postgres://postgres@127.0.0.1:5432/{model}", &pg[1].url);
    workspace.write("skein.toml", &config);
    for profile in ["default", "pg"] {
        workspace.run(&["--profile", profile, "up", "-q"]).expect(0);
        for db in ["infra", "blub_test"] {
            let dump = workspace
                .run(&[
                    "--profile",
                    profile,
                    "inspect",
                    "--db",
                    db,
                    "--format",
                    "sql",
                ])
                .expect(0)
                .stdout();
            let copy_db = TestDb::new("dump_example_copy");
            let url = match profile {
                "pg" => copy_db.url.clone(),
                _ => "sqlite://data/copy.db".to_owned(),
            };
            let copy = Workspace::new(
                &format!("[default.databases.copy]\nmigrations = \"m\"\nurl = \"{url}\"\n"),
                &[("m/1_dump.up.sql", &dump)],
            );
            copy.run(&["up", "-q"]).expect(0);
            let again = copy
                .run(&["inspect", "--db", "copy", "--format", "sql"])
                .expect(0)
                .stdout();
            assert_eq!(
                again, dump,
                "{profile} {db}: the copy dumps as the source does"
            );
            let source = workspace
                .run(&[
                    "--profile",
                    profile,
                    "inspect",
                    "--db",
                    db,
                    "--format",
                    "json",
                ])
                .expect(0)
                .json();
            assert_eq!(
                fingerprint(&copy, "copy"),
                source["databases"][0]["fingerprint"].as_str().unwrap(),
                "{profile} {db}"
            );
        }
    }
}

#[test]
fn a_migration_generated_on_sqlite_names_no_postgresql_schema() {
    let workspace = Workspace::new(
        "[default.databases.app]\nmigrations = \"m\"\nurl = \"sqlite://data/app.db\"\n",
        &[("m/1_t.up.sql", "CREATE TABLE t (id INTEGER PRIMARY KEY);\n")],
    );
    workspace.write(
        "schema.sql",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT NOT NULL DEFAULT '');\n\
         CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INT REFERENCES t (id));\n\
         CREATE INDEX u_t ON u (t_id);\n",
    );
    workspace
        .run(&["new", "--db", "app", "--from-schema", "schema.sql", "more"])
        .expect(0);
    let up = written(&workspace.path().join("m"), "_more.up.sql");
    assert!(
        up.contains("CREATE TABLE u (") && !up.contains("public."),
        "{up}"
    );
    workspace.run(&["up", "-q"]).expect(0);
    workspace
        .run(&[
            "new",
            "--db",
            "app",
            "--from-schema",
            "schema.sql",
            "--check",
        ])
        .expect(0);
}
