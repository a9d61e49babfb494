//! Many databases at once: a real PostgreSQL fleet of one infra and fifty models, failures
//! and what they skip, --fail-fast, shards, SIGTERM, and five hundred SQLite databases.

use crate::support::*;
use skein_testkit::TestDb;
use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

const MODEL_MIGRATIONS: &[(&str, &str)] = &[
    (
        "1_trades.up.sql",
        "CREATE TABLE trades (id BIGINT PRIMARY KEY, amount NUMERIC NOT NULL);\n",
    ),
    (
        "2_positions.up.sql",
        "CREATE TABLE positions (id BIGINT PRIMARY KEY, trade_id BIGINT REFERENCES trades (id));\nCREATE INDEX positions_trade ON positions (trade_id);\n",
    ),
    (
        "3_seed.up.sql",
        "INSERT INTO trades SELECT g, g * 10 FROM generate_series(1, 100) g;\n",
    ),
];

/// One infra database and `models` model databases on the shared PostgreSQL server, each
/// model folder named after its database.
pub(crate) struct PgFleet {
    pub(crate) workspace: Workspace,
    pub(crate) infra: TestDb,
    pub(crate) models: Vec<TestDb>,
}

pub(crate) fn pg_fleet(models: usize) -> PgFleet {
    let infra = TestDb::new("fleet_infra");
    let models: Vec<TestDb> = (0..models).map(|_| TestDb::new("fleet_m")).collect();
    let base = infra.url.rsplit_once('/').unwrap().0.to_owned();
    let config = format!(
        "[default]\nconcurrency = 4\n\n[default.databases.infra]\nmigrations = \"infra\"\nurl = \"{}\"\n\n\
         [default.models]\ndir = \"models\"\nurl = \"{base}/{{model}}\"\ndepends_on = [\"infra\"]\n",
        infra.url
    );
    let mut files = vec![(
        "infra/1_models.up.sql".to_owned(),
        "CREATE TABLE models (name TEXT PRIMARY KEY);\n".to_owned(),
    )];
    for model in &models {
        for (name, sql) in MODEL_MIGRATIONS {
            files.push((format!("models/{}/{name}", model.name), (*sql).to_owned()));
        }
    }
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_str()))
        .collect();
    PgFleet {
        workspace: Workspace::new(&config, &files),
        infra,
        models,
    }
}

fn count(statuses: &BTreeMap<String, String>, status: &str) -> usize {
    statuses.values().filter(|s| *s == status).count()
}

/// Checks the documented shape of the JSON report (README "The JSON report").
fn assert_report_shape(report: &serde_json::Value) {
    assert!(report["command"].is_string() && report["profile"].is_string());
    for db in report["databases"].as_array().unwrap() {
        assert!(db["name"].is_string());
        let status = db["status"].as_str().unwrap();
        assert!(
            [
                "ok",
                "up_to_date",
                "pending",
                "problems",
                "failed",
                "interrupted",
                "skipped"
            ]
            .contains(&status),
            "{status}"
        );
        assert!(db["version_before"].is_null() || db["version_before"].is_i64());
        assert!(db["version_after"].is_null() || db["version_after"].is_i64());
        for step in db["steps"].as_array().into_iter().flatten() {
            assert!(step["version"].is_i64() && step["description"].is_string());
            assert!(["up", "down"].contains(&step["direction"].as_str().unwrap()));
            assert!(step["ms"].is_null() || step["ms"].is_i64());
        }
        if let Some(error) = db.get("error") {
            assert!(error["message"].is_string());
        }
    }
}

#[test]
fn a_fleet_of_fifty_models_reaches_head_then_is_up_to_date() {
    let fleet = pg_fleet(50);
    let first = fleet
        .workspace
        .run(&["up", "--format", "json"])
        .expect(0)
        .json();
    assert_report_shape(&first);
    let statuses = statuses_of(&first);
    assert_eq!(statuses.len(), 51);
    assert_eq!(count(&statuses, "ok"), 51, "{statuses:?}");
    assert_eq!(first["databases"][0]["name"], "infra", "infra comes first");
    for model in &fleet.models {
        assert_eq!(
            model.value("SELECT count(*)::text FROM trades").as_deref(),
            Some("100")
        );
    }
    let second = fleet
        .workspace
        .run(&["up", "--format", "json"])
        .expect(0)
        .json();
    assert_report_shape(&second);
    assert_eq!(count(&statuses_of(&second), "up_to_date"), 51);
    // The human summary too: counts, and a row per database with -v.
    let human = fleet
        .workspace
        .run(&["status", "--check"])
        .expect(0)
        .stdout();
    assert_eq!(human.trim_end(), "51 databases: 51 up to date");
    let every = fleet
        .workspace
        .run(&["status", "--check", "-v"])
        .expect(0)
        .stdout();
    assert_eq!(every.matches("up to date").count(), 52);
}

#[test]
fn a_broken_model_fails_alone_and_a_broken_infra_skips_every_model() {
    let fleet = pg_fleet(6);
    let broken = &fleet.models[2];
    fleet.workspace.write(
        &format!("models/{}/4_broken.up.sql", broken.name),
        "CREATE TABLE ok_part (id INT);\nSELECT * FROM nowhere;\n",
    );
    // A database that depends on the broken model.
    let reports = TestDb::new("fleet_reports");
    let config = std::fs::read_to_string(fleet.workspace.path().join("skein.toml")).unwrap();
    fleet.workspace.write(
        "skein.toml",
        &format!(
            "{config}\n[default.databases.reports]\nmigrations = \"reports\"\nurl = \"{}\"\ndepends_on = [\"{}\"]\n",
            reports.url, broken.name
        ),
    );
    fleet
        .workspace
        .write("reports/1_daily.up.sql", "CREATE TABLE daily (id INT);\n");
    let run = fleet.workspace.run(&["up", "--format", "json"]).expect(1);
    let report = run.json();
    assert_report_shape(&report);
    let statuses = statuses_of(&report);
    assert_eq!(statuses[&broken.name], "failed");
    assert_eq!(
        count(&statuses, "ok"),
        6,
        "infra and the five others reach head: {statuses:?}"
    );
    assert_eq!(statuses["reports"], "skipped", "its dependent is skipped");
    let skipped = report["databases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "reports")
        .unwrap();
    assert_eq!(
        skipped["error"]["message"].as_str(),
        Some(format!("skipped because `{}` failed", broken.name).as_str())
    );
    assert_eq!(reports.value("SELECT to_regclass('daily')::text"), None);
    let failed = report["databases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == broken.name.as_str())
        .unwrap();
    assert!(
        failed["error"]["file"]
            .as_str()
            .unwrap()
            .ends_with("4_broken.up.sql")
    );
    assert_eq!(
        (
            failed["error"]["line"].as_i64(),
            failed["error"]["column"].as_i64()
        ),
        (Some(2), Some(15))
    );
    assert_eq!(
        failed["version_after"], 3,
        "its first three migrations stay applied"
    );

    // Infra refuses skein (a wrong password, on a server that checks passwords): every
    // model depending on it is skipped.
    let server = skein_testkit::password_server();
    let bad_url = server
        .admin_url
        .replacen("://postgres:", "://postgres:wrong-", 1)
        .replacen("://postgres@", "://postgres:wrong@", 1);
    assert_ne!(bad_url, server.admin_url);
    let mut command = fleet.workspace.command(&["up", "--format", "json"]);
    command.env("SKEIN_DATABASES__INFRA__URL", &bad_url);
    let run = Run(command.output().unwrap()).expect(1);
    let infra_error = run.json()["databases"][0]["error"]["message"].to_string();
    assert!(
        infra_error.contains("password authentication failed"),
        "{infra_error}"
    );
    let report = run.json();
    let statuses = statuses_of(&report);
    assert_eq!(statuses["infra"], "failed");
    assert_eq!(
        count(&statuses, "skipped"),
        7,
        "the six models, and reports through its model: {statuses:?}"
    );
    assert_eq!(
        report["databases"][1]["error"]["message"],
        "skipped because `infra` failed"
    );
    assert!(!run.stdout().contains("wrong"), "no password shown");
}

#[test]
fn fail_fast_starts_nothing_new_after_a_failure() {
    let mut config = String::from("[default]\nconcurrency = 1\n");
    let mut files = Vec::new();
    for i in 0..8 {
        config.push_str(&format!(
            "\n[default.databases.db{i}]\nmigrations = \"m{i}\"\nurl = \"sqlite://data/db{i}.db\"\n"
        ));
        let sql = if i == 2 {
            "SELECT * FROM nowhere;\n"
        } else {
            "CREATE TABLE t (id INT);\n"
        };
        files.push((format!("m{i}/1_t.up.sql"), sql));
    }
    let files: Vec<(&str, &str)> = files.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    let workspace = Workspace::new(&config, &files);
    let report = workspace
        .run(&["up", "--fail-fast", "--format", "json"])
        .expect(1)
        .json();
    let statuses = statuses_of(&report);
    assert_eq!(statuses["db0"], "ok");
    assert_eq!(statuses["db1"], "ok");
    assert_eq!(statuses["db2"], "failed");
    assert_eq!(count(&statuses, "skipped"), 5, "{statuses:?}");
    let skipped = &report["databases"][7]["error"]["message"];
    assert_eq!(skipped, "not started: --fail-fast after `db2` failed");
    // Without it, the others go on.
    let report = workspace.run(&["up", "--format", "json"]).expect(1).json();
    assert_eq!(count(&statuses_of(&report), "ok"), 5);

    // Commands that change history or revert must be told which databases.
    let run = workspace.run(&["down", "--steps", "1"]).expect(2);
    assert!(
        run.stderr().contains("`down` needs the databases named"),
        "{}",
        run.stderr()
    );
    workspace.run(&["stamp", "base"]).expect(2);
    let stamped = workspace
        .run(&["stamp", "--group", "infra", "base", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(
        count(&statuses_of(&stamped), "ok"),
        7,
        "every database with a history row is unrecorded"
    );
    assert_eq!(
        count(&statuses_of(&stamped), "up_to_date"),
        1,
        "db2 had nothing recorded"
    );
}

#[test]
fn two_shards_together_migrate_every_database_exactly_once() {
    let fleet = pg_fleet(12);
    let spawn = |args: &[&str]| {
        fleet
            .workspace
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let shards = [
        spawn(&["up", "--shard", "0/2", "--format", "json"]),
        spawn(&["up", "--shard", "1/2", "--format", "json"]),
    ];
    let mut applied: BTreeMap<String, usize> = BTreeMap::new();
    for shard in shards {
        let report = Run(shard.wait_with_output().unwrap()).expect(0).json();
        for db in report["databases"].as_array().unwrap() {
            *applied
                .entry(db["name"].as_str().unwrap().to_owned())
                .or_default() += db["steps"].as_array().map_or(0, Vec::len);
        }
    }
    assert_eq!(
        applied.len(),
        13,
        "every database was in a shard (infra in both)"
    );
    assert_eq!(
        applied["infra"], 1,
        "infra ran in both shards, applied once"
    );
    for model in &fleet.models {
        assert_eq!(applied[&model.name], 3, "{}", model.name);
        assert_eq!(
            model
                .value("SELECT count(*)::text FROM skein_history")
                .as_deref(),
            Some("3")
        );
    }
    // A one-shard run and a plain run at the same time are safe too.
    let fresh = pg_fleet(6);
    let a = fresh
        .workspace
        .command(&["up", "--shard", "0/1", "-q"])
        .spawn()
        .unwrap();
    let b = fresh.workspace.command(&["up", "-q"]).spawn().unwrap();
    assert!(Run(a.wait_with_output().unwrap()).code() == 0);
    assert!(Run(b.wait_with_output().unwrap()).code() == 0);
    for model in &fresh.models {
        assert_eq!(
            model
                .value("SELECT count(*)::text FROM skein_history")
                .as_deref(),
            Some("3")
        );
        assert_eq!(
            model.value("SELECT count(*)::text FROM trades").as_deref(),
            Some("100")
        );
    }
}

#[test]
fn sigterm_mid_fleet_leaves_no_lock_and_no_half_migration() {
    let fleet = pg_fleet(8);
    for model in &fleet.models {
        fleet.workspace.write(
            &format!("models/{}/4_slow.up.sql", model.name),
            "CREATE TABLE slow_a (id INT);\nSELECT pg_sleep(10);\nCREATE TABLE slow_b (id INT);\n",
        );
    }
    let child = fleet
        .workspace
        .command(&["up", "--concurrency", "2", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the slow migrations are running, then SIGTERM. (A session's query text is
    // its whole message, which starts with the first of a model's files: it is the sleep
    // the sessions are seen waiting in.)
    let deadline = Instant::now() + Duration::from_secs(30);
    while fleet.infra.value("SELECT count(*)::text FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND application_name = 'skein'").as_deref() != Some("2") {
        assert!(Instant::now() < deadline, "the slow migrations never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let signalled = Instant::now();
    let run = Run(child.wait_with_output().unwrap());
    assert_eq!(run.code(), 143, "{}", run.stderr());
    // The two steps in flight were cancelled on the server, not waited for.
    assert!(
        signalled.elapsed() < Duration::from_secs(5),
        "{:?}",
        signalled.elapsed()
    );
    let report = run.json();
    let statuses = statuses_of(&report);
    assert_eq!(count(&statuses, "ok"), 1, "infra finished: {statuses:?}");
    assert_eq!(
        count(&statuses, "interrupted"),
        2,
        "the two in flight were rolled back: {statuses:?}"
    );
    assert_eq!(count(&statuses, "skipped"), 6, "{statuses:?}");
    assert!(
        report["databases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["error"]["message"] == "not started: interrupted")
    );
    for model in &fleet.models {
        let a = model.value("SELECT to_regclass('slow_a')::text").is_some();
        let b = model.value("SELECT to_regclass('slow_b')::text").is_some();
        assert_eq!(a, b, "{}: a migration is whole or absent", model.name);
        let locks = model.value("SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");
        assert_eq!(locks.as_deref(), Some("0"), "{}: no lock left", model.name);
    }
    // The next run finishes the job.
    let report = fleet
        .workspace
        .run(&["up", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(count(&statuses_of(&report), "ok"), 8);
}

#[test]
fn five_hundred_sqlite_databases_in_bounded_memory_and_connections() {
    let config = "[default.models]\ndir = \"models\"\nurl = \"sqlite://data/{model}.db\"\n";
    let mut files = Vec::new();
    for i in 0..500 {
        files.push((format!("models/m{i:03}/1_a.up.sql"), "CREATE TABLE a (id INTEGER PRIMARY KEY, note TEXT);\nCREATE INDEX a_note ON a (note);\n"));
        files.push((
            format!("models/m{i:03}/2_b.up.sql"),
            "INSERT INTO a (note) VALUES ('x'), ('y');\n",
        ));
    }
    let files: Vec<(&str, &str)> = files.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    let workspace = Workspace::new(config, &files);
    let mut child = workspace
        .command(&["up", "--concurrency", "4", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let proc_dir = format!("/proc/{}", child.id());
    let (mut peak_kb, mut most_open) = (0_u64, 0_usize);
    while child.try_wait().unwrap().is_none() {
        if let Ok(status) = std::fs::read_to_string(format!("{proc_dir}/status"))
            && let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:"))
        {
            peak_kb = peak_kb.max(line.split_whitespace().nth(1).unwrap().parse().unwrap());
        }
        let open = std::fs::read_dir(format!("{proc_dir}/fd"))
            .map(|fds| {
                fds.flatten()
                    .filter(|fd| {
                        std::fs::read_link(fd.path())
                            .is_ok_and(|t| t.extension().is_some_and(|e| e == "db"))
                    })
                    .count()
            })
            .unwrap_or(0);
        most_open = most_open.max(open);
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(
        std::fs::read_dir(workspace.path().join("data"))
            .unwrap()
            .count(),
        500
    );
    assert!(
        peak_kb > 0 && peak_kb < 100 * 1024,
        "peak memory {peak_kb} kB"
    );
    assert!(
        most_open <= 4,
        "at most --concurrency databases open at once, saw {most_open}"
    );
    assert!(most_open >= 1, "the sampling saw open databases");
}

/// `config show` on a file of 3,000 databases: the line of every setting is right. (Finding
/// them once scanned the file and merged every layer per setting: 3,000 databases took
/// over a minute in a debug build; `bench/config_scale.py` times it.)
#[test]
fn config_show_names_the_line_of_each_setting_in_a_long_file() {
    let databases_count = 3000;
    let config: String = (0..databases_count)
        .map(|i| {
            format!("[default.databases.db_{i:04}]\nmigrations = \"m\"\nurl = \"sqlite://data/{i}.db\"\n\n")
        })
        .collect();
    let workspace = Workspace::new(&config, &[("m/1_a.up.sql", "SELECT 1;\n")]);
    let shown = workspace
        .run(&["config", "show", "--format", "json"])
        .expect(0)
        .json();
    let databases = shown["databases"].as_array().unwrap();
    assert_eq!(databases.len(), databases_count);
    for (i, db) in databases.iter().enumerate() {
        let source = |name: &str| {
            db["settings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["name"] == name)
                .unwrap()["source"]
                .clone()
        };
        // Each table is four lines: header, migrations, url, blank.
        assert_eq!(
            source("migrations"),
            format!("skein.toml:{} [default]", 4 * i + 2)
        );
        assert_eq!(source("url"), format!("skein.toml:{} [default]", 4 * i + 3));
    }
    let status = workspace
        .run(&["status", "--format", "json", "-q"])
        .expect(0)
        .json();
    assert_eq!(count(&statuses_of(&status), "pending"), databases_count);
}

#[test]
fn shard_auto_takes_the_index_from_an_indexed_job() {
    let mut config = String::from(
        "[default.databases.infra]\nmigrations = \"m\"\nurl = \"sqlite://data/infra.db\"\n",
    );
    config.push_str("\n[default.models]\ndir = \"models\"\nurl = \"sqlite://data/{model}.db\"\ndepends_on = [\"infra\"]\n");
    let mut files = vec![("m/1_a.up.sql".to_owned(), "CREATE TABLE a (id INT);\n")];
    for i in 0..20 {
        files.push((
            format!("models/model_{i:02}/1_a.up.sql"),
            "CREATE TABLE a (id INT);\n",
        ));
    }
    let files: Vec<(&str, &str)> = files.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    let workspace = Workspace::new(&config, &files);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for index in ["0", "1", "2"] {
        let mut command = workspace.command(&["up", "--shard", "auto", "--format", "json"]);
        command
            .env("JOB_COMPLETION_INDEX", index)
            .env("SKEIN_SHARDS", "3");
        let report = Run(command.output().unwrap()).expect(0).json();
        let names = statuses_of(&report);
        assert!(
            names.contains_key("infra"),
            "every shard includes the database its models depend on"
        );
        for name in names.keys() {
            *seen.entry(name.clone()).or_default() += 1;
        }
    }
    assert_eq!(seen["infra"], 3);
    assert_eq!(seen.len(), 21);
    assert!(
        seen.iter()
            .filter(|(n, _)| *n != "infra")
            .all(|(_, c)| *c == 1),
        "each model in exactly one shard: {seen:?}"
    );
    let run = workspace.run(&["up", "--shard", "auto"]).expect(2);
    assert!(
        run.stderr().contains("JOB_COMPLETION_INDEX"),
        "{}",
        run.stderr()
    );
    workspace.run(&["up", "--shard", "3/3"]).expect(2);
}

/// Forwards `port` to the PostgreSQL server once `delay` has passed: until then the port
/// refuses connections, as a server that is still starting does.
fn late_proxy(delay: Duration) -> u16 {
    let port = skein_testkit::free_port();
    let target = TestDb::new("proxy_probe")
        .url
        .rsplit_once('@')
        .unwrap()
        .1
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        for client in listener.incoming().flatten() {
            let server = std::net::TcpStream::connect(&target).unwrap();
            for (mut from, mut to) in [
                (client.try_clone().unwrap(), server.try_clone().unwrap()),
                (server, client),
            ] {
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = to.shutdown(std::net::Shutdown::Both);
                });
            }
        }
    });
    port
}

#[test]
fn passing_connection_failures_are_retried_and_others_fail_at_once() {
    let db = TestDb::new("retry");
    let port = late_proxy(Duration::from_millis(1500));
    let url = format!("postgres://postgres@127.0.0.1:{port}/{}", db.name);
    let workspace = Workspace::postgres(&url, &[("1_a.up.sql", "CREATE TABLE a (id INT);\n")]);
    let started = Instant::now();
    workspace.run(&["up", "--connect-timeout", "20s"]).expect(0);
    assert!(
        started.elapsed() >= Duration::from_millis(1400),
        "it waited for the server"
    );
    assert_eq!(
        db.value("SELECT to_regclass('a')::text").as_deref(),
        Some("a")
    );

    // Refused for longer than --connect-timeout: a failure that says so.
    let never = skein_testkit::free_port();
    let workspace = Workspace::postgres(
        &format!("postgres://postgres@127.0.0.1:{never}/x"),
        &[("1_a.up.sql", "SELECT 1;\n")],
    );
    let started = Instant::now();
    let run = workspace.run(&["up", "--connect-timeout", "1s"]).expect(1);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(run.stderr().contains("cannot connect"), "{}", run.stderr());

    // A database that does not exist is not a passing failure: no retrying.
    let missing = format!("{}_missing", db.name);
    let workspace = Workspace::postgres(
        &db.url.replace(&db.name, &missing),
        &[("1_a.up.sql", "SELECT 1;\n")],
    );
    let started = Instant::now();
    let run = workspace.run(&["up", "--connect-timeout", "30s"]).expect(1);
    assert!(started.elapsed() < Duration::from_secs(3), "failed at once");
    assert!(run.stderr().contains("does not exist"), "{}", run.stderr());
}

#[test]
fn drift_groups_divergent_databases_and_names_each_difference() {
    let fleet = pg_fleet(5);
    // One enum type in the model, so an extra value can drift.
    for model in &fleet.models {
        fleet.workspace.write(
            &format!("models/{}/4_status.up.sql", model.name),
            "CREATE TYPE trade_status AS ENUM ('open', 'closed');\nALTER TABLE trades ADD COLUMN status trade_status NOT NULL DEFAULT 'open';\n",
        );
    }
    fleet.workspace.run(&["up", "-q"]).expect(0);
    let scratch_before = scratch_databases(&fleet.infra);
    let clean = fleet
        .workspace
        .run(&["drift", "--group", "models"])
        .expect(0)
        .stdout();
    assert!(
        clean.contains("5 databases match their migrations at 4"),
        "{clean}"
    );

    let [
        missing_column,
        extra_table,
        missing_index,
        extra_value,
        intact,
    ] = &fleet.models[..]
    else {
        unreachable!()
    };
    missing_column.exec("ALTER TABLE trades DROP COLUMN amount");
    extra_table.exec("CREATE TABLE scratch_notes (id INT)");
    missing_index.exec("DROP INDEX positions_trade");
    extra_value.exec("ALTER TYPE trade_status ADD VALUE 'liquidated'");

    let run = fleet
        .workspace
        .run(&["drift", "--group", "models"])
        .expect(3);
    let out = run.stdout();
    let matching = out
        .lines()
        .find(|l| l.starts_with("1 database matches its migrations at 4"))
        .unwrap_or_default();
    assert!(matching.ends_with(&intact.name), "{out}");
    assert!(
        out.contains("column public.trades.amount is missing (existing rows get 0)"),
        "{out}"
    );
    assert!(
        out.contains("ALTER TABLE public.trades ADD COLUMN amount numeric DEFAULT 0 NOT NULL;"),
        "{out}"
    );
    assert!(
        out.contains("table public.scratch_notes is not in the migrations"),
        "{out}"
    );
    assert!(out.contains("DROP TABLE public.scratch_notes;"), "{out}");
    assert!(
        out.contains("index positions_trade on public.positions is missing"),
        "{out}"
    );
    assert!(
        out.contains("CREATE INDEX positions_trade ON public.positions USING btree (trade_id);"),
        "{out}"
    );
    assert!(
        out.contains("enum type public.trade_status has the value 'liquidated'"),
        "{out}"
    );

    let report = fleet
        .workspace
        .run(&["drift", "--group", "models", "--format", "json"])
        .expect(3)
        .json();
    let by_name: BTreeMap<String, serde_json::Value> = report["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["name"].as_str().unwrap().to_owned(), d.clone()))
        .collect();
    assert_eq!(by_name[&intact.name]["status"], "up_to_date");
    for drifted in [missing_column, extra_table, missing_index, extra_value] {
        let db = &by_name[&drifted.name];
        assert_eq!(db["status"], "drifted", "{}", drifted.name);
        assert_eq!(
            db["drift"]["differences"].as_array().unwrap().len(),
            1,
            "{db}"
        );
        assert_ne!(
            db["drift"]["fingerprint"],
            db["drift"]["expected_fingerprint"]
        );
    }
    let intact_drift = &by_name[&intact.name]["drift"];
    assert_eq!(
        intact_drift["fingerprint"],
        intact_drift["expected_fingerprint"]
    );
    // No scratch database is left behind. Other tests replay on this server at the same
    // time, so only the ones that appeared while these drifts ran are watched: another
    // test's go away when its replay ends, a leftover of these stays.
    let appeared: Vec<String> = scratch_databases(&fleet.infra)
        .into_iter()
        .filter(|name| !scratch_before.contains(name))
        .collect();
    skein_testkit::wait_until(
        "no scratch database of these drifts left",
        std::time::Duration::from_secs(120),
        || {
            let now = scratch_databases(&fleet.infra);
            appeared.iter().all(|name| !now.contains(name))
        },
    );
}

/// The scratch databases on `db`'s server now.
fn scratch_databases(db: &TestDb) -> Vec<String> {
    db.value(
        "SELECT coalesce(string_agg(datname::text, ' '), '') FROM pg_database \
         WHERE datname LIKE 'skein_scratch_%'",
    )
    .unwrap_or_default()
    .split_whitespace()
    .map(str::to_owned)
    .collect()
}

#[test]
fn a_second_ctrl_c_during_a_replay_still_drops_the_scratch_database() {
    let db = TestDb::new("scratch_sigint");
    let workspace = Workspace::postgres(
        &db.url,
        &[(
            "1_slow.up.sql",
            "CREATE TABLE slow (id INT);\nSELECT pg_sleep(5);\n",
        )],
    );
    workspace.run(&["up", "-q"]).expect(0);
    let child = workspace
        .command(&["drift"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The scratch database this replay runs in (only this test replays pg_sleep(5)).
    let scratch = replaying_in(&db, "query LIKE '%pg_sleep(5)%'");
    let pid = child.id().to_string();
    for _ in 0..2 {
        assert!(
            std::process::Command::new("kill")
                .args(["-INT", &pid])
                .status()
                .unwrap()
                .success()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let run = Run(child.wait_with_output().unwrap());
    assert_eq!(run.code(), 130, "{}", run.stderr());
    assert!(run.stderr().contains("stopping now"), "{}", run.stderr());
    let left = db.value(&format!(
        "SELECT count(*)::text FROM pg_database WHERE datname = '{scratch}'"
    ));
    assert_eq!(left.as_deref(), Some("0"), "{scratch} was dropped");
}

/// The scratch database a replay whose session matches `filter` (SQL on
/// pg_stat_activity) runs in, once it has started (within 30 s).
fn replaying_in(db: &TestDb, filter: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = db.value(&format!(
            "SELECT datname::text FROM pg_stat_activity \
             WHERE datname LIKE 'skein_scratch_%' AND {filter} LIMIT 1"
        ));
        if let Some(name) = found {
            return name;
        }
        assert!(Instant::now() < deadline, "the replay never started");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The value after `key:` on the first line of `text` that starts with it (indentation
/// and a trailing comment aside).
fn manifest_field<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .map(str::trim)
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("the manifest has no `{key}:`"))
        .split(" #")
        .next()
        .unwrap()
        .trim()
}

/// What the pods of deploy/kubernetes/migrate-job.yaml run.
struct Job {
    pods: usize,
    args: Vec<String>,
    /// Each `env` entry of the container: name and value.
    env: Vec<(String, String)>,
}

impl Job {
    fn read() -> Self {
        let manifest_path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/kubernetes/migrate-job.yaml"
        );
        let manifest = std::fs::read_to_string(manifest_path).unwrap();
        let pods: usize = manifest_field(&manifest, "completions").parse().unwrap();
        let parallelism: usize = manifest_field(&manifest, "parallelism").parse().unwrap();
        assert_eq!(
            manifest_field(&manifest, "completionMode"),
            "Indexed",
            "pods get JOB_COMPLETION_INDEX only in an Indexed Job"
        );
        assert_eq!(parallelism, pods, "every pod runs at once");
        let args: Vec<String> = serde_json::from_str(manifest_field(&manifest, "args")).unwrap();
        assert!(
            args.windows(2).any(|w| w == ["--shard", "auto"]),
            "{args:?}"
        );
        let env_at = manifest.find("env:").expect("the container sets env");
        let mut env = Vec::new();
        let mut rest = &manifest[env_at..];
        while let Some(at) = rest.find("- name: ") {
            let block = &rest[at..];
            let line_end = block.find('\n').unwrap_or(block.len());
            let name = block["- name: ".len()..line_end].trim().to_owned();
            if !name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                break; // past the env list
            }
            let value = manifest_field(block, "value").trim_matches('"').to_owned();
            env.push((name, value));
            rest = &block[line_end..];
        }
        let job = Job { pods, args, env };
        assert_eq!(
            job.env("SKEIN_SHARDS"),
            pods.to_string(),
            "one shard per pod"
        );
        job
    }

    fn env(&self, name: &str) -> &str {
        self.env
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("the manifest sets no {name}"))
    }
}

#[test]
fn the_kubernetes_example_splits_a_fleet_across_its_pods() {
    let job = Job::read();
    let (pods, args) = (job.pods, &job.args);
    let shards = job.env("SKEIN_SHARDS").to_owned();
    let profile = job.env("SKEIN_PROFILE").to_owned();

    // A fleet whose profile is the manifest's, every pod started at once.
    let fleet = pg_fleet(16);
    let base = fleet.infra.url.rsplit_once('/').unwrap().0;
    let config = std::fs::read_to_string(fleet.workspace.path().join("skein.toml")).unwrap();
    fleet.workspace.write(
        "skein.toml",
        &format!(
            "{config}\n[{profile}.databases.infra]\nurl = \"{}\"\n\n[{profile}.models]\nurl = \"{base}/{{model}}\"\n",
            fleet.infra.url
        ),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let running: Vec<_> = (0..pods)
        .map(|index| {
            let mut command = fleet.workspace.command(&args);
            command
                .env("JOB_COMPLETION_INDEX", index.to_string())
                .env("SKEIN_SHARDS", &shards)
                .env("SKEIN_PROFILE", &profile)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            command.spawn().unwrap()
        })
        .collect();
    let mut applied: BTreeMap<String, usize> = BTreeMap::new();
    let mut ran: BTreeMap<String, usize> = BTreeMap::new();
    for pod in running {
        let report = Run(pod.wait_with_output().unwrap()).expect(0).json();
        assert_eq!(report["profile"], profile.as_str());
        let names = statuses_of(&report);
        assert!(
            names.is_empty() || names.contains_key("infra"),
            "a pod with models also runs what they depend on: {names:?}"
        );
        for db in report["databases"].as_array().unwrap() {
            let name = db["name"].as_str().unwrap().to_owned();
            *ran.entry(name.clone()).or_default() += 1;
            *applied.entry(name).or_default() += db["steps"].as_array().map_or(0, Vec::len);
        }
    }
    assert_eq!(
        applied["infra"], 1,
        "and infra is migrated once between them"
    );
    for model in &fleet.models {
        assert_eq!(ran[&model.name], 1, "{} is in exactly one pod", model.name);
        assert_eq!(applied[&model.name], 3, "{}", model.name);
        assert_eq!(
            model.value("SELECT count(*)::text FROM trades").as_deref(),
            Some("100")
        );
    }
    assert_eq!(ran.len(), 17, "infra and the 16 models: {ran:?}");
}

#[test]
fn the_kubernetes_job_migrates_the_example_with_its_prod_profile() {
    // The repository's example workspace and Job, as shipped: each pod's arguments and
    // environment, the example's `prod` profile, its password from Secrets Manager (moto).
    // Only the server is local: a password-checking PostgreSQL, reached through
    // INDEXER_DB_HOST.
    let _only = crate::example::PROD_DATABASES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let job = Job::read();
    let workspace = crate::example::example();
    let server = skein_testkit::password_server();
    let admin = TestDb::on(server, "k8s_admin");
    let user = job.env("INDEXER_DB_USER").to_owned();
    let password = skein_testkit::SCRAM_PASSWORD;
    admin.exec(&format!(
        "DO $$ BEGIN CREATE ROLE {user} LOGIN PASSWORD '{password}'; \
         EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    ));
    let models = workspace
        .run(&["model", "list", "--format", "json"])
        .expect(0)
        .json();
    let mut names = vec!["indexer_shared".to_owned()];
    names.extend(
        models["databases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap().to_owned()),
    );
    for name in &names {
        admin.exec(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        admin.exec(&format!("CREATE DATABASE {name} OWNER {user}"));
    }
    let moto = skein_testkit::moto();
    moto.put_secret(
        "indexer/prod/db",
        &serde_json::json!({ "username": user, "password": password }).to_string(),
    );

    let args: Vec<&str> = job.args.iter().map(String::as_str).collect();
    let running: Vec<_> = (0..job.pods)
        .map(|index| {
            let mut command = workspace.command(&args);
            for (name, value) in &job.env {
                command.env(name, value);
            }
            command
                .env("INDEXER_DB_HOST", server.authority())
                .env("JOB_COMPLETION_INDEX", index.to_string())
                .envs(moto.env())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            command.spawn().unwrap()
        })
        .collect();
    let mut migrated: BTreeMap<String, usize> = BTreeMap::new();
    for (index, pod) in running.into_iter().enumerate() {
        let run = Run(pod.wait_with_output().unwrap());
        assert_eq!(
            run.code(),
            0,
            "pod {index}: {}\n{}",
            run.stdout(),
            run.stderr()
        );
        assert!(
            !run.stderr().contains(password),
            "the password is never printed"
        );
        let report = run.json();
        assert_eq!(report["profile"], "prod");
        for db in report["databases"].as_array().unwrap() {
            assert!(
                matches!(db["status"].as_str(), Some("ok" | "up_to_date")),
                "pod {index}: {db}"
            );
            *migrated
                .entry(db["name"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
    }
    let expected: Vec<String> = ["infra".to_owned()]
        .into_iter()
        .chain(names[1..].iter().cloned())
        .collect();
    let mut ran: Vec<String> = migrated.keys().cloned().collect();
    ran.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(ran, expected_sorted, "every database is in some pod");
    // Every database is at head now, read with the same profile.
    let status = workspace
        .command(&["status", "--check", "--format", "json"])
        .env("SKEIN_PROFILE", "prod")
        .env("INDEXER_DB_USER", &user)
        .env("INDEXER_DB_HOST", server.authority())
        .envs(moto.env())
        .output()
        .unwrap();
    let status = Run(status).expect(0).json();
    assert_eq!(
        status["databases"].as_array().unwrap().len(),
        expected.len()
    );
    for name in &names {
        admin.exec(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
}

/// SQLite model databases `m1`..`m{n}`, each with one migration; those in `failing` fail.
fn sqlite_models(n: usize, failing: &[usize]) -> Workspace {
    let config = "[default]\nconcurrency = 1\n\n[default.models]\ndir = \"models\"\nurl = \"sqlite://data/{model}.db\"\n";
    let files: Vec<(String, &str)> = (1..=n)
        .map(|i| {
            let sql = if failing.contains(&i) {
                "SELECT * FROM nowhere;\n"
            } else {
                "CREATE TABLE t (id INT);\n"
            };
            (format!("models/m{i}/1_t.up.sql"), sql)
        })
        .collect();
    let files: Vec<(&str, &str)> = files.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    Workspace::new(config, &files)
}

#[test]
fn canaries_go_first_and_a_failed_canary_stops_the_rollout() {
    // m2 fails: with --canary 2 (m1 and m2, naturally sorted), nothing else starts.
    let workspace = sqlite_models(12, &[2]);
    let report = workspace
        .run(&[
            "up",
            "--canary",
            "2",
            "--concurrency",
            "4",
            "--format",
            "json",
        ])
        .expect(1)
        .json();
    let statuses = statuses_of(&report);
    assert_eq!(statuses["m1"], "ok");
    assert_eq!(statuses["m2"], "failed");
    assert_eq!(count(&statuses, "skipped"), 10, "{statuses:?}");
    let m10 = report["databases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "m10")
        .unwrap();
    assert_eq!(m10["error"]["message"], "not started: canary `m2` failed");
    // Fixed, the canaries pass and the rest follow.
    workspace.write("models/m2/1_t.up.sql", "CREATE TABLE t (id INT);\n");
    let report = workspace
        .run(&[
            "up",
            "--canary-db",
            "m7",
            "--canary",
            "1",
            "--format",
            "json",
        ])
        .expect(0)
        .json();
    assert_eq!(count(&statuses_of(&report), "ok"), 11, "{report}");
    // A canary must be a selected model database.
    let run = workspace.run(&["up", "--canary-db", "nope"]).expect(2);
    assert!(
        run.stderr().contains("--canary-db nope"),
        "{}",
        run.stderr()
    );
}

#[test]
fn max_failures_stops_starting_databases_after_k_failures() {
    let workspace = sqlite_models(8, &[2, 4, 6]);
    let report = workspace
        .run(&["up", "--max-failures", "2", "--format", "json"])
        .expect(1)
        .json();
    let statuses = statuses_of(&report);
    assert_eq!(count(&statuses, "failed"), 2, "{statuses:?}");
    assert_eq!(count(&statuses, "ok"), 2, "{statuses:?}");
    assert_eq!(statuses["m8"], "skipped");
    let last = report["databases"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last["error"]["message"],
        "not started: --max-failures 2 reached"
    );
}

#[test]
fn max_per_host_caps_the_sessions_on_one_server_whatever_the_concurrency() {
    let fleet = pg_fleet(8);
    for model in &fleet.models {
        fleet.workspace.write(
            &format!("models/{}/4_slow.up.sql", model.name),
            "SELECT pg_sleep(0.4);\n",
        );
    }
    let config = std::fs::read_to_string(fleet.workspace.path().join("skein.toml")).unwrap();
    fleet.workspace.write(
        "skein.toml",
        &config.replacen("[default]\n", "[default]\nmax_per_host = 2\n", 1),
    );
    let names: Vec<String> = std::iter::once(&fleet.infra)
        .chain(&fleet.models)
        .map(|db| format!("'{}'", db.name))
        .collect();
    let sessions = format!(
        "SELECT count(*)::text FROM pg_stat_activity WHERE datname IN ({})",
        names.join(", ")
    );
    let mut child = fleet
        .workspace
        .command(&["up", "--concurrency", "8", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut most = 0;
    let mut samples = 0;
    while child.try_wait().unwrap().is_none() {
        let now: usize = fleet.infra.value(&sessions).unwrap().parse().unwrap();
        // The sampling session itself is in infra's database.
        most = most.max(now.saturating_sub(1));
        samples += 1;
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(child.wait().unwrap().success());
    assert!(samples > 5, "{samples} samples");
    assert!(most <= 2, "{most} skein sessions on one server at once");
    assert!(most == 2, "the limit is used: {most}");
}

#[test]
fn drift_lists_a_screenful_of_names_in_natural_order_and_every_name_with_v() {
    let workspace = sqlite_models(30, &[]);
    workspace.run(&["up"]).expect(0);
    let out = workspace.run(&["drift"]).expect(0).stdout();
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(
        out.contains("expected schemas: 1 replayed for 30 databases"),
        "{out}"
    );
    assert!(
        out.contains("30 databases match their migrations at 1"),
        "{out}"
    );
    assert!(out.contains(": m1, m2, m3, "), "{out}");
    assert!(
        out.contains("m20, ... and 10 more (-v lists them all)"),
        "{out}"
    );
    let every = workspace.run(&["drift", "-v"]).expect(0).stdout();
    assert!(
        every.contains("m29, m30\n") || every.trim_end().ends_with("m29, m30"),
        "{every}"
    );
    // JSON stays complete.
    let report = workspace
        .run(&["drift", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(report["databases"].as_array().unwrap().len(), 30);
}

#[test]
fn a_scratch_database_is_dropped_even_when_the_server_refuses_connections_for_a_while() {
    let db = TestDb::new("scratch_refused");
    // A role of its own, not a superuser, so that its connection limit counts.
    let role = format!("{}_role", db.name);
    let admin = &skein_testkit::postgres().admin_url;
    skein_testkit::exec(admin, &format!("CREATE ROLE \"{role}\" LOGIN CREATEDB"));
    skein_testkit::exec(
        admin,
        &format!("ALTER DATABASE \"{}\" OWNER TO \"{role}\"", db.name),
    );
    let url = db
        .url
        .replacen("postgres://postgres@", &format!("postgres://{role}@"), 1);
    let workspace = Workspace::postgres(
        &url,
        &[(
            "1_slow.up.sql",
            "CREATE TABLE slow (id INT);\nSELECT pg_sleep(2);\n",
        )],
    );
    workspace.run(&["up", "-q"]).expect(0);
    let child = workspace
        .command(&["drift"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let scratch = replaying_in(
        &db,
        &format!("usename = '{role}' AND query LIKE '%pg_sleep(2)%'"),
    );
    // While the replay sleeps, the role may open no new connection (53300): the drop
    // after it is refused until the limit is lifted again.
    skein_testkit::exec(admin, &format!("ALTER ROLE \"{role}\" CONNECTION LIMIT 0"));
    std::thread::sleep(Duration::from_secs(4));
    skein_testkit::exec(admin, &format!("ALTER ROLE \"{role}\" CONNECTION LIMIT -1"));
    let run = Run(child.wait_with_output().unwrap());
    let left = db.value(&format!(
        "SELECT count(*)::text FROM pg_database WHERE datname = '{scratch}'"
    ));
    skein_testkit::exec(admin, &format!("DROP DATABASE IF EXISTS \"{scratch}\""));
    skein_testkit::exec(
        admin,
        &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", db.name),
    );
    skein_testkit::exec(admin, &format!("DROP ROLE IF EXISTS \"{role}\""));
    assert_eq!(
        left.as_deref(),
        Some("0"),
        "{scratch} was left: {}",
        run.stderr()
    );
    assert_eq!(run.code(), 0, "{}", run.stderr());
}
