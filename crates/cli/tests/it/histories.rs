//! Other tools' histories as they are: files they run as no-ops, their own history table
//! touched by their migrations, and what they leave behind after a takeover.

use crate::support::*;
use skein_testkit::TestDb;

#[test]
fn empty_and_blank_files_run_as_no_ops_up_and_down() {
    let db = TestDb::new("empty_noop");
    let workspace = Workspace::postgres(
        &db.url,
        &[
            ("1_a.up.sql", "CREATE TABLE a (id INT);\n"),
            ("1_a.down.sql", "DROP TABLE a;\n"),
            // A 0-byte up file (mattermost's 000081) and 0-byte down files (vaultwarden).
            ("2_nothing.up.sql", ""),
            ("2_nothing.down.sql", ""),
            ("3_b.up.sql", "CREATE TABLE b (id INT);\n"),
            ("3_b.down.sql", " \n\n"),
        ],
    );
    workspace.run(&["up"]).expect(0);
    assert_eq!(
        db.value("SELECT string_agg(version::text, ',' ORDER BY version) FROM skein_history")
            .as_deref(),
        Some("1,2,3")
    );
    workspace.run(&["down", "base"]).expect(0);
    assert_eq!(
        db.value("SELECT count(*)::text FROM skein_history")
            .as_deref(),
        Some("0")
    );
    assert_eq!(db.value("SELECT to_regclass('a')::text"), None);
    // 3's down undid nothing: b stays, as golang-migrate leaves it.
    assert_eq!(
        db.value("SELECT to_regclass('b')::text").as_deref(),
        Some("b")
    );
}

#[test]
fn empty_files_are_no_ops_on_sqlite_and_mariadb_too() {
    let mariadb = skein_testkit::MyTestDb::new("empty_noop");
    for url in ["sqlite://app.db", mariadb.url.as_str()] {
        let workspace = Workspace::new(
            &format!("[default.databases.app]\nmigrations = \"m\"\nurl = \"{url}\"\n"),
            &[
                ("m/1_a.up.sql", "CREATE TABLE a (id INT);\n"),
                ("m/1_a.down.sql", "DROP TABLE a;\n"),
                ("m/2_nothing.up.sql", ""),
                ("m/2_nothing.down.sql", ""),
            ],
        );
        workspace.run(&["up"]).expect(0);
        let status = workspace.run(&["status", "--format", "json"]).expect(0);
        assert_eq!(status.json()["databases"][0]["version_after"], 2, "{url}");
        workspace.run(&["down", "base"]).expect(0);
        let status = workspace.run(&["status", "--format", "json"]).expect(0);
        assert_eq!(
            status.json()["databases"][0]["version_after"],
            serde_json::Value::Null,
            "{url}"
        );
    }
}

#[test]
fn once_skein_owns_a_database_another_tools_table_blocks_nothing() {
    let db = TestDb::new("owned");
    let workspace = Workspace::postgres(
        &db.url,
        &[
            ("1_a.up.sql", "CREATE TABLE a (id INT);\n"),
            ("1_a.down.sql", "DROP TABLE a;\n"),
        ],
    );
    // What a takeover leaves: skein's history, and the other tool's table beside it.
    workspace.run(&["up"]).expect(0);
    db.exec("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('cec3a80e61a4')");
    workspace.run(&["down", "base"]).expect(0);
    let status = workspace.run(&["status"]).expect(0);
    assert!(
        status.stderr().contains("alembic_version") || status.stdout().contains("alembic_version"),
        "status mentions the other tool's table:\n{}\n{}",
        status.stdout(),
        status.stderr()
    );
    workspace.run(&["up"]).expect(0);
    assert_eq!(
        db.value("SELECT to_regclass('a')::text").as_deref(),
        Some("a")
    );

    // A database with the other tool's table and no skein history is still refused.
    let other = TestDb::new("owned_not");
    other.exec("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)");
    let fresh = Workspace::postgres(&other.url, &[("1_a.up.sql", "CREATE TABLE a (id INT);\n")]);
    let run = fresh.run(&["up"]).expect(1);
    assert!(run.stderr().contains("adopt"), "{}", run.stderr());
    assert_eq!(
        other.value("SELECT to_regclass('skein_history')::text"),
        None,
        "a refused up makes no history table, so the next one is refused too"
    );
    fresh.run(&["up"]).expect(1);
}

#[test]
fn an_ignored_table_takes_its_serial_sequence_with_it_and_patterns_match_sequences() {
    let db = TestDb::new("ignored_serial");
    let config = format!(
        "[default.databases.app]\nmigrations = \"migrations\"\nurl = \"{}\"\n\
         ignore_tables = [\"runner_log\", \"tmp_*\"]\n",
        db.url
    );
    let workspace = Workspace::new(
        &config,
        &[(
            "migrations/1_users.up.sql",
            "CREATE TABLE users (id INT PRIMARY KEY);\n",
        )],
    );
    workspace.run(&["up"]).expect(0);
    // What a hand-made runner and a person left: a table with a serial id, its index and
    // trigger, and a sequence of their own.
    db.exec(
        "CREATE TABLE runner_log (id SERIAL PRIMARY KEY, note TEXT UNIQUE);\n\
         CREATE INDEX runner_log_note ON runner_log (lower(note));\n\
         CREATE FUNCTION runner_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n\
         CREATE TRIGGER runner_log_touch BEFORE INSERT ON runner_log FOR EACH ROW EXECUTE FUNCTION runner_touch();\n\
         CREATE SEQUENCE tmp_ids;",
    );
    let drift = workspace.run(&["drift"]);
    // The trigger's function is the team's own object, not the table's: it is named.
    assert_eq!(drift.code(), 3, "{}", drift.stdout());
    assert!(
        drift.stdout().contains("runner_touch"),
        "{}",
        drift.stdout()
    );
    assert!(
        !drift.stdout().contains("runner_log_id_seq"),
        "{}",
        drift.stdout()
    );
    assert!(!drift.stdout().contains("tmp_ids"), "{}", drift.stdout());
    db.exec("DROP TRIGGER runner_log_touch ON runner_log; DROP FUNCTION runner_touch();");
    workspace.run(&["drift"]).expect(0);
}

#[test]
fn up_says_lint_warnings_in_one_line_per_database_and_errors_in_full() {
    let db = TestDb::new("quiet_lint");
    let workspace = Workspace::postgres(
        &db.url,
        &[("1_t.up.sql", "CREATE TABLE t (a INT, b INT, c INT);\n")],
    );
    workspace.run(&["up"]).expect(0);
    workspace.write(
        "migrations/2_old.up.sql",
        "ALTER TABLE t RENAME COLUMN a TO a2;\nALTER TABLE t RENAME COLUMN b TO b2;\nALTER TABLE t RENAME COLUMN c TO c2;\n",
    );
    let quiet = workspace.run(&["up", "--db", "app"]).expect(0);
    let err = quiet.stderr();
    assert_eq!(err.matches("lint:").count(), 1, "{err}");
    // Three renames and the missing lock_timeout.
    assert!(
        err.contains("4 warning(s) in the pending migrations; `skein lint --db app` shows them"),
        "{err}"
    );
    // -v says each one.
    workspace.write(
        "migrations/3_more.up.sql",
        "ALTER TABLE t RENAME COLUMN a2 TO a3;\nALTER TABLE t RENAME TO t2;\n",
    );
    let verbose = workspace.run(&["up", "-v"]).expect(0);
    assert!(
        verbose
            .stderr()
            .matches("lint: migrations/3_more.up.sql")
            .count()
            >= 2,
        "{}",
        verbose.stderr()
    );
}

/// Harbor's shape: its first migration makes an `alembic_version` table of its own, a later
/// one adds a column to golang-migrate's `schema_migrations` (its application reads it) and
/// a later one drops it again.
const HARBOR_LIKE: &[(&str, &str)] = &[
    (
        "src/0001_initial_schema.up.sql",
        "CREATE TABLE project (project_id SERIAL PRIMARY KEY, name varchar(255) NOT NULL);\n\
         CREATE TABLE IF NOT EXISTS alembic_version (version_num varchar(32) NOT NULL);\n\
         insert into alembic_version values ('1.6.0');\n",
    ),
    (
        "src/0030_2.0.0_schema.up.sql",
        "ALTER TABLE schema_migrations ADD COLUMN data_version int;\n\
         ALTER TABLE project ADD COLUMN registry_id int;\n",
    ),
    (
        "src/0040_2.1.0_schema.up.sql",
        "ALTER TABLE schema_migrations DROP COLUMN IF EXISTS data_version;\n\
         CREATE TABLE robot (id SERIAL PRIMARY KEY, name varchar(255));\n",
    ),
];

#[test]
fn migrations_that_alter_golang_migrates_own_table_run_adopt_and_drift() {
    let config = |url: &str| {
        format!("[default.databases.harbor]\nurl = \"{url}\"\nmigrations = \"database/harbor\"\n")
    };
    let empty = TestDb::new("harbor_empty");
    let workspace = Workspace::new(&config(&empty.url), HARBOR_LIKE);
    let import = workspace
        .run(&[
            "import",
            "--from",
            "golang-migrate",
            "src",
            "--to",
            "database/harbor",
            "--format",
            "json",
        ])
        .expect(0)
        .json();
    assert!(
        import["notes"]
            .to_string()
            .contains("30 (0030_2.0.0_schema)"),
        "the import says why the first migration makes the table: {import}"
    );
    // An empty database goes to head.
    workspace.run(&["up", "-q"]).expect(0);
    workspace.run(&["drift"]).expect(0);

    // A Harbor database golang-migrate took to 30: it made schema_migrations first, ran
    // each file as one multi-statement query, and keeps one row.
    let live = TestDb::new("harbor_live");
    live.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)");
    for (name, sql) in &HARBOR_LIKE[..2] {
        live.exec(sql);
        let version: i64 = name[4..8].parse().unwrap();
        live.exec(&format!(
            "TRUNCATE schema_migrations; INSERT INTO schema_migrations (version, dirty) VALUES ({version}, false)"
        ));
    }
    std::fs::write(workspace.path().join("skein.toml"), config(&live.url)).unwrap();
    let adopt = workspace.run(&["adopt", "--db", "harbor"]).expect(0);
    assert!(
        adopt
            .stderr()
            .contains("adopting golang-migrate's schema_migrations (named by skein-import.toml); alembic_version is here too"),
        "{}",
        adopt.stderr()
    );
    let status = workspace
        .run(&["status", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(status["databases"][0]["version_after"], 30, "{status}");
    workspace.run(&["up", "-q"]).expect(0);
    workspace.run(&["drift"]).expect(0);
    assert_eq!(
        live.value("SELECT count(*)::text FROM information_schema.columns WHERE table_name = 'schema_migrations'")
            .as_deref(),
        Some("2"),
        "40 dropped the column 30 added"
    );
}

#[test]
fn goose_envsub_sections_become_templates_filled_from_the_environment_at_run_time() {
    let db = TestDb::new("goose_envsub");
    let workspace = Workspace::new(
        &format!(
            "[default.databases.blog]\nurl = \"{}\"\nmigrations = \"database/blog\"\n",
            db.url
        ),
        &[
            (
                "goose/00001_post.sql",
                "-- +goose Up\n-- +goose ENVSUB ON\nCREATE TABLE post (id int PRIMARY KEY, body ${SKEIN_TEST_TEXT_TYPE}, lang text DEFAULT '${SKEIN_TEST_LANG:-en}');\n-- +goose ENVSUB OFF\nINSERT INTO post (id, body) VALUES (1, '${not a variable} {{ nor a placeholder }}');\n\n-- +goose Down\nDROP TABLE post;\n",
            ),
            (
                "goose/00002_tag.sql",
                "-- +goose Up\nCREATE TABLE tag (name text);\n-- +goose Down\nDROP TABLE tag;\n",
            ),
        ],
    );
    let import = workspace
        .run(&[
            "import",
            "--from",
            "goose",
            "goose",
            "--to",
            "database/blog",
            "--format",
            "json",
        ])
        .expect(0)
        .json();
    assert!(
        import["notes"]
            .to_string()
            .contains("00001_post (SKEIN_TEST_TEXT_TYPE, SKEIN_TEST_LANG)"),
        "{import}"
    );
    let post = written(&workspace.path().join("database/blog"), "1_post.up.sql");
    assert!(
        post.starts_with("-- skein:template\n") && !post.contains("${SKEIN_TEST_TEXT_TYPE}"),
        "never left raw: {post}"
    );
    // Unset, the run stops before anything is applied, naming the file and the variable.
    let run = workspace
        .command(&["up"])
        .env_remove("SKEIN_TEST_TEXT_TYPE")
        .output()
        .unwrap();
    let run = Run(run);
    assert_ne!(run.code(), 0);
    assert!(
        run.stderr().contains("1_post.up.sql")
            && run.stderr().contains("`SKEIN_TEST_TEXT_TYPE` is not set"),
        "{}",
        run.stderr()
    );
    assert_eq!(db.value("SELECT to_regclass('skein_history')::text"), None);
    // Set, it runs as goose ran it; a variable with a default takes it.
    let up = |args: &[&str]| {
        Run(workspace
            .command(args)
            .env("SKEIN_TEST_TEXT_TYPE", "varchar(200)")
            .output()
            .unwrap())
    };
    up(&["up"]).expect(0);
    assert_eq!(
        db.value("SELECT data_type || ':' || character_maximum_length FROM information_schema.columns WHERE table_name = 'post' AND column_name = 'body'")
            .as_deref(),
        Some("character varying:200")
    );
    assert_eq!(
        db.value("SELECT body FROM post").as_deref(),
        Some("${not a variable} {{ nor a placeholder }}")
    );
    assert_eq!(
        db.value("SELECT column_default FROM information_schema.columns WHERE table_name = 'post' AND column_name = 'lang'")
            .as_deref(),
        Some("'en'::text")
    );
    up(&["drift"]).expect(0);
    up(&["down", "--to", "base"]).expect(0);
    up(&["up"]).expect(0);
}

#[test]
fn a_template_files_values_come_from_the_databases_vars_before_the_environment() {
    let workspace = Workspace::new(
        "[default.databases.app]\nurl = \"sqlite://app.db\"\nmigrations = \"m\"\n\n\
         [default.databases.app.vars]\nBODY_TYPE = \"INTEGER\"\nNOTE_TYPE = \"${env:SKEIN_TEST_NOTE_TYPE}\"\n",
        &[(
            "m/1_post.sql",
            "-- skein:template\nCREATE TABLE post (body {{ BODY_TYPE }}, note {{ NOTE_TYPE }}, title {{ TITLE_TYPE }});\n",
        )],
    );
    let run = Run(workspace
        .command(&["up"])
        .env("BODY_TYPE", "TEXT")
        .env("SKEIN_TEST_NOTE_TYPE", "REAL")
        .env("TITLE_TYPE", "BLOB")
        .output()
        .unwrap());
    run.expect(0);
    let types = sqlite_text(
        &workspace.path().join("app.db"),
        "SELECT group_concat(name || ' ' || type, ', ') FROM pragma_table_info('post')",
    );
    assert_eq!(types.trim(), "body INTEGER, note REAL, title BLOB");
    // A value that would break out of the SQL is refused, naming it.
    workspace.write(
        "skein.toml",
        "[default.databases.app]\nurl = \"sqlite://app.db\"\nmigrations = \"m\"\n\n\
         [default.databases.app.vars]\nBODY_TYPE = \"INTEGER\\n); DROP TABLE post; --\"\n",
    );
    let run = workspace.run(&["status"]).expect(1);
    assert!(
        run.stderr()
            .contains("`BODY_TYPE` holds a control character"),
        "{}",
        run.stderr()
    );
}

/// `drift` and `inspect` give one fingerprint for one schema: a schema with every kind of
/// object PostgreSQL's catalog is read for (an extension, enums, identity and generated
/// columns, comments, checks, exclusions, partial and expression indexes, sequences, views,
/// functions, procedures, triggers, partitions), in two schemas and with names that hold
/// commas, quotes, spaces and the word NULL. The live database matches its migrations.
#[test]
fn drift_and_inspect_give_one_fingerprint_for_every_kind_of_object() {
    let db = TestDb::new("cli_one_fingerprint");
    let workspace = Workspace::postgres(
        &db.url,
        &[(
            "1_everything.up.sql",
            "CREATE EXTENSION IF NOT EXISTS pgcrypto;\n\
             CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy, \"very\"');\n\
             CREATE SCHEMA other;\n\
             CREATE TABLE other.\"we,ird \"\"t\"\"\" (\"NULL\" INT PRIMARY KEY, \"a,b\" TEXT UNIQUE, \"c\"\"d\" mood NOT NULL DEFAULT 'ok', e NUMERIC(10,2) CHECK (e > 0), g INT GENERATED ALWAYS AS (\"NULL\" * 2) STORED, h INT GENERATED BY DEFAULT AS IDENTITY);\n\
             COMMENT ON TABLE other.\"we,ird \"\"t\"\"\" IS 'a table; with \"quotes\"';\n\
             COMMENT ON COLUMN other.\"we,ird \"\"t\"\"\".e IS 'money';\n\
             CREATE TABLE parent (id BIGSERIAL PRIMARY KEY, name TEXT, tags TEXT[] DEFAULT '{}');\n\
             CREATE TABLE child (id SERIAL PRIMARY KEY, parent_id BIGINT REFERENCES parent(id) ON DELETE CASCADE, \"x y\" INT, EXCLUDE USING btree (\"x y\" WITH =));\n\
             CREATE INDEX child_lower ON child (lower(\"x y\"::text)) WHERE \"x y\" > 0;\n\
             CREATE UNIQUE INDEX child_multi ON child (parent_id, \"x y\");\n\
             CREATE SEQUENCE standalone INCREMENT 5 START 100;\n\
             CREATE VIEW v_parent AS SELECT id, upper(name) AS n FROM parent WHERE id > 1;\n\
             CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS c FROM child;\n\
             CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.name := lower(NEW.name); RETURN NEW; END $$;\n\
             CREATE TRIGGER parent_touch BEFORE INSERT ON parent FOR EACH ROW EXECUTE FUNCTION touch();\n\
             CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b';\n\
             CREATE PROCEDURE p() LANGUAGE sql AS 'SELECT 1';\n\
             CREATE TABLE part (id INT, at DATE) PARTITION BY RANGE (at);\n",
        )],
    );
    workspace.run(&["up"]).expect(0);
    let inspect = workspace
        .run(&["inspect", "--format", "json"])
        .expect(0)
        .json();
    let inspected = &inspect["databases"][0];
    assert_eq!(
        inspected["schema"]["enums"]["public.mood"],
        serde_json::json!(["sad", "ok", "happy, \"very\""])
    );
    assert!(inspected["schema"]["tables"]["other.we,ird \"t\""]["columns"]["NULL"].is_object());
    let drift = workspace
        .run(&["drift", "--format", "json"])
        .expect(0)
        .json();
    let drifted = &drift["databases"][0];
    assert_eq!(drifted["status"], "up_to_date", "{drift}");
    assert_eq!(drifted["drift"]["fingerprint"], inspected["fingerprint"]);
    assert_eq!(
        drifted["drift"]["expected_fingerprint"],
        inspected["fingerprint"]
    );
}
