//! Many skein processes at once, and a skein killed mid-migration.

use crate::support::*;
use skein_testkit::TestDb;
use std::time::{Duration, Instant};

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
    let children: Vec<_> = (0..8)
        .map(|_| {
            workspace
                .command(&["up", "--format", "json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
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
