//! Many skein processes at once, and a skein killed mid-migration.

use crate::support::*;
use skein_testkit::TestDb;
use std::time::{Duration, Instant};

/// `skein up --format json` started in `workspace`, its output kept for the report.
fn spawn_up(workspace: &Workspace) -> std::process::Child {
    workspace
        .command(&["up", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn eight_processes_at_once_apply_each_migration_exactly_once() {
    let db = TestDb::new("cli_eight");
    let files: Vec<(String, String)> = (1..=40)
        .map(|v| {
            (
                format!("{v}_step.up.sql"),
                format!("CREATE TABLE t{v} (id INT);\nINSERT INTO t{v} SELECT generate_series(1, 100);\nSELECT pg_sleep(0.01);\n"),
            )
        })
        .collect();
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_str()))
        .collect();
    let workspace = Workspace::postgres(&db.url, &files);
    let children: Vec<_> = (0..8).map(|_| spawn_up(&workspace)).collect();
    let mut applied = 0;
    for child in children {
        let output = child.wait_with_output().unwrap();
        let run = Run(output).expect(0);
        applied += run.json()["databases"][0]["steps"]
            .as_array()
            .map_or(0, Vec::len);
    }
    assert_eq!(
        applied, 40,
        "all eight together applied each migration once"
    );
    assert_eq!(
        db.value("SELECT count(*)::text FROM skein_history")
            .as_deref(),
        Some("40")
    );
    assert_eq!(
        db.value("SELECT count(*)::text FROM t40").as_deref(),
        Some("100")
    );
    assert_eq!(
        db.value("SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
            .as_deref(),
        Some("0"),
        "no lock is left behind"
    );
}

#[test]
fn kill_9_mid_migration_leaves_nothing_and_the_next_up_applies_it() {
    let db = TestDb::new("cli_kill");
    let files = [
        ("1_first.up.sql", "CREATE TABLE first (id INT);\n"),
        (
            "2_long.up.sql",
            "CREATE TABLE long_one (id INT);\nINSERT INTO long_one SELECT generate_series(1, 1000);\nSELECT pg_sleep(3);\nCREATE TABLE long_two (id INT);\n",
        ),
    ];
    let workspace = Workspace::postgres(&db.url, &files);
    let mut child = workspace
        .command(&["up", "-q"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let sleeping = db.value("SELECT count(*)::text FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3)%' AND application_name = 'skein' AND state = 'active' AND datname = current_database()");
        if sleeping.as_deref() == Some("1") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the long migration never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    assert_eq!(
        db.value("SELECT to_regclass('long_one')::text"),
        None,
        "nothing of the migration is visible"
    );
    assert_eq!(
        db.value("SELECT string_agg(version::text, ',') FROM skein_history")
            .as_deref(),
        Some("1")
    );
    let run = workspace.run(&["up", "--format", "json"]).expect(0).json();
    assert_eq!(run["databases"][0]["steps"][0]["version"], 2);
    assert_eq!(
        db.value("SELECT count(*)::text FROM long_one").as_deref(),
        Some("1000")
    );
    assert_eq!(
        db.value("SELECT to_regclass('long_two')::text").as_deref(),
        Some("long_two")
    );
}

/// Sixteen `up` at once on each backend while two migrations are added half-way: the
/// runners that find nothing pending say so without the lock, those that find something
/// take it and read again, and each migration still runs once (each records itself in a
/// table, so a second run would show as a second row). A runner whose list of files is
/// older than the history it reads refuses and runs nothing.
#[test]
fn sixteen_runners_at_once_apply_each_migration_once_while_migrations_are_added() {
    let sqlite_dir = tempfile::tempdir().unwrap();
    let pg = TestDb::new("cli_sixteen");
    let my = skein_testkit::MyTestDb::new("cli_sixteen");
    let sqlite_url = format!("sqlite://{}/app.db", sqlite_dir.path().display());
    // Every row of `runs`, in order.
    let runs = |backend: &str| -> Vec<String> {
        match backend {
            "sqlite" => crate::support::sqlite_text(
                &sqlite_dir.path().join("app.db"),
                "SELECT group_concat(v, ' ') FROM (SELECT v FROM runs ORDER BY v)",
            )
            .split(' ')
            .map(|v| Some(v.to_owned()))
            .collect(),
            "postgres" => pg.column("SELECT v::text FROM runs ORDER BY v"),
            _ => my.column("SELECT CAST(v AS CHAR) FROM runs ORDER BY v"),
        }
        .into_iter()
        .flatten()
        .collect()
    };
    for (backend, url) in [
        ("sqlite", sqlite_url.as_str()),
        ("postgres", pg.url.as_str()),
        ("mysql", my.url.as_str()),
    ] {
        let step = |v: u32| {
            (
                format!("{v}_step{v}.up.sql"),
                format!("CREATE TABLE t{v} (id INT);\nINSERT INTO runs (v) VALUES ({v});\n"),
            )
        };
        let mut files = vec![(
            "1_runs.up.sql".to_owned(),
            "CREATE TABLE runs (v INT);\n".to_owned(),
        )];
        files.extend((2..=4).map(step));
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, c)| (n.as_str(), c.as_str()))
            .collect();
        let workspace = Workspace::postgres(url, &files);
        workspace.run(&["up", "--to", "1"]).expect(0);
        let mut children: Vec<_> = (0..8).map(|_| spawn_up(&workspace)).collect();
        std::thread::sleep(Duration::from_millis(30));
        for v in 5..=6 {
            let (name, sql) = step(v);
            workspace.write(&format!("migrations/{name}"), &sql);
        }
        children.extend((0..8).map(|_| spawn_up(&workspace)));
        let mut applied = 0;
        for child in children {
            let run = Run(child.wait_with_output().unwrap());
            let db = &run.json()["databases"][0];
            applied += db["steps"].as_array().map_or(0, Vec::len);
            if run.code() == 0 {
                continue;
            }
            // A runner that listed the files before 5 and 6 were written, and read the
            // history after another applied them, refuses: they are applied and it has no
            // file for them. It ran nothing.
            assert_eq!(run.code(), 1, "{backend}: {}", run.stdout());
            let problems: Vec<(&str, u64)> = db["problems"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p["problem"].as_str().unwrap(),
                        p["version"].as_u64().unwrap(),
                    )
                })
                .collect();
            assert!(
                !problems.is_empty()
                    && problems
                        .iter()
                        .all(|(p, v)| *p == "missing" && (5..=6).contains(v)),
                "{backend}: {}",
                run.stdout()
            );
        }
        // Whatever the sixteen left (a runner may have read the files before 5 and 6 were
        // there), one more run finishes.
        let last = workspace.run(&["up", "--format", "json"]).expect(0);
        applied += last.json()["databases"][0]["steps"]
            .as_array()
            .map_or(0, Vec::len);
        assert_eq!(applied, 5, "{backend}: each migration applied once");
        assert_eq!(
            runs(backend),
            ["2", "3", "4", "5", "6"],
            "{backend}: no migration ran twice"
        );
        let noop = workspace.run(&["up", "--format", "json"]).expect(0).json();
        assert_eq!(noop["databases"][0]["status"], "up_to_date", "{backend}");
    }
}

/// A deploy that finds nothing to do takes no lock: with the migration lock held by
/// another runner, `up` of an up-to-date database says so at once, and leaves no lock file
/// behind; with something pending, it waits for the lock as before.
#[test]
fn an_up_with_nothing_to_do_takes_no_lock() {
    let workspace = Workspace::new(
        "[default]\nlock_timeout = \"1s\"\n\n[default.databases.app]\nmigrations = \"m\"\nurl = \"sqlite://app.db\"\n",
        &[("m/1_init.up.sql", "CREATE TABLE t (id INTEGER);\n")],
    );
    workspace.run(&["up"]).expect(0);
    let lock_path = workspace.path().join("app.db-skein.lock");
    assert!(!lock_path.exists(), "the run's lock file is gone");
    // Another runner holds the lock (an OS lock on the file, as skein takes it).
    let held = std::fs::File::create(&lock_path).unwrap();
    held.lock().unwrap();
    let started = Instant::now();
    let noop = workspace.run(&["up", "--format", "json"]).expect(0).json();
    assert_eq!(noop["databases"][0]["status"], "up_to_date");
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "it did not wait for the lock: {:?}",
        started.elapsed()
    );
    workspace.write("m/2_more.up.sql", "CREATE TABLE u (id INTEGER);\n");
    let pending = workspace.run(&["up"]).expect(1);
    assert!(
        pending.stderr().contains("lock"),
        "with something pending it waits for the lock: {}",
        pending.stderr()
    );
    drop(held);
    std::fs::remove_file(&lock_path).unwrap();
    workspace.run(&["up"]).expect(0);
    assert!(!lock_path.exists());
}
