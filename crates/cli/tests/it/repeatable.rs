//! Repeatable migrations (`<migrations>/repeatable/*.sql`) on each backend: applied after
//! the versioned ones, again only when their file changes, shown by `status`, `history`
//! and `--sql`, part of drift's expected schema, and rolled back as a migration is.

use crate::support::*;
use skein_testkit::{MyTestDb, TestDb};

/// Reads one value from a database.
type Reader = Box<dyn Fn(&str) -> Option<String>>;

/// One database of a backend, and a way to read one value from it.
struct Target {
    url: String,
    value: Reader,
    /// Keeps the server database until the test ends.
    _keep: Box<dyn std::any::Any>,
}

fn sqlite(dir: &std::path::Path) -> Target {
    let path = dir.join("app.db");
    Target {
        url: format!("sqlite://{}", path.display()),
        value: Box::new(move |sql| {
            let text = sqlite_text(&path, sql);
            (!text.is_empty()).then_some(text)
        }),
        _keep: Box::new(()),
    }
}

fn postgres_db() -> Target {
    let db = TestDb::new("repeatable");
    let url = db.url.clone();
    let db = std::sync::Arc::new(db);
    let reader = db.clone();
    Target {
        url,
        value: Box::new(move |sql| reader.value(sql)),
        _keep: Box::new(db),
    }
}

fn mysql_db() -> Target {
    let db = MyTestDb::new("repeatable");
    let url = db.url.clone();
    let db = std::sync::Arc::new(db);
    let reader = db.clone();
    Target {
        url,
        value: Box::new(move |sql| reader.value(sql)),
        _keep: Box::new(db),
    }
}

const VIEW: &str =
    "DROP VIEW IF EXISTS item_names;\nCREATE VIEW item_names AS SELECT id FROM items;\n";
const VIEW_WITH_NAME: &str =
    "DROP VIEW IF EXISTS item_names;\nCREATE VIEW item_names AS SELECT id, name FROM items;\n";
const SEED: &str = "-- The system row every environment has.\nDELETE FROM items WHERE id = 0;\nINSERT INTO items (id, name) VALUES (0, 'system');\n";

fn descriptions(report: &serde_json::Value) -> Vec<String> {
    report["databases"][0]["steps"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .map(|s| s["description"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn each_backend(run: impl Fn(&Workspace, &Target)) {
    let dir = tempfile::tempdir().unwrap();
    for target in [sqlite(dir.path()), postgres_db(), mysql_db()] {
        let config = format!(
            "[default.databases.app]\nmigrations = \"migrations\"\nurl = \"{}\"\n",
            target.url
        );
        let workspace = Workspace::new(
            &config,
            &[
                (
                    "migrations/1_items.sql",
                    "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL);\n",
                ),
                ("migrations/repeatable/seed.sql", SEED),
                ("migrations/repeatable/item_names.sql", VIEW),
            ],
        );
        run(&workspace, &target);
    }
}

#[test]
fn a_repeatable_migration_runs_after_the_versioned_ones_and_again_only_when_it_changes() {
    each_backend(|workspace, target| {
        let url = &target.url;
        let first = workspace.run(&["up", "--format", "json"]).expect(0).json();
        assert_eq!(
            descriptions(&first),
            ["items", "item_names", "seed"],
            "{url}: the versioned migration first, then the repeatable ones by name"
        );
        assert_eq!(first["databases"][0]["version_after"], 1, "{url}");
        assert_eq!(
            first["databases"][0]["steps"][1]["repeatable"], true,
            "{url}"
        );
        assert_eq!(
            (target.value)("SELECT name FROM item_names JOIN items USING (id) WHERE id = 0")
                .as_deref(),
            Some("system"),
            "{url}"
        );
        let history = workspace
            .run(&["history", "--format", "json"])
            .expect(0)
            .json();
        let kinds: Vec<&str> = history["databases"][0]["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["applied"]["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["migration", "repeatable", "repeatable"], "{url}");

        // Nothing changed: nothing runs, nothing is pending.
        let again = workspace.run(&["up", "--format", "json"]).expect(0).json();
        assert!(descriptions(&again).is_empty(), "{url}: {again}");
        workspace.run(&["status", "--check"]).expect(0);

        // An edit makes it pending first, shows in --sql, then runs once.
        workspace.write("migrations/repeatable/item_names.sql", VIEW_WITH_NAME);
        let status = workspace
            .run(&["status", "--check", "--format", "json"])
            .expect(3)
            .json();
        assert_eq!(status["databases"][0]["pending"], 1, "{url}: {status}");
        let sql = workspace.run(&["up", "--sql"]).expect(0).stdout();
        assert!(sql.contains("-- repeatable item_names"), "{url}: {sql}");
        assert!(sql.contains("SELECT id, name FROM items"), "{url}: {sql}");
        assert!(
            !sql.contains("'system'"),
            "{url}: the seed is unchanged: {sql}"
        );
        let edited = workspace.run(&["up", "--format", "json"]).expect(0).json();
        assert_eq!(descriptions(&edited), ["item_names"], "{url}");
        assert_eq!(
            (target.value)("SELECT name FROM item_names WHERE id = 0").as_deref(),
            Some("system"),
            "{url}"
        );
        let again = workspace.run(&["up", "--format", "json"]).expect(0).json();
        assert!(descriptions(&again).is_empty(), "{url}: {again}");

        // The live schema, view included, is what the files give.
        workspace.run(&["drift"]).expect(0);

        // A new versioned migration runs before the repeatable one written for it.
        workspace.write(
            "migrations/2_notes.sql",
            "ALTER TABLE items ADD COLUMN note VARCHAR(50);\n",
        );
        workspace.write(
            "migrations/repeatable/item_names.sql",
            "DROP VIEW IF EXISTS item_names;\nCREATE VIEW item_names AS SELECT id, name, note FROM items;\n",
        );
        let both = workspace.run(&["up", "--format", "json"]).expect(0).json();
        assert_eq!(descriptions(&both), ["notes", "item_names"], "{url}");
        assert_eq!(both["databases"][0]["version_after"], 2, "{url}");

        // A failing repeatable rolls back: the seed row and its history row stay.
        workspace.write(
            "migrations/repeatable/seed.sql",
            "DELETE FROM items WHERE id = 0;\nINSERT INTO no_such_table VALUES (1);\n",
        );
        let failed = workspace.run(&["up"]).expect(1);
        assert!(
            failed.stderr().contains("seed.sql:2"),
            "{url}: {}",
            failed.stderr()
        );
        assert_eq!(
            (target.value)("SELECT name FROM items WHERE id = 0").as_deref(),
            Some("system"),
            "{url}: the DELETE was rolled back"
        );
        let status = workspace
            .run(&["status", "--check", "--format", "json"])
            .expect(3)
            .json();
        assert_eq!(status["databases"][0]["pending"], 1, "{url}: {status}");
        assert!(
            status["databases"][0]["problems"]
                .as_array()
                .is_none_or(|p| p.is_empty()),
            "{url}: a rolled-back repeatable is pending, not failed: {status}"
        );

        // Back to the text that is applied: nothing is pending.
        workspace.write("migrations/repeatable/seed.sql", SEED);
        workspace.run(&["up"]).expect(0);
        workspace.run(&["drift"]).expect(0);
    });
}

/// A template's repeatable migration is rendered for each model and applied to every one;
/// `--sql` over the fleet shows it for each; an edit reaches every model once.
#[test]
fn a_template_repeatable_migration_reaches_every_model() {
    let workspace = Workspace::new(
        "[default.models]\ntemplate = \"templates/model\"\nurl = \"sqlite://{model}.db\"\nnames = [\"m1\", \"m2\", \"m3\"]\n",
        &[
            (
                "templates/model/1_trades.sql",
                "CREATE TABLE trades (id INTEGER PRIMARY KEY, model TEXT NOT NULL);\n",
            ),
            (
                "templates/model/repeatable/seed.sql",
                "DELETE FROM trades WHERE id = 0;\nINSERT INTO trades VALUES (0, {{ model | literal }});\n",
            ),
        ],
    );
    let up = workspace.run(&["up", "--format", "json"]).expect(0).json();
    for db in up["databases"].as_array().unwrap() {
        assert_eq!(descriptions_of(db), ["trades", "seed"], "{}", db["name"]);
    }
    for model in ["m1", "m2", "m3"] {
        let path = workspace.path().join(format!("{model}.db"));
        assert_eq!(
            sqlite_text(&path, "SELECT model FROM trades WHERE id = 0"),
            model
        );
    }
    workspace.run(&["status", "--check"]).expect(0);

    workspace.write(
        "templates/model/repeatable/seed.sql",
        "DELETE FROM trades WHERE id = 0;\nINSERT INTO trades VALUES (0, 'seed of ' || {{ model | literal }});\n",
    );
    let status = workspace.run(&["status", "--check"]).expect(3).stdout();
    let pending = status
        .lines()
        .filter(|line| line.trim_end().ends_with("1        pending"))
        .count();
    assert_eq!(pending, 3, "{status}");
    let sql = workspace.run(&["up", "--sql"]).expect(0).stdout();
    for model in ["m1", "m2", "m3"] {
        assert!(sql.contains(&format!("'seed of ' || '{model}'")), "{sql}");
    }
    assert_eq!(sql.matches("-- repeatable seed").count(), 3, "{sql}");
    let again = workspace.run(&["up", "--format", "json"]).expect(0).json();
    for db in again["databases"].as_array().unwrap() {
        assert_eq!(descriptions_of(db), ["seed"], "{}", db["name"]);
    }
    let path = workspace.path().join("m2.db");
    assert_eq!(
        sqlite_text(&path, "SELECT model FROM trades WHERE id = 0"),
        "seed of m2"
    );
    workspace.run(&["drift"]).expect(0);

    // `new --repeatable` writes one into the template; unwritten, `up` refuses it.
    let new = workspace
        .run(&["new", "--group", "models", "--repeatable", "Trade views"])
        .expect(0)
        .stdout();
    assert!(
        new.contains("templates/model/repeatable/trade_views.sql"),
        "{new}"
    );
    workspace
        .run(&["new", "--group", "models", "--repeatable", "trade views"])
        .expect(2);
    let refused = workspace.run(&["up"]).expect(1);
    assert!(
        refused
            .stderr()
            .contains("trade_views.sql was never written")
            || refused
                .stdout()
                .contains("trade_views.sql was never written"),
        "{}{}",
        refused.stdout(),
        refused.stderr()
    );
}

fn descriptions_of(db: &serde_json::Value) -> Vec<String> {
    db["steps"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .map(|s| s["description"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// `import --from flyway` writes `R__` files as repeatable migrations, which `up` applies.
#[test]
fn flyway_repeatable_files_are_imported_as_repeatable_migrations() {
    let workspace = Workspace::new(
        "[default.databases.app]\nmigrations = \"database/app\"\nurl = \"sqlite://app.db\"\n",
        &[
            (
                "flyway/V1__init.sql",
                "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n",
            ),
            (
                "flyway/R__Active users.sql",
                "DROP VIEW IF EXISTS active_users;\nCREATE VIEW active_users AS SELECT id, name FROM users;\n",
            ),
        ],
    );
    let import = workspace
        .run(&[
            "import",
            "--from",
            "flyway",
            "flyway",
            "--to",
            "database/app",
        ])
        .expect(0)
        .stdout();
    assert!(import.contains("repeatable/active_users.sql"), "{import}");
    assert!(
        workspace
            .path()
            .join("database/app/repeatable/active_users.sql")
            .is_file()
    );
    let up = workspace.run(&["up", "--format", "json"]).expect(0).json();
    assert_eq!(
        descriptions_of(&up["databases"][0]),
        ["init", "active_users"]
    );
    let path = workspace.path().join("app.db");
    assert_eq!(
        sqlite_text(
            &path,
            "SELECT type FROM sqlite_master WHERE name = 'active_users'"
        ),
        "view"
    );
}

/// Eight `up` at once, on each backend: a repeatable migration that is not idempotent
/// (it appends a row) runs once, and once more after an edit.
#[test]
fn concurrent_runs_apply_a_repeatable_migration_exactly_once_per_change() {
    each_backend(|workspace, target| {
        let url = &target.url;
        workspace.write(
            "migrations/repeatable/log.sql",
            "INSERT INTO items (id, name) VALUES (100, 'first');\n",
        );
        let all_at_once = || {
            let children: Vec<_> = (0..8)
                .map(|_| {
                    workspace
                        .command(&["up", "--format", "json", "--lock-timeout", "60s"])
                        .stdout(std::process::Stdio::piped())
                        .stderr(std::process::Stdio::piped())
                        .spawn()
                        .unwrap()
                })
                .collect();
            let mut logged = 0;
            for child in children {
                let run = Run(child.wait_with_output().unwrap()).expect(0);
                let steps = descriptions(&run.json());
                logged += steps.iter().filter(|s| *s == "log").count();
            }
            logged
        };
        assert_eq!(all_at_once(), 1, "{url}");
        assert_eq!(
            (target.value)("SELECT name FROM items WHERE id = 100").as_deref(),
            Some("first"),
            "{url}"
        );
        workspace.write(
            "migrations/repeatable/log.sql",
            "INSERT INTO items (id, name) VALUES (101, 'second');\n",
        );
        assert_eq!(all_at_once(), 1, "{url}");
        assert_eq!(
            (target.value)("SELECT name FROM items WHERE id = 101").as_deref(),
            Some("second"),
            "{url}"
        );
    });
}

/// Adopting a Flyway database at its head: an `R__` view the database has is recorded
/// as applied; one it lacks is left for the first `up`.
#[test]
fn adopt_counts_a_repeatable_migration_as_applied_only_when_the_schema_has_it() {
    for has_view in [true, false] {
        let db = TestDb::new("adopt_repeatable");
        let config = format!(
            "[default.databases.app]\nurl = \"{}\"\nmigrations = \"database/app\"\n",
            db.url
        );
        let workspace = Workspace::new(
            &config,
            &[
                ("sql/V1__init.sql", "CREATE TABLE a (id int PRIMARY KEY);\n"),
                (
                    "sql/R__views.sql",
                    "CREATE OR REPLACE VIEW v AS SELECT id FROM a;\n",
                ),
            ],
        );
        db.exec(
            "CREATE TABLE flyway_schema_history (
                installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL,
                type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INT,
                installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(),
                execution_time INT NOT NULL, success BOOLEAN NOT NULL);
             CREATE TABLE a (id int PRIMARY KEY);
             INSERT INTO flyway_schema_history VALUES
                 (1, '1', 'init', 'SQL', 'V1__init.sql', 1, 'deploy', '2025-05-01 12:00:00', 12, true);",
        );
        if has_view {
            db.exec(
                "CREATE VIEW v AS SELECT id FROM a;
                 INSERT INTO flyway_schema_history VALUES
                     (2, NULL, 'views', 'SQL', 'R__views.sql', 7, 'deploy', '2025-05-01 12:00:01', 3, true);",
            );
        }
        workspace
            .run(&["import", "--from", "flyway", "sql", "--to", "database/app"])
            .expect(0);
        workspace.run(&["adopt", "--db", "app"]).expect(0);
        let up = workspace.run(&["up", "--format", "json"]).expect(0).json();
        let ran = descriptions(&up);
        if has_view {
            assert!(ran.is_empty(), "the view is there: {up}");
        } else {
            assert_eq!(ran, ["views"], "{up}");
        }
        assert_eq!(
            db.value("SELECT count(*)::text FROM pg_views WHERE viewname = 'v'")
                .as_deref(),
            Some("1")
        );
        workspace.run(&["drift"]).expect(0);
    }
}
