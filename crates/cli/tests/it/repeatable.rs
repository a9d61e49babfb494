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
