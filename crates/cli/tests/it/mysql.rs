//! The `skein` binary on MariaDB: creating, migrating, reporting and reverting a fleet of
//! one infra and three model databases.

use crate::support::*;
use skein_testkit::{MyTestDb, my_exec, mysql};

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

    // Schema commands say plainly that they do not cover MySQL yet.
    let inspect = workspace.run(&["inspect", "--db", "infra"]);
    assert_ne!(inspect.code(), 0);
    assert!(
        inspect.stderr().contains("not available for MySQL/MariaDB"),
        "{}",
        inspect.stderr()
    );
}
