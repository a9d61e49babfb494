//! Taking over databases another tool migrated: its markers, its tables.

use crate::support::*;

/// Runs SQL on the SQLite file at `path`.
fn sqlite_exec(path: &std::path::Path, sql: &str) {
    sqlite(path, sql).unwrap();
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
    let tables: Vec<String> = inspect["databases"][0]["schema"]["tables"]
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
    // Without the setting, the ignored tables are there again; other tools' history
    // tables (alembic_version) are always left out, as skein's own is.
    workspace.write(
        "skein.toml",
        "[default.databases.app]\nurl = \"sqlite://data/app.db\"\nmigrations = \"m\"\n",
    );
    let drift = workspace.run(&["drift"]).expect(3).stdout();
    assert!(
        drift.contains("tmp_load") && !drift.contains("alembic_version"),
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

const THREE: [(&str, &str); 3] = [
    (
        "m/1_users.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
    ),
    (
        "m/2_orders.sql",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER);\n",
    ),
    (
        "m/3_index.sql",
        "CREATE INDEX orders_user_idx ON orders (user_id);\n",
    ),
];

fn one_sqlite_database() -> Workspace {
    Workspace::new(
        "[default.databases.app]\nurl = \"sqlite://data/app.db\"\nmigrations = \"m\"\n",
        &THREE,
    )
}

#[test]
fn a_golang_migrate_database_is_adopted_and_up_applies_only_what_is_missing() {
    let workspace = one_sqlite_database();
    std::fs::create_dir_all(workspace.path().join("data")).unwrap();
    let db = workspace.path().join("data/app.db");
    std::fs::File::create(&db).unwrap();
    // What golang-migrate leaves after migrating to version 2.
    sqlite_exec(
        &db,
        "CREATE TABLE users (id INTEGER PRIMARY KEY);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER);
         CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (2, false);",
    );
    // up alone refuses: it would run everything again; so does its plan.
    workspace.run(&["up", "--dry-run"]).expect(1);
    let refused = workspace.run(&["up"]).expect(1);
    assert!(
        refused.stderr().contains("`schema_migrations`")
            && refused.stderr().contains("skein adopt"),
        "{}",
        refused.stderr()
    );
    let adopt = workspace
        .run(&["adopt", "--db", "app", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(adopt["databases"][0]["status"], "ok", "{adopt}");
    assert_eq!(adopt["databases"][0]["version_after"], 2);
    assert_eq!(adopt["databases"][0]["edits"].as_array().unwrap().len(), 2);
    let up = workspace.run(&["up", "--format", "json"]).expect(0).json();
    let steps = versions_in(&up, "steps");
    assert_eq!(steps, [3], "{up}");
    // The other tool's table stays, and drift does not report it.
    workspace.run(&["drift"]).expect(0);
    // Adopting again changes nothing.
    let again = workspace.run(&["adopt", "--db", "app"]).expect(0);
    assert!(
        again.stdout().contains("nothing to change"),
        "{}",
        again.stdout()
    );
}

#[test]
fn a_database_edited_by_hand_is_refused_with_the_difference_named() {
    let workspace = one_sqlite_database();
    std::fs::create_dir_all(workspace.path().join("data")).unwrap();
    let db = workspace.path().join("data/app.db");
    std::fs::File::create(&db).unwrap();
    sqlite_exec(
        &db,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, nickname TEXT);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER);
         CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (2, false);",
    );
    let run = workspace.run(&["adopt", "--db", "app"]).expect(3);
    assert!(
        run.stderr().contains("nickname") && run.stderr().contains("nothing recorded"),
        "{}",
        run.stderr()
    );
    let status = workspace
        .run(&["status", "--db", "app", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(status["databases"][0]["pending"], 3, "nothing was recorded");
    // A dirty golang-migrate version is refused before anything is compared.
    sqlite_exec(&db, "UPDATE schema_migrations SET dirty = true");
    let dirty = workspace.run(&["adopt", "--db", "app"]).expect(1);
    assert!(dirty.stderr().contains("dirty"), "{}", dirty.stderr());
    // A table that is not there is named as such.
    let missing = workspace
        .run(&["adopt", "--db", "app", "--table", "flyway_hist"])
        .expect(1);
    assert!(
        missing
            .stderr()
            .contains("--table flyway_hist: this database has no such table"),
        "{}",
        missing.stderr()
    );
    // --force records anyway.
    sqlite_exec(&db, "UPDATE schema_migrations SET dirty = false");
    workspace
        .run(&["adopt", "--db", "app", "--force"])
        .expect(0);
}

#[test]
fn a_hand_made_runner_with_a_gap_is_adopted_without_recording_the_gap() {
    let workspace = one_sqlite_database();
    std::fs::create_dir_all(workspace.path().join("data")).unwrap();
    let db = workspace.path().join("data/app.db");
    std::fs::File::create(&db).unwrap();
    // Versions 1 and 3 applied, 2 never: text versions, as a hand-made runner keeps them.
    sqlite_exec(
        &db,
        "CREATE TABLE users (id INTEGER PRIMARY KEY);
         CREATE TABLE schema_migrations (version varchar(255) PRIMARY KEY, applied_at text, applied_by text, checksum text, execution_time_ms integer);
         INSERT INTO schema_migrations VALUES ('1', '2026-01-01', 'ops', 'x', 3);",
    );
    workspace.write(
        "m/3_index.sql",
        "CREATE INDEX users_id_idx ON users (id);\n",
    );
    sqlite_exec(
        &db,
        "CREATE INDEX users_id_idx ON users (id); INSERT INTO schema_migrations VALUES ('3', '2026-01-02', 'ops', 'y', 4);",
    );
    let adopt = workspace
        .run(&[
            "adopt",
            "--db",
            "app",
            "--table",
            "schema_migrations",
            "--format",
            "json",
        ])
        .expect(0)
        .json();
    let recorded = versions_in(&adopt, "edits");
    assert_eq!(recorded, [1, 3], "the gap is not recorded: {adopt}");
    let history = workspace
        .run(&["history", "--db", "app", "--format", "json"])
        .expect(0)
        .json();
    let states = migration_states(&history);
    assert_eq!(states, ["applied", "pending", "applied"], "{history}");
    workspace
        .run(&["up", "--allow-out-of-order", "-q"])
        .expect(0);
    workspace.run(&["drift"]).expect(0);
}

#[test]
fn postgres_databases_migrated_by_dbmate_are_imported_adopted_in_one_command_and_brought_to_head() {
    use skein_testkit::{TestDb, dbmate};
    let dbmate = dbmate();
    let files = 20;
    let applied = 15;
    let count = 6;
    let dbs: Vec<TestDb> = (0..count).map(|_| TestDb::new("dbmate")).collect();
    let migration = |i: usize| {
        (
            format!("dbmate/2024010100{i:04}_step_{i}.sql"),
            format!(
                "-- migrate:up\nCREATE TABLE t{i} (id bigint PRIMARY KEY, note text);\n\n-- migrate:down\nDROP TABLE t{i};\n"
            ),
        )
    };
    let mut written: Vec<(String, String)> = (1..=files).map(migration).collect();
    // dbmate sees only the first 15: it migrates every database to version 15 of 20.
    let first: Vec<(String, String)> = written
        .iter()
        .take(applied)
        .map(|(name, text)| (name.replacen("dbmate/", "first/", 1), text.clone()))
        .collect();
    written.extend(first);
    let mut config = String::new();
    for (i, db) in dbs.iter().enumerate() {
        config.push_str(&format!(
            "[default.databases.app{i}]\nurl = \"{}\"\nmigrations = \"database/app\"\n\n",
            db.url
        ));
    }
    let files_ref: Vec<(&str, &str)> = written
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let workspace = Workspace::new(&config, &files_ref);
    for db in &dbs {
        let status = std::process::Command::new(&dbmate)
            .args(["--url", &format!("{}?sslmode=disable", db.url)])
            .args(["--migrations-dir", "first", "--no-dump-schema", "migrate"])
            .current_dir(workspace.path())
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
    }
    workspace
        .run(&[
            "import",
            "--from",
            "dbmate",
            "dbmate",
            "--to",
            "database/app",
        ])
        .expect(0);
    let adopt = workspace
        .run(&["adopt", "--group", "infra", "--format", "json"])
        .expect(0)
        .json();
    let adopted = adopt["databases"].as_array().unwrap();
    assert_eq!(adopted.len(), count);
    for db in adopted {
        assert_eq!(db["status"], "ok", "{adopt}");
        assert_eq!(db["edits"].as_array().unwrap().len(), applied, "{adopt}");
    }
    let up = workspace.run(&["up", "--format", "json"]).expect(0).json();
    for db in up["databases"].as_array().unwrap() {
        assert_eq!(
            db["steps"].as_array().unwrap().len(),
            files - applied,
            "{up}"
        );
        assert_eq!(db["version_after"], 20240101000020i64, "{up}");
    }
    workspace.run(&["drift"]).expect(0);
}

#[test]
fn an_sqlx_database_on_postgres_is_adopted_from_its_own_history_table() {
    use skein_testkit::TestDb;
    let db = TestDb::new("sqlx_adopt");
    let config = format!(
        "[default.databases.app]\nurl = \"{}\"\nmigrations = \"m\"\n",
        db.url
    );
    let workspace = Workspace::new(
        &config,
        &[
            (
                "m/1_users.up.sql",
                "CREATE TABLE users (id bigint PRIMARY KEY);\n",
            ),
            ("m/1_users.down.sql", "DROP TABLE users;\n"),
            (
                "m/2_index.up.sql",
                "-- no-transaction\nCREATE INDEX CONCURRENTLY users_id_idx ON users (id);\n",
            ),
            ("m/2_index.down.sql", "DROP INDEX users_id_idx;\n"),
            (
                "m/3_orders.up.sql",
                "CREATE TABLE orders (id bigint PRIMARY KEY);\n",
            ),
            ("m/3_orders.down.sql", "DROP TABLE orders;\n"),
        ],
    );
    // What `sqlx migrate run` leaves after the first two (its table, as sqlx makes it).
    db.exec("CREATE TABLE users (id bigint PRIMARY KEY)");
    db.exec("CREATE INDEX CONCURRENTLY users_id_idx ON users (id)");
    db.exec(
        "CREATE TABLE _sqlx_migrations (
             version BIGINT PRIMARY KEY,
             description TEXT NOT NULL,
             installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
             success BOOLEAN NOT NULL,
             checksum BYTEA NOT NULL,
             execution_time BIGINT NOT NULL
         );
         INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (1, 'users', true, '\\x00', 1000), (2, 'index', true, '\\x00', 2000);",
    );
    let adopt = workspace
        .run(&["adopt", "--db", "app", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(adopt["databases"][0]["version_after"], 2, "{adopt}");
    let up = workspace.run(&["up", "--format", "json"]).expect(0).json();
    assert_eq!(
        up["databases"][0]["steps"].as_array().unwrap().len(),
        1,
        "{up}"
    );
    workspace.run(&["drift"]).expect(0);
    // The no-transaction marker of sqlx is honoured going down too.
    workspace
        .run(&["down", "--db", "app", "--to", "base", "-q"])
        .expect(0);
}

/// A small Alembic project: users, an enum type, a data migration, an index.
const ALEMBIC_ENV: &str = r#"from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config


def offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def online():
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()


offline() if context.is_offline_mode() else online()
"#;

fn alembic_revision(
    id: &str,
    parent: Option<&str>,
    day: u32,
    message: &str,
    up: &str,
    down: &str,
) -> String {
    format!(
        "\"\"\"{message}\n\nRevision ID: {id}\nRevises: {}\nCreate Date: 2024-03-{day:02} 10:00:00.000000\n\n\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\nfrom sqlalchemy.dialects import postgresql\n\nrevision = '{id}'\ndown_revision = {}\nbranch_labels = None\ndepends_on = None\n\nstatus = postgresql.ENUM('active', 'blocked', name='user_status')\n\n\ndef upgrade():\n    {up}\n\n\ndef downgrade():\n    {down}\n",
        parent.unwrap_or(""),
        parent.map_or("None".to_owned(), |p| format!("'{p}'")),
    )
}

#[test]
fn an_alembic_project_is_imported_and_its_database_adopted_then_migrated_and_reverted() {
    use skein_testkit::{TestDb, alembic};
    let alembic = alembic();
    let db = TestDb::new("alembic");
    let sqlalchemy_url = db.url.replacen("postgres://", "postgresql+psycopg2://", 1);
    let revisions = [
        alembic_revision(
            "a1",
            None,
            1,
            "create users",
            "op.create_table('users', sa.Column('id', sa.Integer, primary_key=True), sa.Column('name', sa.String(50), nullable=False))",
            "op.drop_table('users')",
        ),
        alembic_revision(
            "b2",
            Some("a1"),
            2,
            "add status enum",
            "status.create(op.get_bind())\n    op.add_column('users', sa.Column('status', status, nullable=False, server_default='active'))",
            "op.drop_column('users', 'status')\n    status.drop(op.get_bind())",
        ),
        alembic_revision(
            "c3",
            Some("b2"),
            3,
            "seed the admin user",
            "op.execute(\"INSERT INTO users (id, name, status) VALUES (1, 'admin', 'active')\")",
            "op.execute(\"DELETE FROM users WHERE id = 1\")",
        ),
        alembic_revision(
            "d4",
            Some("c3"),
            4,
            "index users by name",
            "op.create_index('users_name_idx', 'users', ['name'])",
            "op.drop_index('users_name_idx', table_name='users')",
        ),
    ];
    let ini = format!("[alembic]\nscript_location = alembic\nsqlalchemy.url = {sqlalchemy_url}\n");
    let config = format!(
        "[default.databases.app]\nurl = \"{}\"\nmigrations = \"database/app\"\n",
        db.url
    );
    let workspace = Workspace::new(
        &config,
        &[
            ("project/alembic.ini", ini.as_str()),
            ("project/alembic/env.py", ALEMBIC_ENV),
            ("project/alembic/versions/a1.py", revisions[0].as_str()),
            ("project/alembic/versions/b2.py", revisions[1].as_str()),
            ("project/alembic/versions/c3.py", revisions[2].as_str()),
            ("project/alembic/versions/d4.py", revisions[3].as_str()),
        ],
    );
    // Alembic itself migrates the database to revision c3.
    let migrated = std::process::Command::new(&alembic)
        .args(["upgrade", "c3"])
        .current_dir(workspace.path().join("project"))
        .output()
        .unwrap();
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let alembic_command = alembic.display().to_string();
    workspace
        .run(&[
            "import",
            "--from",
            "alembic",
            "project",
            "--to",
            "database/app",
            "--alembic",
            &alembic_command,
        ])
        .expect(0);
    let mapping =
        std::fs::read_to_string(workspace.path().join("database/app/skein-import.toml")).unwrap();
    assert!(mapping.contains("\"c3\" = 20240303100000"), "{mapping}");

    workspace.run(&["up"]).expect(1); // another tool's history and none of skein's
    workspace.run(&["adopt", "--db", "app"]).expect(0);
    let status = workspace
        .run(&["status", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(status["databases"][0]["version_after"], 20240303100000i64);
    assert_eq!(status["databases"][0]["pending"], 1);
    let up = workspace.run(&["up", "--format", "json"]).expect(0).json();
    let steps = versions_in(&up, "steps");
    assert_eq!(steps, [20240304100000], "only revision d4 runs");
    workspace.run(&["drift"]).expect(0);
    workspace
        .run(&["down", "--db", "app", "--to", "base", "-q"])
        .expect(0);
    assert_eq!(
        db.value("SELECT count(*)::text FROM pg_type WHERE typname = 'user_status'")
            .as_deref(),
        Some("0"),
        "the enum type is gone"
    );
}

#[test]
fn a_hand_made_runner_on_postgres_is_taken_over_in_two_commands_keeping_its_times() {
    use skein_testkit::TestDb;
    let db = TestDb::new("handmade");
    let config = format!(
        "[default.databases.app]\nurl = \"{}\"\nmigrations = \"database/app\"\nignore_tables = [\"ops_*\"]\n",
        db.url
    );
    let workspace = Workspace::new(
        &config,
        &[
            (
                "runner/up/20260129_0001_001_initial_schema.sql",
                "CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);\n",
            ),
            (
                "runner/down/20260129_0001_001_initial_schema.sql",
                "DROP TABLE accounts;\n",
            ),
            (
                "runner/up/20260129_0002_001_add_plans.sql",
                "CREATE TABLE plans (id bigint PRIMARY KEY);\n",
            ),
            (
                "runner/up/20260203_0001_001_add_invoices.sql",
                "CREATE TABLE invoices (id bigint PRIMARY KEY, account_id bigint REFERENCES accounts (id));\n",
            ),
        ],
    );
    // The runner applied the first and third (text versions, its own columns); the second
    // was never applied; an operator made a table by hand.
    db.exec(
        "CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);
         CREATE TABLE invoices (id bigint PRIMARY KEY, account_id bigint REFERENCES accounts (id));
         CREATE TABLE ops_notes (note text);
         CREATE TABLE schema_migrations (version varchar(255) PRIMARY KEY, applied_at timestamptz NOT NULL, applied_by text, checksum text, execution_time_ms integer);
         INSERT INTO schema_migrations VALUES
           ('20260129_0001_001_initial_schema', '2026-01-29 10:00:00+00', 'ops', 'c1', 42),
           ('20260203_0001_001_add_invoices', '2026-02-03 09:30:00+00', 'ops', 'c3', 7);",
    );
    workspace
        .run(&[
            "import",
            "--from",
            "up-down",
            "runner",
            "--to",
            "database/app",
        ])
        .expect(0);
    workspace
        .run(&["adopt", "--db", "app", "--table", "schema_migrations"])
        .expect(0);
    let history = workspace
        .run(&["history", "--db", "app", "--format", "json"])
        .expect(0)
        .json();
    let entries = history["databases"][0]["migrations"].as_array().unwrap();
    let states: Vec<&str> = entries
        .iter()
        .map(|m| m["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        ["applied", "pending", "applied"],
        "the gap stays pending"
    );
    let first = &entries[0]["applied"];
    assert_eq!(first["applied_at"], "2026-01-29T10:00:00.000Z", "{history}");
    assert_eq!(first["execution_ms"], 42, "{history}");
    assert!(
        first["applied_by"].as_str().unwrap().starts_with("ops (")
            && first["applied_by"]
                .as_str()
                .unwrap()
                .contains("adopted from"),
        "{history}"
    );
    assert_eq!(first["kind"], "baseline", "{history}");
    // The gap is applied when asked for, and the database then is what its files say.
    workspace
        .run(&["up", "--allow-out-of-order", "-q"])
        .expect(0);
    workspace.run(&["drift"]).expect(0);
}

#[test]
fn a_first_stamp_does_not_record_a_migration_that_was_never_applied() {
    // The naive take-over: the database has 1 and 3 applied by hand, 2 never. `stamp head`
    // would record 2 as applied; the check refuses, and stamping 1 alone passes.
    let workspace = one_sqlite_database();
    std::fs::create_dir_all(workspace.path().join("data")).unwrap();
    let db = workspace.path().join("data/app.db");
    std::fs::File::create(&db).unwrap();
    sqlite_exec(&db, "CREATE TABLE users (id INTEGER PRIMARY KEY);");
    let refused = workspace.run(&["stamp", "--db", "app", "head"]).expect(3);
    assert!(
        refused.stderr().contains("orders") && refused.stderr().contains("nothing recorded"),
        "{}",
        refused.stderr()
    );
    workspace.run(&["stamp", "--db", "app", "1"]).expect(0);
    let status = workspace
        .run(&["status", "--db", "app", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(status["databases"][0]["version_after"], 1);
    // Once there is skein history, stamp records as it always did.
    workspace.run(&["stamp", "--db", "app", "2"]).expect(0);
}

/// Flyway's history table, as Flyway makes it on PostgreSQL.
const FLYWAY_HISTORY: &str = "CREATE TABLE flyway_schema_history (
    installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL,
    type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INT,
    installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(),
    execution_time INT NOT NULL, success BOOLEAN NOT NULL)";

#[test]
fn a_flyway_project_and_database_are_imported_and_adopted() {
    use skein_testkit::TestDb;
    let db = TestDb::new("flyway");
    let config = format!(
        "[default.databases.app]\nurl = \"{}\"\nmigrations = \"database/app\"\n",
        db.url
    );
    let workspace = Workspace::new(
        &config,
        &[
            ("sql/V1__init.sql", "CREATE TABLE a (id int PRIMARY KEY);\n"),
            (
                "sql/V1_2__more.sql",
                "CREATE TABLE b (id int PRIMARY KEY);\n",
            ),
            (
                "sql/V1_10__later.sql",
                "CREATE TABLE c (id int PRIMARY KEY);\n",
            ),
            ("sql/U1_10__later.sql", "DROP TABLE c;\n"),
            (
                "sql/R__views.sql",
                "CREATE OR REPLACE VIEW v AS SELECT 1 AS one;\n",
            ),
        ],
    );
    // Flyway applied 1 and 1.2: its table, as Flyway makes it.
    db.exec(FLYWAY_HISTORY);
    db.exec(
        "CREATE TABLE a (id int PRIMARY KEY);
         CREATE TABLE b (id int PRIMARY KEY);
         INSERT INTO flyway_schema_history VALUES
             (1, '1', 'init', 'SQL', 'V1__init.sql', 1, 'deploy', '2025-05-01 12:00:00', 12, true),
             (2, '1.2', 'more', 'SQL', 'V1_2__more.sql', 2, 'deploy', '2025-05-02 12:00:00', 8, true);",
    );
    let import = workspace
        .run(&["import", "--from", "flyway", "sql", "--to", "database/app"])
        .expect(0)
        .stdout();
    assert!(
        import.contains("R__views: a repeatable migration, written as repeatable/views.sql"),
        "{import}"
    );
    let adopt = workspace
        .run(&["adopt", "--db", "app", "--format", "json"])
        .expect(0)
        .json();
    let recorded = versions_in(&adopt, "edits");
    assert_eq!(recorded, [100, 102], "{adopt}");
    let up = workspace.run(&["up", "--format", "json"]).expect(0).json();
    assert_eq!(up["databases"][0]["version_after"], 110, "{up}");
    assert_eq!(
        up["databases"][0]["steps"][1]["description"], "views",
        "{up}"
    );
    let history = workspace
        .run(&["history", "--db", "app", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(
        history["databases"][0]["migrations"][0]["applied"]["applied_at"],
        "2025-05-01T12:00:00.000Z"
    );
    workspace.run(&["drift"]).expect(0);
}

#[test]
fn a_golang_migrate_database_on_mariadb_is_adopted() {
    use skein_testkit::MyTestDb;
    let db = MyTestDb::new("my_adopt");
    let config = format!(
        "[default.databases.app]\nurl = \"{}\"\nmigrations = \"m\"\n",
        db.url
    );
    let workspace = Workspace::new(&config, &THREE);
    db.exec(
        "CREATE TABLE users (id INTEGER PRIMARY KEY);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER);
         CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (2, false);",
    );
    workspace.run(&["up"]).expect(1);
    let adopt = workspace
        .run(&["adopt", "--db", "app", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(adopt["databases"][0]["version_after"], 2, "{adopt}");
    let up = workspace.run(&["up", "--format", "json"]).expect(0).json();
    assert_eq!(
        up["databases"][0]["steps"].as_array().unwrap().len(),
        1,
        "{up}"
    );
    workspace.run(&["drift"]).expect(0);
}

#[test]
fn a_flyway_baseline_counts_every_migration_up_to_its_version() {
    use skein_testkit::TestDb;
    let db = TestDb::new("flyway_base");
    let config = format!(
        "[default.databases.app]\nurl = \"{}\"\nmigrations = \"database/app\"\n",
        db.url
    );
    let workspace = Workspace::new(
        &config,
        &[
            ("sql/V1__init.sql", "CREATE TABLE a (id int PRIMARY KEY);\n"),
            (
                "sql/V1_1__more.sql",
                "CREATE TABLE b (id int PRIMARY KEY);\n",
            ),
            (
                "sql/V2__later.sql",
                "CREATE TABLE c (id int PRIMARY KEY);\n",
            ),
        ],
    );
    // `flyway baseline` at 1.1 on an existing schema, then nothing applied.
    db.exec(FLYWAY_HISTORY);
    db.exec(
        "CREATE TABLE a (id int PRIMARY KEY);
         CREATE TABLE b (id int PRIMARY KEY);
         INSERT INTO flyway_schema_history VALUES
             (1, '1.1', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'deploy', now(), 0, true);",
    );
    workspace
        .run(&["import", "--from", "flyway", "sql", "--to", "database/app"])
        .expect(0);
    let adopt = workspace
        .run(&["adopt", "--db", "app", "--format", "json"])
        .expect(0)
        .json();
    let recorded = versions_in(&adopt, "edits");
    assert_eq!(recorded, [10, 11], "{adopt}");
    let up = workspace.run(&["up", "--format", "json"]).expect(0).json();
    assert_eq!(up["databases"][0]["version_after"], 20, "{up}");
}

#[test]
fn a_goose_database_with_a_go_migration_is_adopted_with_force_leaving_it_out() {
    let workspace = Workspace::new(
        "[default.databases.app]\nurl = \"sqlite://data/app.db\"\nmigrations = \"database/app\"\n",
        &[
            (
                "goose/00001_users.sql",
                "-- +goose Up\nCREATE TABLE users (id INTEGER PRIMARY KEY);\n-- +goose Down\nDROP TABLE users;\n",
            ),
            ("goose/00002_backfill.go", "package migrations\n"),
            (
                "goose/00003_orders.sql",
                "-- +goose Up\nCREATE TABLE orders (id INTEGER PRIMARY KEY);\n",
            ),
        ],
    );
    std::fs::create_dir_all(workspace.path().join("data")).unwrap();
    let db = workspace.path().join("data/app.db");
    std::fs::File::create(&db).unwrap();
    // goose applied 1 (SQL) and 2 (Go); a row per apply, as goose keeps them.
    sqlite_exec(
        &db,
        "CREATE TABLE users (id INTEGER PRIMARY KEY);
         CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, is_applied BOOLEAN NOT NULL, tstamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
         INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1), (1, 1), (2, 1);",
    );
    let import = workspace
        .run(&["import", "--from", "goose", "goose", "--to", "database/app"])
        .expect(0)
        .stdout();
    assert!(import.contains("skipped 00002_backfill.go"), "{import}");
    let refused = workspace.run(&["adopt", "--db", "app"]).expect(1);
    assert!(
        refused.stderr().contains("records `2` as applied") && refused.stderr().contains("--force"),
        "{}",
        refused.stderr()
    );
    let adopt = workspace
        .run(&["adopt", "--db", "app", "--force", "--format", "json"])
        .expect(0);
    assert!(adopt.stderr().contains("leaving out"), "{}", adopt.stderr());
    let recorded = adopt.json()["databases"][0]["edits"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(recorded, 1);
    let up = workspace.run(&["up", "--format", "json"]).expect(0).json();
    assert_eq!(up["databases"][0]["version_after"], 3, "{up}");
}
