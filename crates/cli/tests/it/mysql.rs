//! The `skein` binary on MariaDB: a fleet of one infra and three model databases created,
//! migrated, reported and reverted; kill -9 in the middle of a migration; eight processes
//! at once.

use crate::support::*;
use skein_testkit::{MyTestDb, my_exec, mysql};
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn a_mariadb_fleet_is_created_migrated_reported_and_reverted() {
    let infra = MyTestDb::new("my_infra");
    let models: Vec<MyTestDb> = (0..3).map(|_| MyTestDb::new("my_m")).collect();
    // `db create` is to make the model databases: they are dropped again (and dropped
    // for good when the test ends).
    for model in &models {
        my_exec(mysql(), &format!("DROP DATABASE `{}`", model.name));
    }
    let base = infra.url.rsplit_once('/').unwrap().0;
    let config = format!(
        "[default]\nconcurrency = 2\n\n[default.databases.infra]\nmigrations = \"infra\"\nurl = \"{}\"\n\n\
         [default.models]\ndir = \"models\"\nurl = \"{base}/{{model}}\"\ndepends_on = [\"infra\"]\n",
        infra.url
    );
    let mut files = vec![(
        "infra/1_models.up.sql".to_owned(),
        "CREATE TABLE models (name VARCHAR(64) PRIMARY KEY);\n".to_owned(),
    )];
    for model in &models {
        for (name, sql) in [
            (
                "1_trades.up.sql",
                "CREATE TABLE trades (id BIGINT PRIMARY KEY, amount DECIMAL(20, 6) NOT NULL);\n",
            ),
            ("1_trades.down.sql", "DROP TABLE trades;\n"),
            (
                "2_seed.up.sql",
                "INSERT INTO trades VALUES (1, 1.5);\nINSERT INTO trades VALUES (2, 2.5);\n",
            ),
            ("2_seed.down.sql", "DELETE FROM trades;\n"),
        ] {
            files.push((format!("models/{}/{name}", model.name), sql.to_owned()));
        }
    }
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_str()))
        .collect();
    let workspace = Workspace::new(&config, &files);

    let created = workspace.run(&["db", "create"]).expect(0);
    for model in &models {
        assert!(
            created.stdout().contains(&model.name),
            "{}",
            created.stdout()
        );
        assert_eq!(
            model
                .value(
                    "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()"
                )
                .as_deref(),
            Some("0"),
            "{} exists and is empty",
            model.name
        );
    }

    let report = workspace.run(&["up", "--format", "json"]).expect(0).json();
    let first = statuses_of(&report);
    assert_eq!(first.len(), 4);
    assert!(first.values().all(|s| s == "ok"), "{first:?}");
    for model in &models {
        assert_eq!(
            model
                .value("SELECT CAST(SUM(amount) AS CHAR) FROM trades")
                .as_deref(),
            Some("4.000000")
        );
    }
    let again = workspace.run(&["up", "--format", "json"]).expect(0).json();
    assert!(statuses_of(&again).values().all(|s| s == "up_to_date"));
    workspace.run(&["status", "--check"]).expect(0);

    let target = &models[0];
    let down = workspace
        .run(&["down", "--db", &target.name, "--steps", "1"])
        .expect(0);
    assert!(down.stdout().contains(&target.name), "{}", down.stdout());
    assert_eq!(
        target.value("SELECT COUNT(*) FROM trades").as_deref(),
        Some("0")
    );
    workspace.run(&["status", "--check"]).expect(3);

    // The script for what is pending: the data file in one transaction, MySQL quoting.
    let script = workspace
        .run(&["up", "--db", &target.name, "--sql"])
        .expect(0)
        .stdout();
    assert!(
        script.contains("BEGIN;\nINSERT INTO trades VALUES (1, 1.5);")
            && script.contains("INSERT INTO `skein_history`"),
        "{script}"
    );
    assert_eq!(
        target.value("SELECT COUNT(*) FROM trades").as_deref(),
        Some("0"),
        "--sql prints and runs nothing"
    );

    // Schema: inspect, drift and check read MySQL; commands that would write MySQL DDL
    // say that they cannot yet.
    let inspect = workspace
        .run(&["inspect", "--db", "infra", "--format", "json"])
        .expect(0)
        .json();
    assert!(inspect.to_string().contains("models"), "{inspect}");
    workspace.run(&["up", "-q"]).expect(0);
    let clean = workspace
        .run(&["drift", "--group", "models"])
        .expect(0)
        .stdout();
    assert!(
        clean.contains("3 databases match their migrations at 2"),
        "{clean}"
    );
    models[1].exec("CREATE TABLE stray_notes (id INT)");
    models[2].exec("ALTER TABLE trades MODIFY amount DECIMAL(30, 6) NOT NULL");
    let drifted = workspace
        .run(&["drift", "--group", "models"])
        .expect(3)
        .stdout();
    assert!(
        drifted.contains("1 database matches its migrations at 2")
            && drifted.contains("stray_notes")
            && drifted.contains("amount"),
        "{drifted}"
    );
    workspace.write(
        "skein.toml",
        &format!("{config}[default.models.expect]\nforbidden_tables = [\"stray_notes\"]\n"),
    );
    let check = workspace.run(&["check", "--group", "models"]).expect(3);
    assert!(
        check.stdout().contains(&models[1].name) && check.stdout().contains("stray_notes"),
        "{}",
        check.stdout()
    );
    // skein writes MySQL DDL: the stray table's drop is planned, and the schema dumps.
    let plan = workspace
        .run(&["converge", "--db", &models[1].name])
        .expect(0)
        .stdout();
    assert!(plan.contains("DROP TABLE `stray_notes`"), "{plan}");
    let dump = workspace
        .run(&["inspect", "--db", "infra", "--format", "sql"])
        .expect(0)
        .stdout();
    assert!(dump.contains("CREATE TABLE `models`"), "{dump}");
}

/// Waits until a statement containing `text` runs in `db` (MySQL's process list).
fn wait_for_statement(db: &MyTestDb, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let sql = format!(
        "SELECT COUNT(*) FROM information_schema.processlist WHERE db = '{}' AND info LIKE '%{text}%' AND id <> CONNECTION_ID()",
        db.name
    );
    while db.value(&sql).as_deref() != Some("1") {
        assert!(Instant::now() < deadline, "`{text}` never started");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn kill_9_mid_migration_leaves_an_honest_history() {
    let db = MyTestDb::new("my_kill");
    let config = format!(
        "[default.databases.app]\nmigrations = \"m\"\nurl = \"{}\"\n",
        db.url
    );
    let workspace = Workspace::new(
        &config,
        &[
            ("m/1_first.up.sql", "CREATE TABLE first (id INT);\n"),
            (
                "m/2_rows.up.sql",
                "INSERT INTO first VALUES (1);\nSELECT SLEEP(2);\nINSERT INTO first VALUES (2);\n",
            ),
        ],
    );
    let kill_during = |text: &str| {
        let mut child = workspace
            .command(&["up", "-q"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_statement(&db, text);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    };

    // A data file is one transaction: killed in the middle, nothing of it stays.
    kill_during("SLEEP(2)");
    let history =
        "SELECT GROUP_CONCAT(CONCAT(version, ':', success) ORDER BY version) FROM skein_history";
    assert_eq!(db.value(history).as_deref(), Some("1:1"));
    assert_eq!(db.value("SELECT COUNT(*) FROM first").as_deref(), Some("0"));
    // The lock went with the session: the next `up` gets it and applies the file.
    workspace.run(&["up", "-q"]).expect(0);
    assert_eq!(db.value(history).as_deref(), Some("1:1,2:1"));
    assert_eq!(db.value("SELECT COUNT(*) FROM first").as_deref(), Some("2"));

    // A DDL file cannot be rolled back: killed in the middle, its row says unfinished
    // and `up` stops until it is repaired.
    workspace.write(
        "m/3_tables.up.sql",
        "CREATE TABLE long_one (id INT);\nSELECT SLEEP(2);\nCREATE TABLE long_two (id INT);\n",
    );
    kill_during("SLEEP(2)");
    assert_eq!(db.value(history).as_deref(), Some("1:1,2:1,3:0"));
    let blocked = workspace.run(&["up"]).expect(1);
    assert!(
        blocked.stderr().contains("3_tables.up.sql") && blocked.stderr().contains("skein repair"),
        "{}",
        blocked.stderr()
    );
    let tables = format!(
        "SELECT GROUP_CONCAT(table_name ORDER BY table_name) FROM information_schema.tables WHERE table_schema = '{}' AND table_name LIKE 'long%'",
        db.name
    );
    assert_eq!(db.value(&tables).as_deref(), Some("long_one"));
    db.exec("DROP TABLE long_one");
    workspace.run(&["repair", "--db", "app"]).expect(0);
    workspace.run(&["up", "-q"]).expect(0);
    assert_eq!(db.value(history).as_deref(), Some("1:1,2:1,3:1"));
    assert_eq!(db.value(&tables).as_deref(), Some("long_one,long_two"));
}

#[test]
fn eight_processes_at_once_apply_each_migration_exactly_once() {
    let db = MyTestDb::new("my_eight");
    let config = format!(
        "[default.databases.app]\nmigrations = \"m\"\nurl = \"{}\"\n",
        db.url
    );
    let files: Vec<(String, String)> = (1..=30)
        .map(|i| {
            (
                format!("m/{i}_t{i}.up.sql"),
                format!("CREATE TABLE t{i} (id INT);\nINSERT INTO t{i} VALUES ({i});\n"),
            )
        })
        .collect();
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_str()))
        .collect();
    let workspace = Workspace::new(&config, &files);
    let children: Vec<_> = (0..8)
        .map(|_| {
            workspace
                .command(&["up", "--format", "json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut applied = 0;
    for child in children {
        let report = Run(child.wait_with_output().unwrap()).expect(0).json();
        applied += report["databases"][0]["steps"]
            .as_array()
            .map_or(0, Vec::len);
    }
    assert_eq!(applied, 30, "each migration applied by exactly one process");
    assert_eq!(
        db.value("SELECT COUNT(*) FROM skein_history WHERE success")
            .as_deref(),
        Some("30")
    );
    assert_eq!(db.value("SELECT COUNT(*) FROM t30").as_deref(), Some("1"));
}

/// Five MariaDB databases of one model, four made divergent by hand: `drift` names each
/// difference, and `converge --apply` brings them back, statement by statement, with no
/// row lost.
#[test]
fn mariadb_databases_made_divergent_are_named_by_drift_and_converged() {
    let dbs: Vec<MyTestDb> = (0..5).map(|_| MyTestDb::new("my_converge")).collect();
    let mut config = String::new();
    for (i, db) in dbs.iter().enumerate() {
        config.push_str(&format!(
            "[default.databases.m{i}]\nmigrations = \"m\"\nurl = \"{}\"\ngroups = [\"miners\"]\n\n",
            db.url
        ));
    }
    let workspace = Workspace::new(
        &config,
        &[(
            "m/1_trades.up.sql",
            "CREATE TABLE trades (id BIGINT PRIMARY KEY, market VARCHAR(20) NOT NULL, \
             side ENUM('buy', 'sell') NOT NULL, amount DECIMAL(20, 6) NOT NULL, note VARCHAR(40));\n\
             CREATE INDEX trades_market ON trades (market);\n\
             INSERT INTO trades VALUES (1, 'a', 'buy', 1.5, 'x'), (2, 'b', 'sell', 2.5, NULL);\n",
        )],
    );
    workspace.run(&["up", "-q"]).expect(0);
    dbs[0].exec("ALTER TABLE trades DROP COLUMN note");
    dbs[1].exec("CREATE TABLE scratch (id INT)");
    dbs[2].exec("DROP INDEX trades_market ON trades");
    dbs[3].exec("ALTER TABLE trades MODIFY side ENUM('buy', 'sell', 'hold') NOT NULL");

    let drift = workspace.run(&["drift"]).expect(3).stdout();
    for said in [
        "column trades.note is missing",
        "table scratch is not in the migrations",
        "index trades_market on trades is missing",
        "column trades.side is enum('buy','sell','hold') but the migrations make it enum('buy','sell')",
        "1 database matches its migrations",
    ] {
        assert!(drift.contains(said), "{said}:\n{drift}");
    }
    let rows = |db: &MyTestDb| {
        db.value(
            "SELECT GROUP_CONCAT(id, ':', market, ':', side, ':', amount ORDER BY id) FROM trades",
        )
    };
    let before: Vec<_> = dbs.iter().map(rows).collect();
    let plan = workspace.run(&["converge"]).expect(0).stdout();
    assert!(
        plan.contains("ALTER TABLE `trades` ADD COLUMN `note` varchar(40)")
            && plan.contains("MySQL commits DDL as it runs"),
        "{plan}"
    );
    let applied = workspace
        .run(&[
            "converge",
            "--group",
            "miners",
            "--apply",
            "--allow-destructive",
            "--format",
            "json",
        ])
        .expect(0)
        .json();
    let statuses = statuses_of(&applied);
    for (i, status) in ["ok", "ok", "ok", "ok", "up_to_date"].iter().enumerate() {
        assert_eq!(statuses[&format!("m{i}")], *status, "{applied:#}");
    }
    workspace.run(&["drift"]).expect(0);
    let after: Vec<_> = dbs.iter().map(rows).collect();
    assert_eq!(after, before, "no row lost");

    // The schema dumps as MySQL DDL, which replayed gives the same schema.
    let dump = workspace
        .run(&["inspect", "--db", "m4", "--format", "sql"])
        .expect(0)
        .stdout();
    let copy = MyTestDb::new("my_dump");
    let replay = Workspace::new(
        &format!(
            "[default.databases.copy]\nmigrations = \"m\"\nurl = \"{}\"\n",
            copy.url
        ),
        &[("m/1_dump.up.sql", &dump)],
    );
    replay.run(&["up", "-q"]).expect(0);
    assert_eq!(
        fingerprint(&replay, "copy"),
        fingerprint(&workspace, "m4"),
        "{dump}"
    );
}

/// `new --from-schema` on MariaDB writes MySQL DDL, which applied gives the declared schema.
#[test]
fn new_from_schema_writes_mysql_ddl_on_mariadb() {
    let db = MyTestDb::new("my_autogen");
    let workspace = Workspace::new(
        &format!(
            "[default.databases.app]\nmigrations = \"m\"\nurl = \"{}\"\n",
            db.url
        ),
        &[(
            "m/1_t.up.sql",
            "CREATE TABLE t (id BIGINT PRIMARY KEY, note VARCHAR(20));\nINSERT INTO t VALUES (1, 'a');\n",
        )],
    );
    workspace.write(
        "schema.sql",
        "CREATE TABLE t (id BIGINT PRIMARY KEY, note VARCHAR(80), side ENUM('buy', 'sell') NOT NULL DEFAULT 'buy');\n\
         CREATE INDEX t_note ON t (note);\n\
         CREATE TABLE u (id INT PRIMARY KEY, t_id BIGINT, FOREIGN KEY (t_id) REFERENCES t (id));\n",
    );
    workspace.run(&["up", "-q"]).expect(0);
    workspace
        .run(&[
            "new",
            "--db",
            "app",
            "--from-schema",
            "schema.sql",
            "--allow-destructive",
            "widen",
        ])
        .expect(0);
    let up = written(&workspace.path().join("m"), "_widen.up.sql");
    assert!(
        up.contains("ALTER TABLE `t` MODIFY COLUMN `note` varchar(80)")
            && up.contains("CREATE TABLE `u`"),
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
    assert_eq!(
        db.value("SELECT note FROM t WHERE id = 1").as_deref(),
        Some("a")
    );
}
