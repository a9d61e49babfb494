//! Settings and inputs a hostile or careless user gives: each is refused before anything
//! is touched, or handled so that nothing is lost.

use crate::support::*;
use skein_testkit::{MyTestDb, TestDb, postgres};

/// Whether PostgreSQL has a database whose name starts with `prefix`.
fn pg_databases_like(prefix: &str) -> Vec<String> {
    let probe = TestDb::new("probe");
    probe
        .column(&format!(
            "SELECT datname FROM pg_database WHERE datname LIKE '{prefix}%' ORDER BY 1"
        ))
        .into_iter()
        .flatten()
        .collect()
}

#[test]
fn database_names_the_server_would_cut_short_are_refused_before_anything_runs() {
    let base = postgres().admin_url.rsplit_once('/').unwrap().0.to_owned();
    let prefix = format!("skein_test_long_{}_", std::process::id());
    // Two model names that differ only after the server's 63 bytes, once the URL's
    // prefix is added.
    let stem = "m".repeat(50);
    let config = format!(
        "[default.models]\ndir = \"models\"\ntemplate = \"template\"\nurl = \"{base}/{prefix}{{model}}\"\n"
    );
    let workspace = Workspace::new(
        &config,
        &[
            (
                &format!("models/{stem}_a/1_a.up.sql"),
                "CREATE TABLE a (id INT);\n",
            ),
            (
                &format!("models/{stem}_b/1_b.up.sql"),
                "CREATE TABLE b (id INT);\n",
            ),
            ("template/1_t.up.sql", "CREATE TABLE t (id INT);\n"),
        ],
    );
    for command in [&["db", "create"][..], &["up"], &["status"]] {
        let run = workspace.run(command).expect(2);
        let err = run.stderr();
        assert!(
            err.contains("the server keeps only the first 63"),
            "{command:?}: {err}"
        );
        assert!(err.contains(&format!("{stem}_a")), "{err}");
    }
    assert!(pg_databases_like(&prefix).is_empty());

    // `model new` refuses such a name too, and leaves no folder behind.
    let name = format!("{stem}_c");
    let run = workspace.run(&["model", "new", &name]).expect(2);
    assert!(
        run.stderr().contains("shorten the name"),
        "{}",
        run.stderr()
    );
    assert!(!workspace.path().join("models").join(&name).exists());
    assert!(pg_databases_like(&prefix).is_empty());
}

#[test]
fn mysql_refuses_a_schema_qualified_history_table() {
    let first = MyTestDb::new("qualified");
    let second = MyTestDb::new("qualified");
    let schema = format!("{}_ops", first.name);
    let config = format!(
        "[default]\nhistory_table = \"{schema}.history\"\n\n\
         [default.databases.one]\nmigrations = \"m\"\nurl = \"{}\"\n\n\
         [default.databases.two]\nmigrations = \"m\"\nurl = \"{}\"\n",
        first.url, second.url
    );
    let workspace = Workspace::new(&config, &[("m/1_t.up.sql", "CREATE TABLE t (id INT);\n")]);
    let run = workspace.run(&["up"]).expect(2);
    assert!(
        run.stderr().contains("schema-qualified"),
        "{}",
        run.stderr()
    );
    let created = first.value(&format!(
        "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '{schema}'"
    ));
    assert_eq!(
        created.as_deref(),
        Some("0"),
        "no database is made for the schema"
    );
    for db in [&first, &second] {
        let tables = db.value(&format!(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '{}'",
            db.name
        ));
        assert_eq!(tables.as_deref(), Some("0"), "nothing ran in {}", db.name);
    }
}

#[test]
fn other_files_are_skipped_and_empty_migrations_are_refused_by_name() {
    let db = TestDb::new("empty_files");
    let workspace = Workspace::postgres(
        &db.url,
        &[
            ("embed.go", "package migrations\n\nimport \"embed\"\n"),
            ("1_a.up.sql", "CREATE TABLE a (id INT);\n"),
            ("1_a.down.sql", "-- Add down migration script here\n"),
        ],
    );
    workspace.run(&["up"]).expect(0);
    assert_eq!(
        db.value("SELECT count(*)::text FROM a").as_deref(),
        Some("0")
    );

    // A down file without statements would revert nothing: refused, naming it.
    let run = workspace
        .run(&["down", "--db", "app", "--steps", "1"])
        .expect(1);
    assert!(
        run.stderr()
            .contains("migrations/1_a.down.sql was never written"),
        "{}",
        run.stderr()
    );
    assert_eq!(
        db.value("SELECT to_regclass('a')::text").as_deref(),
        Some("a")
    );
    // The refused database is reported at the version it is at.
    let run = workspace
        .run(&["--format", "json", "down", "--db", "app", "--steps", "1"])
        .expect(1);
    let report = run.json();
    assert_eq!(report["databases"][0]["version_before"], 1, "{report}");
    assert_eq!(report["databases"][0]["version_after"], 1, "{report}");

    // An up file left as `sqlx migrate add` wrote it stops the database before anything
    // of it runs.
    workspace.write("migrations/2_b.up.sql", "CREATE TABLE b (id INT);\n");
    workspace.write("migrations/3_c.up.sql", "-- Add migration script here\n");
    let run = workspace.run(&["up"]).expect(1);
    assert!(
        run.stderr()
            .contains("migrations/3_c.up.sql was never written"),
        "{}",
        run.stderr()
    );
    assert_eq!(db.value("SELECT to_regclass('b')::text"), None);
    // A file of comments alone is a deliberate no-op, as real histories have them
    // ("Integer size in SQLite is already i64, so we don't need to do anything").
    workspace.write(
        "migrations/3_c.up.sql",
        "-- Nothing to do on this backend: the column is wide enough already.\n",
    );
    workspace.run(&["up"]).expect(0);
    assert_eq!(
        db.value("SELECT string_agg(version::text, ',' ORDER BY version) FROM skein_history")
            .as_deref(),
        Some("1,2,3")
    );
}

#[test]
fn extreme_durations_and_numbers_are_refused_or_taken_without_a_panic() {
    let workspace = Workspace::new(
        "[default.databases.app]\nmigrations = \"m\"\nurl = \"sqlite://app.db\"\n",
        &[("m/1_t.up.sql", "CREATE TABLE t (id INT);\n")],
    );
    let huge = [
        "99999999999999999s",
        "18446744073709551615s",
        "99999999999999999999999999h",
        "24.5h",
    ];
    for value in huge {
        for flag in ["--lock-timeout", "--connect-timeout", "--step-timeout"] {
            for command in [
                &["up"][..],
                &["status"],
                &["db", "create"],
                &["down", "--db", "app", "--steps", "1"],
            ] {
                let mut args = command.to_vec();
                args.extend([flag, value]);
                let run = workspace.run(&args).expect(2);
                assert!(
                    run.stderr().contains("too long: at most 24h"),
                    "{args:?}: {}",
                    run.stderr()
                );
            }
        }
    }
    let edges: [&[&str]; 7] = [
        &["up", "--lock-timeout", "24h", "--connect-timeout", "0s"],
        &["up", "--concurrency", "65535"],
        &["up", "--to", "9223372036854775807"],
        &["up", "--shard", "4294967294/4294967295"],
        &["down", "--db", "app", "--steps", "4294967295"],
        &["down", "--db", "app", "--to", "-9223372036854775808"],
        &["stamp", "--db", "app", "9223372036854775807"],
    ];
    for args in edges {
        let run = workspace.run(args);
        assert!(
            !run.stderr().contains("panicked") && run.code() != 101,
            "{args:?}: {}",
            run.stderr()
        );
    }
    // The same limit holds in the configuration.
    workspace.write(
        "skein.toml",
        "[default]\nlock_timeout = \"99999999999999999s\"\n\n[default.databases.app]\nmigrations = \"m\"\nurl = \"sqlite://app.db\"\n",
    );
    let run = workspace.run(&["up"]).expect(2);
    assert!(run.stderr().contains("lock_timeout"), "{}", run.stderr());
}

#[test]
fn connection_retries_use_the_whole_timeout_in_every_command_and_say_so() {
    let port = skein_testkit::free_port();
    let workspace = Workspace::postgres(
        &format!("postgres://postgres@127.0.0.1:{port}/nothing_here"),
        &[("1_t.up.sql", "CREATE TABLE t (id INT);\n")],
    );
    for command in [&["up"][..], &["status"], &["db", "create"]] {
        let mut args = command.to_vec();
        args.extend(["--connect-timeout", "3s"]);
        let started = std::time::Instant::now();
        let run = workspace.run(&args).expect(1);
        let took = started.elapsed();
        assert!(
            took >= std::time::Duration::from_millis(2900),
            "{args:?} gave up after {took:?}"
        );
        let err = run.stderr();
        assert!(
            err.contains("tried ") && err.contains(" over 3.0s"),
            "{args:?}: {err}"
        );
        assert!(err.contains("check that the server is up"), "{err}");
    }
}

/// A table rebuild as SQLite's documentation describes it (and real histories do it): a new
/// table, the rows copied, the old one dropped, the new one renamed.
const REBUILD: &str = "CREATE TABLE users_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT);\n\
INSERT INTO users_new (id, name) SELECT id, name FROM users;\n\
DROP TABLE users;\n\
ALTER TABLE users_new RENAME TO users;\n";

fn sqlite_value(path: &std::path::Path, sql: &str) -> String {
    let output = std::process::Command::new("python3")
        .args(["-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])"])
        .arg(path)
        .arg(sql)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
fn sqlite_migrates_with_foreign_keys_off_and_checks_them_before_each_commit() {
    let workspace = Workspace::new(
        "[default.databases.app]\nmigrations = \"m\"\nurl = \"sqlite://app.db\"\n",
        &[
            (
                "m/1_users.up.sql",
                "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n\
                 CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE);\n\
                 INSERT INTO users VALUES (1, 'ann');\nINSERT INTO posts VALUES (10, 1);\n",
            ),
            ("m/2_rebuild.up.sql", REBUILD),
        ],
    );
    workspace.run(&["up"]).expect(0);
    let db = workspace.path().join("app.db");
    // The rebuild kept the posts: no cascade from the dropped table.
    assert_eq!(sqlite_value(&db, "SELECT count(*) FROM posts"), "1");

    // A step that leaves a broken reference fails, naming the table, and is rolled back.
    workspace.write(
        "m/3_orphan.up.sql",
        "CREATE TABLE audit (id INTEGER);\nINSERT INTO posts VALUES (11, 99);\n",
    );
    let run = workspace.run(&["up"]).expect(1);
    assert!(
        run.stderr().contains(
            "m/3_orphan.up.sql leaves 1 row(s) that break a foreign key (posts -> users)"
        ),
        "{}",
        run.stderr()
    );
    assert_eq!(
        sqlite_value(
            &db,
            "SELECT count(*) FROM sqlite_master WHERE name = 'audit'"
        ),
        "0"
    );
    assert_eq!(sqlite_value(&db, "SELECT count(*) FROM posts"), "1");

    // Those who want foreign keys enforced as the migration runs say so.
    workspace.write(
        "skein.toml",
        "[default.databases.app]\nmigrations = \"m\"\nurl = \"sqlite://app.db\"\nsqlite_foreign_keys = true\n",
    );
    let run = workspace.run(&["up"]).expect(1);
    assert!(
        run.stderr().contains("FOREIGN KEY constraint failed"),
        "{}",
        run.stderr()
    );
}

#[test]
fn init_sql_runs_first_on_every_connection_up_and_down_alike() {
    let db = MyTestDb::new("init_sql");
    let config = format!(
        "[default.databases.app]\nmigrations = \"m\"\nurl = \"{}\"\ninit_sql = [\"SET FOREIGN_KEY_CHECKS = 0\", \"SET @skein_marker = 'on'\"]\n",
        db.url
    );
    // Dropping a referenced table needs FOREIGN_KEY_CHECKS = 0 on MySQL, going up and down.
    let workspace = Workspace::new(
        &config,
        &[
            (
                "m/1_tables.up.sql",
                "CREATE TABLE parent (id INT PRIMARY KEY);\nCREATE TABLE child (id INT PRIMARY KEY, parent_id INT, FOREIGN KEY (parent_id) REFERENCES parent (id));\n",
            ),
            (
                "m/1_tables.down.sql",
                "DROP TABLE parent;\nDROP TABLE child;\n",
            ),
            (
                "m/2_marker.up.sql",
                "CREATE TABLE marker AS SELECT @skein_marker AS value;\n",
            ),
            ("m/2_marker.down.sql", "DROP TABLE marker;\n"),
        ],
    );
    workspace.run(&["up"]).expect(0);
    assert_eq!(db.value("SELECT value FROM marker").as_deref(), Some("on"));
    workspace
        .run(&["down", "--db", "app", "--to", "base"])
        .expect(0);
    assert_eq!(
        db.value(&format!(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '{}' AND table_name <> 'skein_history'",
            db.name
        ))
        .as_deref(),
        Some("0")
    );
    // A statement the server refuses names the setting, and nothing runs.
    workspace.write(
        "skein.toml",
        &format!(
            "[default.databases.app]\nmigrations = \"m\"\nurl = \"{}\"\ninit_sql = [\"SET nonsense = 1\"]\n",
            db.url
        ),
    );
    let run = workspace.run(&["up"]).expect(1);
    assert!(
        run.stderr()
            .contains("init_sql statement 1 (`SET nonsense = 1`) failed"),
        "{}",
        run.stderr()
    );
}

/// A SQLite migration outside a transaction that takes a while (about a second).
const SLOW_NO_TRANSACTION: &str = "-- skein:no-transaction\n\
CREATE TABLE slow AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT max(x) AS x FROM c;\n";

#[test]
fn sqlite_runners_wait_for_a_step_outside_a_transaction_and_status_shows_it_running() {
    let workspace = Workspace::new(
        "[default.databases.app]\nmigrations = \"m\"\nurl = \"sqlite://app.db\"\n",
        &[
            ("m/1_t.up.sql", "CREATE TABLE t (id INT);\n"),
            ("m/2_slow.up.sql", SLOW_NO_TRANSACTION),
            ("m/3_after.up.sql", "CREATE TABLE after_slow (id INT);\n"),
        ],
    );
    let db = workspace.path().join("app.db");
    let first = spawn_quiet(&workspace, &["up"]);
    // Wait until the slow step's row is there, unfinished.
    wait_until("the slow step starts", || {
        db.exists()
            && sqlite_value(
                &db,
                "SELECT count(*) FROM sqlite_master WHERE name = 'skein_history'",
            ) == "1"
            && sqlite_value(
                &db,
                "SELECT count(*) FROM skein_history WHERE version = 2 AND NOT success",
            ) == "1"
    });
    // status: running, by whom, since when; not failed.
    assert_running(&workspace, "pid ");
    let human = workspace.run(&["status"]).stdout();
    assert!(human.contains("is being applied now, by pid"), "{human}");
    // Runners started now wait for it, and repair too: nothing fails, nothing is lost.
    let spawn = |args: &[&str]| {
        workspace
            .command(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut others: Vec<_> = (0..6).map(|_| spawn(&["up"])).collect();
    others.push(spawn(&["repair", "--db", "app"]));
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success());
    for other in others {
        let other = other.wait_with_output().unwrap();
        assert!(
            other.status.success(),
            "{}",
            String::from_utf8_lossy(&other.stderr)
        );
    }
    assert_eq!(
        sqlite_value(
            &db,
            "SELECT group_concat(version || ':' || success) FROM skein_history"
        ),
        "1:1,2:1,3:1"
    );
}

#[test]
fn a_failed_down_is_named_by_its_down_file_and_repair_puts_the_row_back() {
    let db = TestDb::new("failed_down");
    let workspace = Workspace::postgres(
        &db.url,
        &[
            (
                "1_a.up.sql",
                "CREATE TABLE a (id INT);\nCREATE TABLE b (id INT);\n",
            ),
            (
                "1_a.down.sql",
                "-- skein:no-transaction\nDROP TABLE b;\nDROP TABLE missing;\nDROP TABLE a;\n",
            ),
        ],
    );
    workspace.run(&["up"]).expect(0);
    let run = workspace
        .run(&["down", "--db", "app", "--steps", "1"])
        .expect(1);
    assert!(run.stderr().contains("1_a.down.sql"), "{}", run.stderr());
    let status = workspace.run(&["status"]).expect(0).stdout();
    assert!(
        status.contains("version 1 (migrations/1_a.down.sql) failed part-way going down"),
        "{status}"
    );
    assert!(!status.contains("1_a.up.sql"), "{status}");
    // The person puts back what the down file undid, and repair marks it applied again.
    db.exec("CREATE TABLE b (id INT)");
    let repair = workspace.run(&["repair", "--db", "app"]).expect(0).stdout();
    assert!(
        repair.contains("marked applied again; `down` reverts it again"),
        "{repair}"
    );
    assert!(!repair.contains("will run again"), "{repair}");
    let history = db.value("SELECT version || ' ' || kind || ' ' || success FROM skein_history");
    assert_eq!(history.as_deref(), Some("1 migration true"));
    workspace.run(&["up"]).expect(0);
}

#[test]
fn postgres_status_shows_a_step_another_skein_is_running() {
    let db = TestDb::new("running");
    let workspace = Workspace::postgres(
        &db.url,
        &[(
            "1_slow.up.sql",
            "-- skein:no-transaction\nCREATE TABLE slow (id INT);\nSELECT pg_sleep(3);\n",
        )],
    );
    let mut first = spawn_quiet(&workspace, &["up"]);
    wait_until("the slow step starts", || {
        db.value("SELECT to_regclass('slow')::text").is_some()
    });
    assert_running(&workspace, "pid ");
    assert!(first.wait().unwrap().success());
}

/// Starts skein in `workspace`, its output discarded.
fn spawn_quiet(workspace: &Workspace, args: &[&str]) -> std::process::Child {
    workspace
        .command(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits (up to 20 s) until `check` holds.
fn wait_until(what: &str, check: impl Fn() -> bool) {
    skein_testkit::wait_until(what, std::time::Duration::from_secs(20), check);
}

/// `status` reports the database's first problem as a step being run by `by...`.
fn assert_running(workspace: &Workspace, by: &str) {
    let status = workspace.run(&["--format", "json", "status"]).json();
    let problem = &status["databases"][0]["problems"][0];
    assert_eq!(problem["problem"], "running", "{status}");
    assert!(problem["by"].as_str().unwrap().starts_with(by), "{status}");
}

/// Runs skein, sends it SIGTERM after 0.8 s, and checks that it ends within 5 s.
fn stopped_by_sigterm(workspace: &Workspace, args: &[&str]) -> Run {
    let child = workspace
        .command(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    let signalled = std::time::Instant::now();
    sigterm(&child);
    let run = Run(child.wait_with_output().unwrap());
    assert!(
        signalled.elapsed() < std::time::Duration::from_secs(5),
        "{args:?} took {:?} after SIGTERM",
        signalled.elapsed()
    );
    run
}

fn sigterm(child: &std::process::Child) {
    let pid = child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
}

#[test]
fn the_first_sigterm_ends_every_wait_within_seconds() {
    // A lock wait: another session holds the migration lock.
    let db = TestDb::new("sigterm_waits");
    let workspace = Workspace::postgres(
        &db.url,
        &[(
            "1_slow.up.sql",
            "CREATE TABLE slow_a (id INT);\nSELECT pg_sleep(30);\n",
        )],
    );
    let holder = spawn_quiet(&workspace, &["up"]);
    wait_until("the slow step starts", || {
        db.value("SELECT count(*)::text FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND application_name = 'skein'")
            .as_deref()
            == Some("1")
    });
    let waited = stopped_by_sigterm(&workspace, &["up", "--lock-timeout", "60s"]);
    assert_eq!(waited.code(), 143, "{}", waited.stderr());
    // The step in flight (in a transaction) is cancelled and rolled back.
    let signalled = std::time::Instant::now();
    sigterm(&holder);
    let held = holder.wait_with_output().unwrap();
    assert_eq!(held.status.code(), Some(143));
    assert!(
        signalled.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        signalled.elapsed()
    );
    assert_eq!(db.value("SELECT to_regclass('slow_a')::text"), None);
    assert_eq!(
        db.value("SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())").as_deref(),
        Some("0")
    );

    // A connection retry against a server that is not there.
    let port = skein_testkit::free_port();
    let nowhere = Workspace::postgres(
        &format!("postgres://postgres@127.0.0.1:{port}/nothing_here"),
        &[("1_t.up.sql", "CREATE TABLE t (id INT);\n")],
    );
    let retried = stopped_by_sigterm(&nowhere, &["up", "--connect-timeout", "60s"]);
    assert_eq!(retried.code(), 143, "{}", retried.stderr());
}

#[test]
fn a_mysql_step_over_its_limit_is_killed_and_rolled_back() {
    let db = MyTestDb::new("step_limit");
    db.exec("CREATE TABLE t (id INT) ENGINE=InnoDB");
    let config = format!(
        "[default.databases.app]\nmigrations = \"m\"\nurl = \"{}\"\nstep_timeout = \"1s\"\n",
        db.url
    );
    let workspace = Workspace::new(
        &config,
        &[(
            "m/1_slow.up.sql",
            "INSERT INTO t VALUES (1);\nSELECT BENCHMARK(20000000000, MD5('skein'));\n",
        )],
    );
    let started = std::time::Instant::now();
    let run = workspace.run(&["up"]).expect(1);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        run.stderr().contains("ran longer than the step limit (1s)"),
        "{}",
        run.stderr()
    );
    assert_eq!(db.value("SELECT COUNT(*) FROM t").as_deref(), Some("0"));
    // The flag overrides the setting.
    let run = workspace.run(&["up", "--step-timeout", "2s"]).expect(1);
    assert!(run.stderr().contains("step limit (2s)"), "{}", run.stderr());
}

#[test]
fn mysql_status_shows_a_step_another_skein_is_running() {
    let db = MyTestDb::new("running");
    let config = format!(
        "[default.databases.app]\nmigrations = \"m\"\nurl = \"{}\"\n",
        db.url
    );
    let workspace = Workspace::new(
        &config,
        &[(
            "m/1_slow.up.sql",
            "CREATE TABLE slow (id INT);\nDO SLEEP(3);\n",
        )],
    );
    let first = spawn_quiet(&workspace, &["up"]);
    let started = format!(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '{}' AND table_name = 'slow'",
        db.name
    );
    wait_until("the slow step starts", || {
        db.value(&started).as_deref() == Some("1")
    });
    assert_running(&workspace, "connection ");
    assert!(first.wait_with_output().unwrap().status.success());
}
