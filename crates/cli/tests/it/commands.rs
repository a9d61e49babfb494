//! Commands, messages and exit codes.

use crate::support::*;
use skein_testkit::TestDb;

const SQLITE: &str =
    "[default.databases.app]\nmigrations = \"migrations\"\nurl = \"sqlite://data/app.db\"\n";

#[test]
fn a_failing_migration_exits_1_naming_file_line_and_column() {
    let db = TestDb::new("cli_fail");
    let workspace = Workspace::postgres(
        &db.url,
        &[
            ("1_ok.up.sql", "CREATE TABLE ok (id INT);\n"),
            (
                "2_bad.up.sql",
                "CREATE TABLE bad_a (id INT);\nINSERT INTO bad_a VALUES (1);\nINSERT INTO bad_a VALUES ('x');\n",
            ),
        ],
    );
    let run = workspace.run(&["up"]).expect(1);
    let stderr = run.stderr();
    assert!(
        stderr.contains("2_bad.up.sql:3:27: invalid input syntax for type integer: \"x\""),
        "{stderr}"
    );
    let json = workspace.run(&["up", "--format", "json"]).expect(1).json();
    let app = &json["databases"][0];
    assert_eq!(app["status"], "failed");
    assert_eq!(app["error"]["line"], 3);
    assert_eq!(app["error"]["column"], 27);
    assert_eq!(app["error"]["code"], "22P02");
    assert!(
        app["error"]["file"]
            .as_str()
            .unwrap()
            .ends_with("2_bad.up.sql")
    );
    assert_eq!(db.value("SELECT to_regclass('bad_a')::text"), None);
    assert_eq!(
        db.value("SELECT string_agg(version::text, ',') FROM skein_history")
            .as_deref(),
        Some("1")
    );
}

#[test]
fn an_edited_file_is_reported_refused_and_repaired() {
    let workspace = Workspace::new(
        SQLITE,
        &[("migrations/1_a.up.sql", "CREATE TABLE a (id INT);\n")],
    );
    workspace.run(&["up"]).expect(0);
    workspace.write(
        "migrations/1_a.up.sql",
        "CREATE TABLE a (id INT, name TEXT);\n",
    );
    workspace.write("migrations/2_b.up.sql", "CREATE TABLE b (id INT);\n");

    let status = workspace.run(&["status", "--check"]).expect(3);
    assert!(status.stdout().contains("problems"), "{}", status.stdout());
    assert!(
        status
            .stdout()
            .contains("1_a.up.sql (version 1) was edited after it was applied")
    );
    let history = workspace.run(&["history", "--db", "app"]).expect(0);
    assert!(
        history.stdout().contains("modified"),
        "{}",
        history.stdout()
    );

    let up = workspace.run(&["up"]).expect(1);
    assert!(
        up.stderr().contains("1_a.up.sql") && up.stderr().contains("skein repair"),
        "{}",
        up.stderr()
    );

    let repair = workspace.run(&["repair", "--db", "app"]).expect(0);
    assert!(
        repair
            .stdout()
            .contains("app: 1 a: recorded the edited file's checksum"),
        "{}",
        repair.stdout()
    );
    workspace.run(&["up"]).expect(0);
    workspace.run(&["status", "--check"]).expect(0);
    let again = workspace.run(&["repair", "--db", "app"]).expect(0);
    assert!(again.stdout().contains("nothing to change"));
}

#[test]
fn up_sql_piped_into_psql_gives_what_up_gives() {
    let by_up = TestDb::new("cli_sql_up");
    let by_psql = TestDb::new("cli_sql_psql");
    let files = [
        (
            "1_tables.up.sql",
            "CREATE TABLE t (id INT PRIMARY KEY, note TEXT DEFAULT 'a;b');\n",
        ),
        (
            "2_fn.up.sql",
            "CREATE FUNCTION f() RETURNS trigger AS $body$\nBEGIN\n  NEW.note := 'x;' || NEW.note; RETURN NEW;\nEND;\n$body$ LANGUAGE plpgsql;\nCREATE TRIGGER t_f BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()\n-- no final semicolon, a trailing comment\n",
        ),
        (
            "3_idx.up.sql",
            "-- skein:no-transaction\nCREATE INDEX CONCURRENTLY t_note ON t (note);\n",
        ),
    ];
    Workspace::postgres(&by_up.url, &files)
        .run(&["up"])
        .expect(0);
    let script = Workspace::postgres(&by_psql.url, &files)
        .run(&["up", "--sql"])
        .expect(0)
        .stdout();
    assert!(script.contains("CREATE TABLE IF NOT EXISTS \"skein_history\""));
    assert_eq!(
        by_psql.value("SELECT to_regclass('t')::text"),
        None,
        "--sql changes nothing"
    );

    let psql = skein_testkit::pg_program("psql").unwrap();
    let mut child = std::process::Command::new(psql)
        .args(["-X", "-q"])
        .arg(&by_psql.url)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());

    let schema = |db: &TestDb| {
        db.column(
            "SELECT table_name || '.' || column_name || ':' || data_type || ':' || coalesce(column_default, '') \
             FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1",
        )
    };
    assert_eq!(schema(&by_up), schema(&by_psql));
    let extras = |db: &TestDb| {
        db.column("SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public' UNION ALL SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1")
    };
    assert_eq!(extras(&by_up), extras(&by_psql));
    let rows = |db: &TestDb| {
        db.column("SELECT version || ' ' || checksum || ' ' || kind || ' ' || success FROM skein_history ORDER BY version")
    };
    assert_eq!(rows(&by_up), rows(&by_psql));
    assert_eq!(rows(&by_up).len(), 3);
    Workspace::postgres(&by_psql.url, &files)
        .run(&["status", "--check"])
        .expect(0);
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let workspace = Workspace::new(
        SQLITE,
        &[
            ("migrations/1_a.up.sql", "CREATE TABLE a (id INT);\n"),
            ("migrations/2_b.sql", "CREATE TABLE b (id INT);\n"),
        ],
    );
    let run = workspace.run(&["up", "--dry-run", "--to", "1"]).expect(0);
    assert!(
        run.stdout().contains("app: 1 step(s), base -> 1"),
        "{}",
        run.stdout()
    );
    assert!(run.stdout().contains("up   1 a"));
    let status = workspace
        .run(&["status", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(status["databases"][0]["pending"], 2);
}

#[test]
fn new_writes_timestamped_files_and_stamp_records_them() {
    let workspace = Workspace::new(SQLITE, &[]);
    let created = workspace
        .run(&["new", "--db", "app", "Add trades index!"])
        .expect(0)
        .stdout();
    assert_eq!(created.lines().count(), 2, "{created}");
    let names: Vec<String> = std::fs::read_dir(workspace.path().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(
            |n| n.len() == "20260101120000_add_trades_index.up.sql".len()
                || n.ends_with(".down.sql")
        ),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| n.ends_with("_add_trades_index.up.sql"))
    );
    // A second one in the same second still gets a later version.
    workspace.run(&["new", "--db", "app", "second"]).expect(0);
    workspace.write(
        &format!(
            "migrations/{}",
            names.iter().find(|n| n.ends_with(".up.sql")).unwrap()
        ),
        "CREATE TABLE x (id INT);\n",
    );
    // A first stamp checks the schema by replaying the files, and the second one was
    // never written: it cannot have been applied.
    let refused = workspace.run(&["stamp", "--db", "app", "head"]).expect(1);
    assert!(
        refused.stderr().contains("never written"),
        "{}",
        refused.stderr()
    );
    let stamp = workspace
        .run(&[
            "stamp",
            "--db",
            "app",
            "head",
            "--no-verify",
            "--format",
            "json",
        ])
        .expect(0)
        .json();
    assert_eq!(stamp["databases"][0]["edits"].as_array().unwrap().len(), 2);
    let status = workspace
        .run(&["status", "--check", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(status["databases"][0]["pending"], 0);
}

#[test]
fn usage_and_configuration_errors_exit_2() {
    let workspace = Workspace::new(SQLITE, &[("migrations/1_a.up.sql", "SELECT 1;\n")]);
    let unknown = workspace.run(&["status", "--db", "ap"]).expect(2);
    assert!(
        unknown
            .stderr()
            .contains("no database is named `ap` (did you mean `app`?)"),
        "{}",
        unknown.stderr()
    );
    let profile = workspace.run(&["--profile", "prod", "status"]).expect(2);
    assert!(
        profile.stderr().contains("profile `prod` is not defined"),
        "{}",
        profile.stderr()
    );
    let bad_key = Workspace::new("[default.databases.app]\nurll = \"sqlite://x.db\"\n", &[]);
    let err = bad_key.run(&["status"]).expect(2);
    assert!(
        err.stderr().contains(
            "unknown setting `databases.app.urll` (skein.toml:2 [default]); did you mean `url`?"
        ),
        "{}",
        err.stderr()
    );
    let bad_value = Workspace::new("[default]\nconcurrency = \"lots\"\n", &[]);
    let err = bad_value.run(&["status"]).expect(2);
    assert!(
        err.stderr().contains(
            "`concurrency` (skein.toml:2 [default]): is `lots`, which is not a whole number"
        ),
        "{}",
        err.stderr()
    );
    let mut from_env = workspace.command(&["status"]);
    from_env.env("SKEIN_DATABASES__APP__PORTT", "1");
    // A variable is not the user's file: a warning, and the variable is left out.
    let out = Run(from_env.output().unwrap()).expect(0);
    assert!(
        out.stderr().contains("environment variable SKEIN_DATABASES__APP__PORTT sets no setting (unknown setting `databases.app.portt`; did you mean `port`?); it is ignored"),
        "{}",
        out.stderr()
    );
    // A bare `down` reverts one; --steps and --to together are a usage error.
    workspace
        .run(&["down", "--db", "app", "--steps", "1", "--to", "2"])
        .expect(2);
    let missing = workspace
        .run(&["--config", "nope.toml", "status"])
        .expect(2);
    assert!(missing.stderr().contains("nope.toml does not exist"));
}

/// Mistakes in the configuration of the selected databases stop the command with exit 2
/// before any database is touched, even when the first database in the run is fine.
#[test]
fn configuration_errors_found_after_loading_exit_2_and_touch_nothing() {
    let good =
        "[default.databases.a_good]\nmigrations = \"m\"\nurl = \"sqlite://data/good.db\"\n\n";
    let cases = [
        (
            "[default.databases.b_bad]\nmigrations = \"m\"\nurl = \"redis://127.0.0.1/0\"\n",
            "database `b_bad`: `url` (skein.toml:7 [default]) is `redis://127.0.0.1/0`, which is not a database URL skein knows",
        ),
        (
            "[default.databases.b_bad]\nmigrations = \"m\"\nurl = 5\n",
            "database `b_bad`: `url` (skein.toml:7 [default]) is `5`",
        ),
        (
            "[default.databases.b_bad]\nmigrations = \"m\"\nurl = \"sqlite://data/bad.db\"\nhistory_table = \"my history\"\n",
            "database `b_bad`: invalid history table name `my history`: use `table` or `schema.table` with letters, digits and `_` (`history_table`, skein.toml:8 [default])",
        ),
        (
            "[default.databases.b_bad]\nmigrations = \"nowhere\"\nurl = \"sqlite://data/bad.db\"\n",
            "nowhere does not exist (`migrations`, skein.toml:6 [default]); create it or fix the path",
        ),
    ];
    for (bad, expected) in cases {
        let workspace = Workspace::new(
            &format!("{good}{bad}"),
            &[("m/1_a.up.sql", "CREATE TABLE a (id INTEGER);\n")],
        );
        let run = workspace.run(&["up"]).expect(2);
        assert!(run.stderr().contains(expected), "{bad}: {}", run.stderr());
        assert!(
            !workspace.path().join("data").exists(),
            "{bad}: nothing is touched"
        );
        let json = workspace.run(&["up", "--format", "json"]).expect(2).json();
        assert_eq!(json["error"]["kind"], "config", "{json}");
        assert!(
            json["error"]["message"]
                .as_str()
                .unwrap()
                .contains(expected),
            "{json}"
        );
    }

    let workspace = Workspace::new(
        &format!(
            "{good}[default.databases.b_other]\nmigrations = \"n\"\nurl = \"sqlite://data/other.db\"\n"
        ),
        &[
            ("m/1_a.up.sql", "CREATE TABLE a (id INTEGER);\n"),
            ("m/2_b.up.sql", "CREATE TABLE b (id INTEGER);\n"),
            ("n/1_a.up.sql", "CREATE TABLE a (id INTEGER);\n"),
        ],
    );
    let to = workspace.run(&["up", "--to", "2"]).expect(2);
    assert!(
        to.stderr()
            .contains("--to 2: database `b_other` has no migration 2"),
        "{}",
        to.stderr()
    );
    assert!(!workspace.path().join("data").exists());
    workspace
        .run(&["up", "--to", "2", "--db", "a_good"])
        .expect(0);
    let stamp = workspace.run(&["stamp", "--db", "b_other", "7"]).expect(2);
    assert!(
        stamp.stderr().contains("has no migration 7"),
        "{}",
        stamp.stderr()
    );
}

#[test]
fn an_empty_config_file_shows_a_minimal_one() {
    for text in ["", "# nothing yet\n\n[default]\n"] {
        let workspace = Workspace::new(text, &[]);
        let run = workspace.run(&["status"]).expect(2);
        let stderr = run.stderr();
        assert!(
            stderr.contains("skein.toml sets no database; a minimal one:\n\n[default.databases.app]\nmigrations = \"database/app\"\nurl = \"sqlite://.skein/app.db\""),
            "{stderr}"
        );
    }
}

/// With `--format json`, a usage or configuration error is a JSON document on stdout too.
#[test]
fn usage_and_configuration_errors_are_json_documents_with_format_json() {
    let workspace = Workspace::new(SQLITE, &[("migrations/1_a.up.sql", "SELECT 1;\n")]);
    for (args, kind, expected) in [
        (
            &["status", "--db", "ap", "--format", "json"][..],
            "usage",
            "no database is named `ap`",
        ),
        (
            &["--format", "json", "up", "--bogus"],
            "usage",
            "unexpected argument '--bogus'",
        ),
        (
            &["up", "--format=json", "--to", "x"],
            "usage",
            "`x` is not a target",
        ),
        (
            &["status", "--format", "json", "--profile", "nope"],
            "usage",
            "profile `nope` is not defined",
        ),
        (
            &["--config", "nope.toml", "status", "--format", "json"],
            "config",
            "nope.toml does not exist",
        ),
    ] {
        let run = workspace.run(args).expect(2);
        let json = run.json();
        assert_eq!(json["error"]["kind"], kind, "{args:?}: {json}");
        let message = json["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{args:?}: {message}");
        assert!(!run.stderr().is_empty(), "{args:?}: stderr still says it");
    }
    let help = workspace.run(&["--format", "json", "--help"]).expect(0);
    assert!(help.stdout().contains("Usage:"), "{}", help.stdout());
    let human = workspace.run(&["up", "--bogus"]).expect(2);
    assert!(human.stdout().is_empty(), "{}", human.stdout());
}

/// Control characters in file names, server messages and config keys are escaped in
/// human output (no ANSI escape, no forged line), while skein's own lines stay lines; JSON
/// keeps the text as it is (serde escapes it).
#[test]
fn control_characters_from_outside_are_escaped_in_human_output() {
    let db = TestDb::new("cli_controls");
    let evil_file = "2_evil\x1b[2J\nfake.up.sql";
    let workspace = Workspace::postgres(
        &db.url,
        &[
            (
                "1_ok.up.sql",
                "CREATE TABLE ok (id INT);\nCREATE TABLE U&\"evil\\001b[2Jtable\" (id INT);\n",
            ),
            (
                evil_file,
                "DO $$ BEGIN RAISE EXCEPTION E'boom \\x1b[31mred\\nfake: ok' \
                 USING DETAIL = E'first\\nsecond \\x1b[0m', HINT = 'try again'; END $$;\n",
            ),
        ],
    );
    let no_raw_controls = |run: &Run| {
        for (name, text) in [("stdout", run.stdout()), ("stderr", run.stderr())] {
            assert!(
                !text.contains('\x1b') && !text.contains('\r'),
                "a raw control character in {name}: {text:?}"
            );
            assert!(
                !text.lines().any(|l| l.starts_with("fake")),
                "a forged line in {name}: {text}"
            );
        }
    };
    let plan = workspace.run(&["up", "--dry-run"]).expect(0);
    no_raw_controls(&plan);
    assert!(
        plan.stdout().contains("up   2 evil\\x1b[2J\\nfake"),
        "{}",
        plan.stdout()
    );

    // A script for a person to run: the file name stays inside its comment.
    let sql = workspace.run(&["up", "--sql"]).expect(0).stdout();
    assert!(
        !sql.lines()
            .any(|l| l.starts_with("fake (") || l.starts_with("fake.up.sql")),
        "a file name became a statement: {sql}"
    );

    let up = workspace.run(&["up"]).expect(1);
    no_raw_controls(&up);
    let stderr = up.stderr();
    assert!(
        stderr.contains("2_evil\\x1b[2J\\nfake.up.sql:1:")
            && stderr.contains("boom \\x1b[31mred\\nfake: ok (P0001)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("\n  detail: first\\nsecond \\x1b[0m\n  hint: try again"),
        "skein's lines stay lines: {stderr}"
    );
    no_raw_controls(&workspace.run(&["status"]).expect(0));
    let history = workspace.run(&["history", "--db", "app"]).expect(0);
    no_raw_controls(&history);
    assert!(
        history.stdout().contains("evil\\x1b[2J\\nfake"),
        "{}",
        history.stdout()
    );

    let inspect = workspace.run(&["inspect", "--db", "app"]).expect(0);
    no_raw_controls(&inspect);
    assert!(
        inspect.stdout().contains("table public.evil\\x1b[2Jtable"),
        "{}",
        inspect.stdout()
    );

    let json = workspace.run(&["up", "--format", "json"]).expect(1).json();
    let message = json["databases"][0]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("boom \x1b[31mred\nfake: ok"),
        "JSON keeps the server's text: {message:?}"
    );

    let keys = Workspace::new(
        "[default]\n\"evil\\u001b[2J\" = 1\nsecond = 2\n\n[default.databases.app]\nurl = \"sqlite://x.db\"\n",
        &[],
    );
    let run = keys.run(&["status"]).expect(2);
    no_raw_controls(&run);
    assert!(
        run.stderr()
            .contains("unknown setting `evil\\x1b[2J` (skein.toml:2 [default])")
            && run
                .stderr()
                .contains("\nunknown setting `second` (skein.toml:3 [default])"),
        "one problem per line: {}",
        run.stderr()
    );
}

#[test]
fn bad_migration_files_fail_that_database_with_both_names() {
    let workspace = Workspace::new(
        SQLITE,
        &[
            ("migrations/1_a.up.sql", "SELECT 1;\n"),
            ("migrations/1_b.sql", "SELECT 1;\n"),
        ],
    );
    let run = workspace.run(&["up"]).expect(1);
    assert!(
        run.stderr().contains("1_a.up.sql") && run.stderr().contains("1_b.sql"),
        "{}",
        run.stderr()
    );
}

#[test]
fn environment_variables_override_the_file() {
    let db = TestDb::new("cli_env");
    let workspace = Workspace::new(
        SQLITE,
        &[("migrations/1_a.up.sql", "CREATE TABLE from_env (id INT);\n")],
    );
    let mut command = workspace.command(&["up"]);
    command.env("SKEIN_DATABASES__APP__URL", &db.url);
    assert!(command.output().unwrap().status.success());
    assert_eq!(
        db.value("SELECT to_regclass('from_env')::text").as_deref(),
        Some("from_env")
    );
    assert!(!workspace.path().join("data/app.db").exists());
}

#[test]
fn the_profile_comes_from_skein_profile() {
    let db = TestDb::new("cli_profile");
    let config = format!("{SQLITE}\n[pg.databases.app]\nurl = \"{}\"\n", db.url);
    let workspace = Workspace::new(
        &config,
        &[("migrations/1_a.up.sql", "CREATE TABLE in_pg (id INT);\n")],
    );
    let mut command = workspace.command(&["up"]);
    command.env("SKEIN_PROFILE", "pg");
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        db.value("SELECT to_regclass('in_pg')::text").as_deref(),
        Some("in_pg")
    );
    let url_source = |args: &[&str]| {
        let shown = workspace.run(args).expect(0).json();
        let settings = shown["databases"][0]["settings"]
            .as_array()
            .unwrap()
            .clone();
        let url = settings
            .iter()
            .find(|s| s["name"] == "url")
            .unwrap()
            .clone();
        url["source"].as_str().unwrap().to_owned()
    };
    // The default URL is on line 3; the pg one on line 6 (after a blank line and its header).
    assert_eq!(
        url_source(&["--profile", "pg", "config", "show", "--format", "json"]),
        "skein.toml:6 [pg]"
    );
    assert_eq!(
        url_source(&["config", "show", "--format", "json"]),
        "skein.toml:3 [default]"
    );
}

#[test]
fn a_failing_down_exits_1_and_keeps_the_step() {
    let db = TestDb::new("cli_down_fail");
    let workspace = Workspace::postgres(
        &db.url,
        &[
            ("1_a.up.sql", "CREATE TABLE a (id INT);\n"),
            ("1_a.down.sql", "DROP TABLE a;\n"),
            ("2_b.up.sql", "CREATE TABLE b (id INT);\n"),
            ("2_b.down.sql", "DROP TABLE b;\nDROP TABLE not_there;\n"),
        ],
    );
    workspace.run(&["up"]).expect(0);
    let run = workspace
        .run(&["down", "--db", "app", "--steps", "2"])
        .expect(1);
    assert!(
        run.stderr()
            .contains("2_b.down.sql:2:1: table \"not_there\" does not exist"),
        "{}",
        run.stderr()
    );
    assert_eq!(
        db.value("SELECT string_agg(version::text, ',' ORDER BY version) FROM skein_history")
            .as_deref(),
        Some("1,2")
    );
    assert_eq!(
        db.value("SELECT to_regclass('b')::text").as_deref(),
        Some("b")
    );
}

#[test]
fn inspect_prints_the_schema_with_its_fingerprint() {
    let db = TestDb::new("cli_inspect");
    let workspace = Workspace::postgres(
        &db.url,
        &[(
            "1_a.up.sql",
            "CREATE TABLE trades (id BIGINT PRIMARY KEY, amount NUMERIC NOT NULL);\nCREATE INDEX trades_amount ON trades (amount);\n",
        )],
    );
    workspace.run(&["up"]).expect(0);
    let json = workspace
        .run(&["inspect", "--db", "app", "--format", "json"])
        .expect(0)
        .json();
    let fingerprint = json["databases"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(fingerprint.len(), 32);
    assert!(
        json["databases"][0]["schema"]["tables"]["public.trades"]["columns"]["amount"]["data_type"]
            == "numeric"
    );
    assert!(
        json["databases"][0]["schema"]["tables"]
            .get("public.skein_history")
            .is_none()
    );
    let human = workspace
        .run(&["inspect", "--db", "app"])
        .expect(0)
        .stdout();
    assert!(
        human.contains(&format!("app: fingerprint {fingerprint}, 1 table(s)")),
        "{human}"
    );
    let sql = workspace
        .run(&["inspect", "--db", "app", "--format", "sql"])
        .expect(0)
        .stdout();
    assert!(
        sql.contains("CREATE TABLE public.trades (")
            && sql.contains("CREATE INDEX trades_amount ON public.trades"),
        "{sql}"
    );
    workspace.run(&["status", "--format", "sql"]).expect(2);
}

#[test]
fn new_from_schema_writes_migrations_that_round_trip() {
    let db = TestDb::new("cli_autogen");
    let workspace = Workspace::postgres(
        &db.url,
        &[(
            "1_trades.up.sql",
            "CREATE TABLE trades (id BIGINT PRIMARY KEY, amount NUMERIC NOT NULL);\n",
        )],
    );
    workspace.run(&["up", "-q"]).expect(0);
    workspace.write(
        "schema.sql",
        "CREATE TYPE side AS ENUM ('buy', 'sell');\n\
         CREATE TABLE trades (id BIGINT PRIMARY KEY, amount NUMERIC NOT NULL, note TEXT, side side NOT NULL DEFAULT 'buy');\n\
         CREATE INDEX trades_amount ON trades (amount);\n\
         CREATE TABLE fills (id BIGINT PRIMARY KEY, trade_id BIGINT NOT NULL REFERENCES trades (id));\n",
    );
    let fingerprint = || {
        workspace
            .run(&["inspect", "--db", "app", "--format", "json"])
            .expect(0)
            .json()["databases"][0]["fingerprint"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let before = fingerprint();

    let check = workspace
        .run(&[
            "new",
            "--db",
            "app",
            "--from-schema",
            "schema.sql",
            "--check",
        ])
        .expect(3)
        .stdout();
    assert!(
        check.contains("table public.fills is missing")
            && check.contains("column public.trades.note is missing"),
        "{check}"
    );

    let written = workspace
        .run(&[
            "new",
            "--db",
            "app",
            "--from-schema",
            "schema.sql",
            "declared changes",
        ])
        .expect(0)
        .stdout();
    assert_eq!(
        written
            .lines()
            .filter(|l| l.starts_with("created "))
            .count(),
        2,
        "{written}"
    );
    let up_sql = crate::support::written(
        &workspace.path().join("migrations"),
        "_declared_changes.up.sql",
    );
    assert!(
        up_sql.contains("CREATE TYPE public.side AS ENUM ('buy', 'sell');"),
        "{up_sql}"
    );
    // The foreign key comes after both tables exist.
    assert!(
        up_sql.find("CREATE TABLE public.fills").unwrap() < up_sql.find("FOREIGN KEY").unwrap(),
        "{up_sql}"
    );

    workspace.run(&["up", "-q"]).expect(0);
    let after = fingerprint();
    assert_ne!(after, before);
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
    workspace.run(&["drift", "--db", "app"]).expect(0);
    workspace
        .run(&["down", "--db", "app", "--steps", "1"])
        .expect(0);
    assert_eq!(fingerprint(), before, "down reverts to the old schema");
    workspace.run(&["up", "-q"]).expect(0);
    assert_eq!(fingerprint(), after, "and up again gives the declared one");
    let nothing = workspace
        .run(&["new", "--db", "app", "--from-schema", "schema.sql", "again"])
        .expect(0)
        .stdout();
    assert!(nothing.contains("nothing to write"), "{nothing}");
}

/// Three PostgreSQL databases `db0`..`db2`, run three at a time, whose migrations (in
/// `m/`) create `t`.
fn three_databases(tag: &str) -> (Vec<TestDb>, Workspace) {
    let dbs: Vec<TestDb> = (0..3).map(|_| TestDb::new(tag)).collect();
    let mut config = String::from("[default]\nconcurrency = 3\n\n");
    for (i, db) in dbs.iter().enumerate() {
        config.push_str(&format!(
            "[default.databases.db{i}]\nmigrations = \"m\"\nurl = \"{}\"\n\n",
            db.url
        ));
    }
    let workspace = Workspace::new(&config, &[("m/1_t.up.sql", "CREATE TABLE t (id int);\n")]);
    (dbs, workspace)
}

/// `up --sql` reads every selected database at once: with each database's history table
/// locked, all three runs wait on their lock together (one at a time, only one would).
#[test]
fn up_sql_reads_the_databases_concurrently() {
    use sqlx::Connection as _;
    let (dbs, workspace) = three_databases("sql_concurrent");
    workspace.run(&["up", "-q"]).expect(0);
    workspace.write("m/2_u.up.sql", "CREATE TABLE u (id int);\n");
    let names: Vec<String> = dbs.iter().map(|db| format!("'{}'", db.name)).collect();
    let waiting = format!(
        "SELECT count(*)::text FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname IN ({})",
        names.join(", ")
    );
    let child = skein_testkit::block_on(async {
        let mut holders = Vec::new();
        for db in &dbs {
            let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::raw_sql("BEGIN; LOCK TABLE skein_history IN ACCESS EXCLUSIVE MODE")
                .execute(&mut conn)
                .await
                .unwrap();
            holders.push(conn);
        }
        let child = workspace
            .command(&["up", "--sql"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The locks are the server's: the connections may sit idle while this waits.
        skein_testkit::wait_until(
            "all three databases read at once",
            std::time::Duration::from_secs(20),
            || dbs[0].value(&waiting).as_deref() == Some("3"),
        );
        for conn in holders {
            conn.close().await.unwrap();
        }
        child
    });
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("-- skein: database").count(), 3, "{stdout}");
    assert_eq!(
        stdout.matches("CREATE TABLE u (id int)").count(),
        3,
        "{stdout}"
    );
}

#[test]
fn up_sql_over_several_databases_heads_each_script_with_its_database() {
    let (dbs, workspace) = three_databases("sql_fleet");
    let out = workspace.run(&["up", "--sql"]).expect(0).stdout();
    let headers: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("-- skein: database"))
        .collect();
    assert_eq!(headers.len(), 3, "{out}");
    for (i, (header, db)) in headers.iter().zip(&dbs).enumerate() {
        assert!(
            header.contains(&format!("`db{i}`")) && header.contains(&db.name),
            "in selection order: {out}"
        );
    }
    let json = workspace
        .run(&["up", "--sql", "--format", "json"])
        .expect(0)
        .json();
    let scripts: Vec<&str> = json["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["script"].as_str().unwrap())
        .collect();
    assert_eq!(scripts.len(), 3);
    assert!(
        scripts
            .iter()
            .all(|s| s.contains("CREATE TABLE t (id int)"))
    );
    for db in &dbs {
        assert_eq!(
            db.value("SELECT to_regclass('t')::text"),
            None,
            "--sql changes nothing"
        );
    }
}

#[test]
fn an_unreachable_server_fails_every_command_the_same_way() {
    let workspace = Workspace::new(
        "[default.databases.app]\nmigrations = \"m\"\nurl = \"postgres://postgres@127.0.0.1:1/app\"\n",
        &[
            ("m/1_t.up.sql", "CREATE TABLE t (id int);\n"),
            ("schema.sql", "CREATE TABLE t (id int, note text);\n"),
        ],
    );
    let commands: [&[&str]; 6] = [
        &["up"],
        &["status"],
        &["inspect", "--db", "app"],
        &["drift"],
        &["converge", "--db", "app"],
        &[
            "new",
            "--db",
            "app",
            "--from-schema",
            "schema.sql",
            "add note",
        ],
    ];
    for command in commands {
        let mut args: Vec<&str> = command.to_vec();
        args.extend(["--connect-timeout", "1s", "--format", "json"]);
        let run = workspace.run(&args);
        assert_eq!(run.code(), 1, "{command:?}: {}", run.stderr());
        let report = run.json();
        assert_eq!(
            report["databases"][0]["status"], "failed",
            "{command:?}: {report}"
        );
        assert!(
            report["databases"][0]["error"]["message"]
                .as_str()
                .unwrap()
                .contains("cannot connect"),
            "{command:?}: {report}"
        );
    }
}

#[test]
fn a_replay_that_fails_is_located_in_its_file_in_drift_json() {
    let workspace = Workspace::new(
        SQLITE,
        &[("migrations/1_t.up.sql", "CREATE TABLE t (id INT);\n")],
    );
    workspace.run(&["up", "-q"]).expect(0);
    // Edited after it was applied, into something the scratch database refuses.
    workspace.write(
        "migrations/1_t.up.sql",
        "CREATE TABLE t (id INT);\nCREATE TABLE t (id INT);\n",
    );
    let run = workspace.run(&["drift", "--format", "json"]).expect(1);
    let error = &run.json()["databases"][0]["error"];
    assert_eq!(error["file"], "migrations/1_t.up.sql", "{error}");
    assert_eq!(error["line"], 2, "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("replaying its migrations into a scratch database failed"),
        "{error}"
    );
}

#[test]
fn every_json_document_carries_its_schema_version() {
    let workspace = Workspace::new(
        SQLITE,
        &[("migrations/1_t.up.sql", "CREATE TABLE t (id INT);\n")],
    );
    let documents: [(&[&str], i32); 6] = [
        (&["up"], 0),
        (&["inspect", "--db", "app"], 0),
        (&["config", "show"], 0),
        (&["new", "--db", "app", "more"], 0),
        (&["status", "--db", "nope"], 2),
        (&["up", "--bogus"], 2),
    ];
    for (command, code) in documents {
        let mut args = command.to_vec();
        args.extend(["--format", "json"]);
        let doc = workspace.run(&args).expect(code).json();
        assert_eq!(doc["schema_version"], 5, "{command:?}: {doc}");
    }
}

/// One-database commands take their database from `--db` like every command; with only
/// one configured it may be left out, and with several the error lists them.
#[test]
fn a_one_database_command_needs_its_database_named_only_when_there_are_several() {
    let workspace = Workspace::new(
        SQLITE,
        &[("migrations/1_t.up.sql", "CREATE TABLE t (id INT);\n")],
    );
    workspace.run(&["up", "-q"]).expect(0);
    let history = workspace
        .run(&["history", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(history["databases"][0]["name"], "app", "{history:#}");
    workspace.run(&["inspect"]).expect(0);

    let several = Workspace::new(
        &format!(
            "{SQLITE}\n[default.databases.other]\nmigrations = \"migrations\"\nurl = \"sqlite://data/other.db\"\n"
        ),
        &[("migrations/1_t.up.sql", "CREATE TABLE t (id INT);\n")],
    );
    for command in ["history", "inspect", "redo"] {
        let doc = several.run(&[command, "--format", "json"]).expect(2).json();
        let message = doc["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("works on one database") && message.contains("app, other"),
            "{command}: {message}"
        );
        assert_eq!(doc["error"]["where"]["argument"], "--db", "{doc:#}");
    }
    let run = several.run(&["new", "add x"]).expect(2);
    assert!(run.stderr().contains("--db NAME"), "{}", run.stderr());
    several.run(&["new", "--db", "other", "add x"]).expect(0);
}

#[test]
fn a_sqlalchemy_url_is_used_without_its_python_driver() {
    let db = TestDb::new("sqlalchemy_url");
    let url = db.url.replacen("postgres://", "postgresql+psycopg2://", 1);
    let workspace = Workspace::postgres(&url, &[("1_t.up.sql", "CREATE TABLE t (id INT);\n")]);
    let run = workspace.run(&["up", "-v"]).expect(0);
    assert!(
        run.stderr()
            .contains("names a Python driver (psycopg2); using `postgresql`"),
        "{}",
        run.stderr()
    );
    assert_eq!(
        db.value("SELECT to_regclass('t')::text").as_deref(),
        Some("t")
    );
}
