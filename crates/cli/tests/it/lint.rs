//! `skein lint` against real databases: table sizes from the server, tables the same
//! migrations create, suppression, files, and the JSON contract.

use crate::support::*;
use skein_testkit::{MyTestDb, TestDb};

/// The findings of a JSON lint report as `database rule file:line:column`.
fn findings(report: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for db in report["databases"].as_array().unwrap() {
        for finding in db["lint"]["findings"].as_array().unwrap() {
            out.push(format!(
                "{} {} {}:{}:{}",
                db["name"].as_str().unwrap(),
                finding["rule"].as_str().unwrap(),
                finding["file"].as_str().unwrap(),
                finding["line"],
                finding["column"]
            ));
        }
    }
    out.sort();
    out
}

#[test]
fn an_index_on_a_large_postgres_table_is_an_error_naming_its_size() {
    let db = TestDb::new("lint_large");
    let workspace = Workspace::postgres(
        &db.url,
        &[
            (
                "1_trades.up.sql",
                "CREATE TABLE trades (id bigint, market text);\n",
            ),
            ("1_trades.down.sql", "DROP TABLE trades;\n"),
        ],
    );
    workspace.run(&["up"]).expect(0);
    db.exec(
        "INSERT INTO trades SELECT g, g::text FROM generate_series(1, 1000000) g; ANALYZE trades",
    );
    workspace.write(
        "migrations/2_index.up.sql",
        "SET lock_timeout = '5s';\n\
         CREATE INDEX trades_market ON trades (market);\n\
         CREATE TABLE fills (id bigint, trade bigint);\n\
         CREATE INDEX fills_trade ON fills (trade);\n\
         ALTER TABLE fills ADD COLUMN at timestamptz NOT NULL;\n",
    );
    workspace.write(
        "migrations/2_index.down.sql",
        "DROP TABLE fills;\nDROP INDEX trades_market;\n",
    );

    let run = workspace.run(&["lint", "--format", "json"]).expect(3);
    let report = run.json();
    assert_eq!(report["command"], "lint");
    assert_eq!(
        findings(&report),
        ["app index-not-concurrent migrations/2_index.up.sql:2:1"],
        "fills is created by the same migrations: nothing on it"
    );
    let finding = &report["databases"][0]["lint"]["findings"][0];
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["table"], "trades");
    assert_eq!(finding["rows"], 1000000);
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("trades has ~1.0M rows"),
        "{finding}"
    );
    assert_eq!(report["databases"][0]["status"], "problems");

    let human = workspace.run(&["lint"]).expect(3);
    assert!(
        human.stdout().contains(
            "migrations/2_index.up.sql:2:1: error[index-not-concurrent]: CREATE INDEX on `trades` without CONCURRENTLY (trades has ~1.0M rows)"
        ),
        "{}",
        human.stdout()
    );
    assert!(
        human.stdout().contains("  fix: CREATE INDEX CONCURRENTLY"),
        "{}",
        human.stdout()
    );

    // The line before a statement can ignore one rule there, with a reason.
    workspace.write(
        "migrations/2_index.up.sql",
        "SET lock_timeout = '5s';\n\
         -- skein:lint-ignore index-not-concurrent the table is read-only during the deploy\n\
         CREATE INDEX trades_market ON trades (market);\n",
    );
    let quiet = workspace
        .run(&["lint", "--format", "json"])
        .expect(0)
        .json();
    assert!(findings(&quiet).is_empty(), "{quiet:#}");
    assert_eq!(quiet["databases"][0]["lint"]["ignored"], 1);
    // Nothing pending: nothing to lint, but every migration with --since.
    workspace.run(&["up"]).expect(0);
    let none = workspace
        .run(&["lint", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(none["databases"][0]["lint"]["statements"], 0);
    let since = workspace
        .run(&["lint", "--since", "0", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(since["databases"][0]["lint"]["statements"], 3);
}

#[test]
fn files_are_linted_alone_and_unreadable_statements_are_reported_not_checked() {
    let workspace = Workspace::new(
        "[default.databases.app]\nurl = \"sqlite://app.db\"\n",
        &[
            (
                "database/app/1_t.up.sql",
                "CREATE TABLE t (id INT, name TEXT);\n",
            ),
            ("database/app/1_t.down.sql", "DROP TABLE t;\n"),
            (
                "database/app/2_drop.up.sql",
                "ALTER TABLE t DROP COLUMN name;\n",
            ),
            (
                "database/app/2_drop.down.sql",
                "ALTER TABLE t ADD COLUMN name TEXT;\n",
            ),
            (
                "database/app/3_odd.up.sql",
                "CREATE VIRTUAL TABLE docs USING fts5(body);\nPRAGMA nonsense ~~ 1;\n",
            ),
        ],
    );
    let one = workspace
        .run(&["lint", "database/app/2_drop.up.sql", "--format", "json"])
        .expect(3)
        .json();
    assert_eq!(
        findings(&one),
        ["app drop-column database/app/2_drop.up.sql:1:1"]
    );
    let odd = workspace
        .run(&["lint", "database/app/3_odd.up.sql", "--format", "json"])
        .expect(0)
        .json();
    let lint = &odd["databases"][0]["lint"];
    assert_eq!(lint["unchecked"], 1, "{odd:#}");
    assert_eq!(
        findings(&odd),
        [
            "app missing-down database/app/3_odd.up.sql:1:1",
            "app not-checked database/app/3_odd.up.sql:2:1"
        ]
    );
    let human = workspace
        .run(&["lint", "database/app/3_odd.up.sql"])
        .expect(0);
    assert!(
        human.stdout().contains("1 not checked"),
        "{}",
        human.stdout()
    );
    // A file no selected database has is a usage error.
    let stray = workspace.run(&["lint", "elsewhere.sql"]).expect(2);
    assert!(
        stray.stderr().contains("elsewhere.sql"),
        "{}",
        stray.stderr()
    );
}

#[test]
fn a_foreign_key_added_to_an_existing_mysql_table_is_found() {
    let db = MyTestDb::new("lint_fk");
    let workspace = Workspace::new(
        &format!("[default.databases.app]\nurl = \"{}\"\n", db.url),
        &[
            (
                "database/app/1_t.up.sql",
                "CREATE TABLE a (id INT PRIMARY KEY);\nCREATE TABLE b (id INT PRIMARY KEY, a_id INT);\n",
            ),
            (
                "database/app/1_t.down.sql",
                "DROP TABLE b;\nDROP TABLE a;\n",
            ),
        ],
    );
    workspace.run(&["up"]).expect(0);
    workspace.write(
        "database/app/2_fk.up.sql",
        "ALTER TABLE b ADD CONSTRAINT b_a FOREIGN KEY (a_id) REFERENCES a (id);\nRENAME TABLE a TO accounts;\n",
    );
    workspace.write(
        "database/app/2_fk.down.sql",
        "RENAME TABLE accounts TO a;\nALTER TABLE b DROP FOREIGN KEY b_a;\n",
    );
    // Both tables are empty: warnings, which do not fail the lint.
    let report = workspace
        .run(&["lint", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(
        findings(&report),
        [
            "app foreign-key-on-existing database/app/2_fk.up.sql:1:1",
            "app rename database/app/2_fk.up.sql:2:1"
        ]
    );
    let fk = &report["databases"][0]["lint"]["findings"][0];
    assert_eq!(fk["rows"], 0, "{fk}");
    assert_eq!(fk["severity"], "warning", "{fk}");
}

#[test]
fn up_refuses_a_lock_unsafe_pending_migration_when_lint_on_up_is_error() {
    let db = TestDb::new("lint_on_up");
    let config = |on_up: &str| {
        format!(
            "[default.databases.app]\nmigrations = \"migrations\"\nurl = \"{}\"\n\n[default.lint]\non_up = \"{on_up}\"\n",
            db.url
        )
    };
    let workspace = Workspace::new(
        &config("error"),
        &[
            (
                "migrations/1_trades.up.sql",
                "CREATE TABLE trades (id bigint, market text);\n",
            ),
            ("migrations/1_trades.down.sql", "DROP TABLE trades;\n"),
        ],
    );
    workspace.run(&["up"]).expect(0);
    db.exec(
        "INSERT INTO trades SELECT g, g::text FROM generate_series(1, 200000) g; ANALYZE trades",
    );
    workspace.write(
        "migrations/2_index.up.sql",
        "SET lock_timeout = '5s';\nCREATE INDEX trades_market ON trades (market);\n",
    );
    workspace.write("migrations/2_index.down.sql", "DROP INDEX trades_market;\n");

    let refused = workspace.run(&["up", "--format", "json"]).expect(3);
    let report = refused.json();
    assert_eq!(report["databases"][0]["status"], "refused", "{report:#}");
    assert_eq!(
        report["databases"][0]["lint"]["findings"][0]["rule"],
        "index-not-concurrent"
    );
    assert!(
        report["databases"][0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`skein lint --db app` shows them"),
        "{report:#}"
    );
    let human = workspace.run(&["up"]).expect(3);
    assert!(
        human
            .stderr()
            .contains("app: refused: `skein lint` found 1 error(s)"),
        "{}\n{}",
        human.stdout(),
        human.stderr()
    );
    assert_eq!(db.value("SELECT to_regclass('trades_market')::text"), None);
    assert_eq!(
        db.value("SELECT count(*)::text FROM skein_history")
            .as_deref(),
        Some("1"),
        "nothing recorded"
    );

    // `warn` (the default) says so on stderr and migrates.
    workspace.write("skein.toml", &config("warn"));
    let warned = workspace.run(&["up"]).expect(0);
    assert!(
        warned
            .stderr()
            .contains("app: lint: migrations/2_index.up.sql:2:1: CREATE INDEX on `trades` without CONCURRENTLY (trades has ~200k rows)"),
        "{}",
        warned.stderr()
    );
    assert_eq!(
        db.value("SELECT to_regclass('trades_market')::text")
            .as_deref(),
        Some("trades_market")
    );
}

#[test]
fn rule_levels_come_from_the_config_and_github_annotations_from_format_github() {
    let workspace = Workspace::new(
        "[default.databases.app]\nurl = \"sqlite://app.db\"\n\n[default.lint]\ndrop-column = \"off\"\nrename = \"error\"\n",
        &[
            (
                "database/app/1_t.up.sql",
                "CREATE TABLE t (id INT, name TEXT);\n",
            ),
            ("database/app/1_t.down.sql", "DROP TABLE t;\n"),
            (
                "database/app/2_x.up.sql",
                "ALTER TABLE t DROP COLUMN name;\nALTER TABLE t RENAME TO things;\n",
            ),
            (
                "database/app/2_x.down.sql",
                "ALTER TABLE things RENAME TO t;\n",
            ),
        ],
    );
    let report = workspace
        .run(&["lint", "--since", "1", "--format", "json"])
        .expect(3)
        .json();
    let finding = &report["databases"][0]["lint"]["findings"];
    assert_eq!(finding.as_array().unwrap().len(), 1, "{report:#}");
    assert_eq!(finding[0]["rule"], "rename");
    assert_eq!(finding[0]["severity"], "error", "raised by the config");

    let github = workspace
        .run(&["lint", "--since", "1", "--format", "github"])
        .expect(3);
    assert_eq!(
        github.stdout().lines().next().unwrap(),
        "::error file=database/app/2_x.up.sql,line=2,col=1,title=skein lint rename::app: table `t` renamed (fix: add the new name alongside (a new column, or a view with the old name), move the code, then remove the old one)"
    );
    let elsewhere = workspace.run(&["status", "--format", "github"]).expect(2);
    assert!(
        elsewhere
            .stderr()
            .contains("--format github is for `skein lint`")
    );

    workspace.write(
        "skein.toml",
        "[default.databases.app]\nurl = \"sqlite://app.db\"\n\n[default.lint]\ndrop-colum = \"off\"\non_up = \"sometimes\"\n",
    );
    let bad = workspace.run(&["lint"]).expect(2);
    assert!(
        bad.stderr().contains("unknown setting `lint.drop-colum` (skein.toml:5 [default]); did you mean `drop-column`?"),
        "{}",
        bad.stderr()
    );
    assert!(
        bad.stderr()
            .contains("`lint.on_up` (skein.toml:6 [default]): `sometimes` is not a level"),
        "{}",
        bad.stderr()
    );
}

#[test]
fn over_a_fleet_a_shared_finding_is_shown_once_with_the_worst_database() {
    let small = TestDb::new("lint_fleet_small");
    let large = TestDb::new("lint_fleet_large");
    let base = small.url.rsplit_once('/').unwrap().0.to_owned();
    let workspace = Workspace::new(
        &format!(
            "[default.models]\ntemplate = \"template\"\nurl = \"{base}/{{model}}\"\nnames = [\"{}\", \"{}\"]\n",
            small.name, large.name
        ),
        &[
            (
                "template/1_trades.up.sql",
                "CREATE TABLE trades (id bigint, market text);\n",
            ),
            ("template/1_trades.down.sql", "DROP TABLE trades;\n"),
        ],
    );
    workspace.run(&["up"]).expect(0);
    small.exec("INSERT INTO trades SELECT g, 'm' FROM generate_series(1, 10) g; ANALYZE trades");
    large
        .exec("INSERT INTO trades SELECT g, 'm' FROM generate_series(1, 300000) g; ANALYZE trades");
    workspace.write(
        "template/2_index.up.sql",
        "SET lock_timeout = '5s';\nCREATE INDEX trades_market ON trades (market);\n",
    );
    workspace.write("template/2_index.down.sql", "DROP INDEX trades_market;\n");

    let run = workspace.run(&["lint"]).expect(3);
    let out = run.stdout();
    assert_eq!(out.matches("index-not-concurrent").count(), 1, "{out}");
    assert!(
        out.contains(&format!(
            "template/2_index.up.sql:2:1: error[index-not-concurrent]: CREATE INDEX on `trades` without CONCURRENTLY (trades has ~300k rows) (in 2 databases; worst: {})",
            large.name
        )),
        "{out}"
    );
    // In JSON, each database has its own finding and size: a warning where it is small.
    let report = run_json(&workspace);
    let severity = |name: &str| {
        report["databases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == name)
            .map(|d| d["lint"]["findings"][0]["severity"].clone())
            .unwrap()
    };
    assert_eq!(severity(&small.name), "warning");
    assert_eq!(severity(&large.name), "error");
}

fn run_json(workspace: &Workspace) -> serde_json::Value {
    workspace
        .run(&["lint", "--format", "json"])
        .expect(3)
        .json()
}

#[test]
fn widening_a_postgres_column_is_not_a_rewrite_but_changing_its_type_is() {
    let db = TestDb::new("lint_types");
    let workspace = Workspace::postgres(
        &db.url,
        &[
            (
                "1_t.up.sql",
                "CREATE TABLE t (ref varchar(20), n integer);\n",
            ),
            ("1_t.down.sql", "DROP TABLE t;\n"),
        ],
    );
    workspace.run(&["up"]).expect(0);
    workspace.write(
        "migrations/2_types.up.sql",
        "SET lock_timeout = '5s';\nALTER TABLE t ALTER COLUMN ref TYPE varchar(40);\nALTER TABLE t ALTER COLUMN n TYPE bigint;\n",
    );
    workspace.write("migrations/2_types.down.sql", "SELECT 1;\n");
    // The table is empty: a warning, which does not fail the lint.
    let report = workspace
        .run(&["lint", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(
        findings(&report),
        ["app column-type-change migrations/2_types.up.sql:3:1"],
        "varchar(20) -> varchar(40) keeps the rows as they are"
    );
}

#[test]
fn up_lints_only_the_migrations_it_would_apply() {
    let db = TestDb::new("lint_up_target");
    let workspace = Workspace::new(
        &format!(
            "[default.databases.app]\nmigrations = \"migrations\"\nurl = \"{}\"\n\n[default.lint]\non_up = \"error\"\nindex-not-concurrent = \"error\"\n",
            db.url
        ),
        &[
            (
                "migrations/1_t.up.sql",
                "CREATE TABLE t (id bigint, note text);\n",
            ),
            ("migrations/1_t.down.sql", "DROP TABLE t;\n"),
        ],
    );
    workspace.run(&["up"]).expect(0);
    workspace.write(
        "migrations/2_safe.up.sql",
        "SET lock_timeout = '5s';\nALTER TABLE t ADD COLUMN k int;\n",
    );
    workspace.write(
        "migrations/2_safe.down.sql",
        "ALTER TABLE t DROP COLUMN k;\n",
    );
    workspace.write(
        "migrations/3_index.up.sql",
        "SET lock_timeout = '5s';\nCREATE INDEX t_note ON t (note);\n",
    );
    workspace.write("migrations/3_index.down.sql", "DROP INDEX t_note;\n");
    // `up +1` runs only 2, which is safe: the index of 3 does not stop it.
    workspace.run(&["up", "+1"]).expect(0);
    assert_eq!(
        db.value("SELECT max(version)::text FROM skein_history")
            .as_deref(),
        Some("2")
    );
    let refused = workspace.run(&["up", "--format", "json"]).expect(3).json();
    assert_eq!(refused["databases"][0]["status"], "refused");
    assert_eq!(db.value("SELECT to_regclass('t_note')::text"), None);
}
