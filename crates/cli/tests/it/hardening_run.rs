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

#[test]
fn a_server_url_without_slashes_is_refused_and_its_password_never_shown() {
    for url in [
        "postgres:s3cretPW@127.0.0.1/x",
        "postgres:app:s3cretPW@127.0.0.1:5432/x",
        "mysql:root:s3cretPW@127.0.0.1/x",
    ] {
        let workspace = Workspace::new(
            &format!("[default.databases.app]\nmigrations = \"m\"\nurl = \"{url}\"\n"),
            &[("m/1_a.up.sql", "SELECT 1;\n")],
        );
        for args in [
            &["status"][..],
            &["up"],
            &["-vvv", "status"],
            &["--format", "json", "status"],
            &["config", "show"],
            &["--format", "json", "config", "show"],
        ] {
            let run = workspace.run(args);
            let all = format!("{}{}", run.stdout(), run.stderr());
            assert!(!all.contains("s3cretPW"), "{url} {args:?}: {all}");
            if args != ["config", "show"] && args != ["--format", "json", "config", "show"] {
                assert_eq!(run.code(), 2, "{url} {args:?}: {all}");
                assert!(all.contains("needs `//` after"), "{url} {args:?}: {all}");
            }
        }
        // The same from DATABASE_URL, with no skein.toml.
        let dir = tempfile::tempdir().unwrap();
        let run = Run(std::process::Command::new(skein())
            .current_dir(dir.path())
            .args(["-vvv", "status"])
            .env("DATABASE_URL", url)
            .output()
            .unwrap());
        let all = format!("{}{}", run.stdout(), run.stderr());
        assert!(!all.contains("s3cretPW"), "{url}: {all}");
        assert_eq!(run.code(), 2, "{all}");
    }
}

#[test]
fn a_locked_sqlite_file_is_said_to_be_held_by_another_writer_with_the_time_waited() {
    let workspace = Workspace::new(
        "[default.databases.app]\nmigrations = \"m\"\nurl = \"sqlite://app.db\"\n",
        &[("m/1_a.up.sql", "CREATE TABLE a (id INT);\n")],
    );
    workspace.run(&["up"]).expect(0);
    workspace.write("m/2_b.up.sql", "CREATE TABLE b (id INT);\n");
    // Another writer holds a write transaction open for a while.
    let mut writer = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sqlite3, sys, time\nc = sqlite3.connect('app.db', isolation_level=None)\nc.execute('BEGIN IMMEDIATE')\nc.execute('INSERT INTO a VALUES (1)')\nprint('held', flush=True)\ntime.sleep(6)\n")
        .current_dir(workspace.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(writer.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "held");
    let run = workspace.run(&["up", "--lock-timeout", "1s"]);
    let _ = writer.kill();
    let _ = writer.wait();
    let err = run.expect(1).stderr();
    assert!(err.contains("locked by another writer"), "{err}");
    assert!(err.contains("skein waited 1s"), "{err}");
    assert!(!err.contains("database is locked (5)"), "{err}");
}

#[test]
fn sixteen_concurrent_up_create_on_a_listed_fleet_all_succeed_with_exact_histories() {
    let infra = TestDb::new("race_create");
    let base = skein_testkit::postgres()
        .admin_url
        .rsplit_once('/')
        .unwrap()
        .0
        .to_owned();
    let prefix = format!("skein_test_race_{}", std::process::id());
    let config = format!(
        "[default.databases.infra]\nmigrations = \"infra\"\nurl = \"{}\"\n\n\
         [default.models]\ntemplate = \"template\"\nurl = \"{base}/{prefix}_{{model}}\"\n\
         names_from = {{ db = \"infra\", query = \"SELECT name FROM registry\" }}\n",
        infra.url
    );
    let workspace = Workspace::new(
        &config,
        &[
            (
                "infra/1_registry.up.sql",
                "CREATE TABLE registry (name TEXT);\nINSERT INTO registry SELECT 'm' || g FROM generate_series(1, 30) g;\n",
            ),
            ("template/1_t.up.sql", "CREATE TABLE t (id INT);\n"),
            ("template/2_u.up.sql", "CREATE TABLE u (id INT);\n"),
        ],
    );
    let children: Vec<_> = (0..16)
        .map(|_| {
            workspace
                .command(&["up", "--create", "-q"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let runs: Vec<Run> = children
        .into_iter()
        .map(|c| Run(c.wait_with_output().unwrap()))
        .collect();
    let mut histories = Vec::new();
    for n in 1..=30 {
        let url = format!("{base}/{prefix}_m{n}");
        histories.push(skein_testkit::block_on(async move {
            use sqlx::Connection as _;
            let mut conn = sqlx::PgConnection::connect(&url).await.ok()?;
            sqlx::query_scalar::<_, String>(
                "SELECT string_agg(version::text, ',' ORDER BY version) FROM skein_history",
            )
            .fetch_one(&mut conn)
            .await
            .ok()
        }));
        skein_testkit::exec(
            &skein_testkit::postgres().admin_url,
            &format!("DROP DATABASE IF EXISTS \"{prefix}_m{n}\" WITH (FORCE)"),
        );
    }
    for run in runs {
        assert_eq!(run.code(), 0, "{}", run.stderr());
    }
    assert!(
        histories.iter().all(|h| h.as_deref() == Some("1,2")),
        "{histories:?}"
    );
}

#[test]
fn wait_and_db_drop_and_reset_see_the_models_a_query_lists() {
    let infra = TestDb::new("listed_sel");
    let base = skein_testkit::postgres()
        .admin_url
        .rsplit_once('/')
        .unwrap()
        .0
        .to_owned();
    let prefix = format!("skein_test_lsel_{}", std::process::id());
    let config = |models_base: &str| {
        format!(
            "[default.databases.infra]\nmigrations = \"infra\"\nurl = \"{}\"\n\n\
             [default.models]\ntemplate = \"template\"\nurl = \"{models_base}/{prefix}_{{model}}\"\n\
             names_from = {{ db = \"infra\", query = \"SELECT name FROM registry\" }}\n",
            infra.url
        )
    };
    let workspace = Workspace::new(
        &config(&base),
        &[
            (
                "infra/1_registry.up.sql",
                "CREATE TABLE registry (name TEXT);\nINSERT INTO registry VALUES ('a'), ('b');\n",
            ),
            ("template/1_t.up.sql", "CREATE TABLE t (id INT);\n"),
        ],
    );
    workspace.run(&["up", "--create", "-q"]).expect(0);
    let exists = |model: &str| {
        let probe = TestDb::new("lsel_probe");
        probe
            .value(&format!(
                "SELECT count(*)::text FROM pg_database WHERE datname = '{prefix}_{model}'"
            ))
            .as_deref()
            == Some("1")
    };
    let waited = workspace.run(&["wait", "--format", "json"]).expect(0);
    assert_eq!(statuses_of(&waited.json()).len(), 3, "{}", waited.stdout());
    workspace.run(&["wait", "--group", "models"]).expect(0);
    workspace
        .run(&["db", "reset", "--db", "a", "--yes"])
        .expect(0);
    workspace
        .run(&["db", "drop", "--group", "models", "--yes"])
        .expect(0);
    assert!(!exists("a") && !exists("b"));
    // The models' server down: wait names them and fails.
    let closed = format!(
        "postgres://postgres@127.0.0.1:{}",
        skein_testkit::free_port()
    );
    workspace.write("skein.toml", &config(&closed));
    let run = workspace
        .run(&["wait", "--connect-timeout", "1s"])
        .expect(1);
    assert!(run.stderr().contains("a: failed"), "{}", run.stderr());
}

#[test]
fn lint_reports_a_very_deep_statement_as_not_checked_and_never_aborts() {
    for (name, operator) in [
        ("or", " OR "),
        ("and", " AND "),
        ("concat", " || "),
        ("plus", " + "),
    ] {
        let terms = vec!["1"; 1_000_000].join(operator);
        let workspace = Workspace::new(
            "[default.databases.app]\nmigrations = \"m\"\nurl = \"sqlite://app.db\"\n",
            &[
                ("m/1_t.up.sql", "CREATE TABLE t (v INT);\n"),
                (
                    "m/2_deep.up.sql",
                    &format!("INSERT INTO t SELECT {terms};\n"),
                ),
            ],
        );
        let lint = workspace.run(&["lint", "--format", "json"]);
        assert!(
            lint.code() == 0 || lint.code() == 3,
            "{name}: exit {}: {}",
            lint.code(),
            lint.stderr()
        );
        let findings = lint.json()["databases"][0]["lint"]["findings"].clone();
        assert!(
            findings
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["rule"] == "not-checked"
                    && f["message"].as_str().unwrap().contains("too deep")),
            "{name}: {findings}"
        );
        // up lints first, then runs it: SQLite refuses an expression this deep, which is a
        // failed migration (exit 1), not a crash.
        let up = workspace.run(&["up"]);
        assert!(
            up.code() == 0 || up.code() == 1,
            "{name}: exit {}: {}",
            up.code(),
            up.stderr()
        );
    }
}

/// On PostgreSQL each step of a run but the last commits without waiting for the disk; the
/// last commit, or the release of the lock when the run stops early, waits for them all.
/// So what `up` reports as applied outlives a crash of the server right after it returns,
/// and a run that failed part-way leaves its first steps, each with its history row.
#[test]
fn what_up_applied_outlives_a_crash_of_the_server_right_after_it_returns() {
    // The WAL writer wakes every 10 s at most: only skein's own waits write the commits out.
    let cluster = skein_testkit::Cluster::start_new(None, "-c wal_writer_delay=10000").unwrap();
    skein_testkit::exec(&cluster.admin_url, "CREATE DATABASE crashed");
    let url = skein_testkit::with_database(&cluster.admin_url, "crashed");
    let file = |i: usize| {
        (
            format!("migrations/{i}_t{i}.up.sql"),
            format!("CREATE TABLE t{i} (id int);\nINSERT INTO t{i} VALUES ({i});\n"),
        )
    };
    let workspace = Workspace::postgres(&url, &[]);
    for i in 1..=40 {
        let (path, sql) = file(i);
        workspace.write(&path, &sql);
    }
    let applied = |workspace: &Workspace| {
        let history = workspace
            .run(&["history", "--format", "json"])
            .expect(0)
            .json();
        migration_states(&history)
            .iter()
            .filter(|state| *state == "applied")
            .count()
    };

    workspace.run(&["up", "-q"]).expect(0);
    cluster.crash().unwrap();
    cluster.start().unwrap();
    assert_eq!(applied(&workspace), 40, "every step `up` reported survives");

    for i in 41..=50 {
        let (path, sql) = file(i);
        workspace.write(&path, &sql);
    }
    // It fails before it writes anything: the last commit before it is all there is.
    workspace.write(
        "migrations/46_t46.up.sql",
        "SELECT * FROM nowhere;\nCREATE TABLE t46 (id int);\n",
    );
    let failed = workspace.run(&["up", "-q"]).expect(1);
    assert!(
        failed.stderr().contains("46_t46.up.sql:1"),
        "{}",
        failed.stderr()
    );
    cluster.crash().unwrap();
    cluster.start().unwrap();
    assert_eq!(
        applied(&workspace),
        45,
        "the steps before the failure survive"
    );
    workspace.run(&["status", "--check"]).expect(3);
}

/// `skein up -v 2>&1 | head` closes the logs' reader early: the run goes on without its
/// logs, to the end (it used to panic on the next log line, half-way through).
#[test]
fn a_run_whose_output_is_no_longer_read_goes_on_to_the_end() {
    let db = TestDb::new("closed_output");
    let files: Vec<(String, String)> = (1..=5)
        .map(|i| {
            (
                format!("{i}_t{i}.up.sql"),
                format!("CREATE TABLE t{i} (id INT);\n"),
            )
        })
        .collect();
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_str()))
        .collect();
    let workspace = Workspace::postgres(&db.url, &files);
    let closed = || {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        writer
    };
    for args in [&["up", "-vv"][..], &["drift", "-vv"], &["status", "-vv"]] {
        let status = workspace
            .command(args)
            .stdout(closed())
            .stderr(closed())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}");
    }
    assert_eq!(
        db.value("SELECT count(*)::text FROM skein_history")
            .as_deref(),
        Some("5")
    );
}
