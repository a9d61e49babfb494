//! Model databases that follow their template: rendered per model, merged with a model's
//! own folder, listed by folders, `names` and a `names_from` query.

use crate::support::*;
use skein_testkit::{TestDb, exec, postgres};

/// Drops the model databases a test made when it ends, however it ends.
struct DropAll(Vec<String>);

impl Drop for DropAll {
    fn drop(&mut self) {
        for name in &self.0 {
            exec(
                &postgres().admin_url,
                &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            );
        }
    }
}

/// One text value from the database at `url`.
fn probe(url: &str, sql: &str) -> String {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    skein_testkit::block_on(async move {
        use sqlx::Connection as _;
        let mut conn = sqlx::postgres::PgConnection::connect(&url).await.unwrap();
        let value: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        value
    })
}

#[test]
fn a_fleet_listed_by_the_infra_database_follows_the_template() {
    let infra = TestDb::new("tpl_infra");
    let base = postgres().admin_url.rsplit_once('/').unwrap().0.to_owned();
    let prefix = format!("skein_tpl_{}", std::process::id());
    let count = 24;
    let names: Vec<String> = (1..=count).map(|i| format!("{prefix}_m{i}")).collect();
    let newcomer = format!("{prefix}_m{}", count + 1);
    let _cleanup = DropAll(names.iter().chain([&newcomer]).cloned().collect());
    let rows: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, name)| format!("('{name}', {}, true)", if i % 2 == 0 { 1 } else { 137 }))
        .collect();
    let config = format!(
        r#"[default]
concurrency = 4

[default.databases.infra]
url = "{infra}"
migrations = "infra"

[default.models]
template = "template"
url = "{base}/{{model}}"
depends_on = ["infra"]
names_from = {{ db = "infra", query = "SELECT name, chain_id FROM models WHERE active ORDER BY name" }}
"#,
        infra = infra.url
    );
    let listing = format!(
        "CREATE TABLE models (name text PRIMARY KEY, chain_id bigint NOT NULL, active boolean NOT NULL);\nINSERT INTO models VALUES {}, ('{prefix}_retired', 5, false);\n",
        rows.join(", ")
    );
    let workspace = Workspace::new(
        &config,
        &[
            ("infra/1_models.sql", listing.as_str()),
            (
                "template/1_transactions.up.sql",
                "-- {{ model }}: transactions on chain {{ chain_id }}\nCREATE TABLE transactions (hash text PRIMARY KEY, chain bigint NOT NULL DEFAULT {{ chain_id }});\n",
            ),
            (
                "template/1_transactions.down.sql",
                "DROP TABLE transactions;\n",
            ),
        ],
    );

    // One run: infra is migrated (which lists the models), then every model is created
    // and migrated from the template.
    let first = workspace
        .run(&["up", "--create", "--format", "json"])
        .expect(0)
        .json();
    let statuses_first = statuses_in_order(&first);
    assert_eq!(statuses_first.len(), count + 1, "{first}");
    assert_eq!(statuses_first[0], ("infra".to_owned(), "ok".to_owned()));
    assert!(statuses_first.iter().all(|(_, s)| s == "ok"), "{first}");
    assert!(
        first["databases"][1]["created"].as_bool().unwrap(),
        "{first}"
    );
    assert_eq!(
        probe(
            &format!("{base}/{}", names[1]),
            "SELECT column_default FROM information_schema.columns WHERE table_name = 'transactions' AND column_name = 'chain'"
        ),
        "137",
        "the row's chain_id column is a template variable"
    );

    // A migration added to the template reaches every model with one `up`.
    workspace.write(
        "template/2_by_chain.up.sql",
        "CREATE INDEX transactions_chain_idx ON transactions (chain);\n",
    );
    let second = workspace.run(&["up", "--format", "json"]).expect(0).json();
    let at_two = second["databases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["version_after"] == 2)
        .count();
    assert_eq!(at_two, count, "{second}");

    // A model inserted into the table: reported missing by `up`, made by `db create`.
    infra.exec(&format!(
        "INSERT INTO models VALUES ('{newcomer}', 1, true)"
    ));
    let missing = workspace.run(&["up", "--format", "json"]).expect(1);
    let report = missing.json();
    let failed: Vec<&str> = report["databases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "failed")
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed, [newcomer.as_str()], "{report}");
    let newcomer_report = report["databases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == newcomer.as_str())
        .unwrap();
    let message = newcomer_report["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("does not exist") && message.contains("db create"),
        "{message}"
    );
    let created = workspace.run(&["db", "create"]).expect(0).stdout();
    assert!(
        created.contains(&format!("{newcomer}: created")),
        "{created}"
    );
    workspace.run(&["up", "-q"]).expect(0);

    // drift: every model matches, with one replay per distinct rendered schema (the two
    // chain ids) and one for infra.
    let drift = workspace
        .run(&["drift", "--format", "json"])
        .expect(0)
        .json();
    let compared = drift["databases"].as_array().unwrap();
    assert_eq!(compared.len(), count + 2);
    assert!(
        compared.iter().all(|d| d["status"] == "up_to_date"),
        "{drift}"
    );
    let replays: std::collections::BTreeSet<&str> = compared
        .iter()
        .map(|d| d["drift"]["replay"].as_str().unwrap())
        .collect();
    assert_eq!(replays.len(), 3, "{drift}");

    let list = workspace
        .run(&["model", "list", "--format", "json"])
        .expect(0)
        .json();
    let listed = list["databases"].as_array().unwrap();
    assert_eq!(listed.len(), count + 1);
    assert!(
        listed
            .iter()
            .all(|d| d["model"]["listed_by"] == serde_json::json!(["names_from"])),
        "{list}"
    );
    assert!(
        !listed
            .iter()
            .any(|d| d["name"].as_str().unwrap().ends_with("_retired")),
        "inactive rows are not models"
    );
}

#[test]
fn a_names_from_query_that_fails_names_the_database_and_query_and_touches_no_model() {
    let infra = TestDb::new("tpl_badquery");
    let config = format!(
        r#"[default.databases.infra]
url = "{}"
migrations = "infra"

[default.models]
template = "template"
url = "sqlite://data/{{model}}.db"
names = ["listed"]
names_from = {{ db = "infra", query = "SELECT name FROM no_such_table" }}
"#,
        infra.url
    );
    let workspace = Workspace::new(
        &config,
        &[
            ("infra/1_a.sql", "CREATE TABLE a (id int);\n"),
            ("template/1_t.sql", "CREATE TABLE t (id INT);\n"),
        ],
    );
    let status = workspace.run(&["status"]).expect(2);
    let stderr = status.stderr();
    assert!(
        stderr.contains("SELECT name FROM no_such_table")
            && stderr.contains("`infra`")
            && stderr.contains("no_such_table"),
        "{stderr}"
    );
    // up migrates infra, then stops before any model.
    let up = workspace.run(&["up", "--format", "json"]).expect(1);
    assert_eq!(
        statuses_in_order(&up.json()),
        [("infra".to_owned(), "ok".to_owned())]
    );
    assert!(up.stderr().contains("none was touched"), "{}", up.stderr());
    assert!(!workspace.path().join("data/listed.db").exists());
    // A selection without models does not run the query.
    workspace.run(&["status", "--db", "infra"]).expect(0);
    // config show still shows what it knows, and says why the rest is missing.
    let show = workspace.run(&["config", "show"]).expect(0);
    assert!(show.stdout().contains("listed"), "{}", show.stdout());
    assert!(
        show.stderr().contains("warning:") && show.stderr().contains("no_such_table"),
        "{}",
        show.stderr()
    );
}

/// A template of two migrations and, per model, folders copied from it the way `model
/// new` used to make them (the template rendered for the model).
fn copied_workspace(models: &[&str]) -> Workspace {
    let config = "[default.models]\ndir = \"models\"\ntemplate = \"template\"\nurl = \"sqlite://data/{model}.db\"\n";
    let template = [
        (
            "1_t.up.sql",
            "-- {{ model }}: the t table\nCREATE TABLE t (id INT);\n",
        ),
        ("1_t.down.sql", "DROP TABLE t;\n"),
        ("2_u.sql", "CREATE TABLE u (id INT); -- {{ model }}\n"),
    ];
    let mut files: Vec<(String, String)> = template
        .iter()
        .map(|(name, text)| (format!("template/{name}"), (*text).to_owned()))
        .collect();
    for model in models {
        for (name, text) in &template {
            files.push((
                format!("models/{model}/{name}"),
                text.replace("{{ model }}", model),
            ));
        }
    }
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_str()))
        .collect();
    Workspace::new(config, &files)
}

#[test]
fn folders_copied_from_the_template_work_unchanged_and_then_follow_it() {
    let workspace = copied_workspace(&["alpha", "beta"]);
    let up = workspace.run(&["up", "--format", "json"]).expect(0).json();
    for db in up["databases"].as_array().unwrap() {
        assert_eq!(db["version_after"], 2, "{up}");
    }
    // An identical copy is the template's migration: history names the template's file.
    let history = workspace
        .run(&["history", "--db", "beta"])
        .expect(0)
        .stdout();
    assert!(!history.contains("modified"), "{history}");
    workspace.run(&["status", "--check"]).expect(0);
    // One new template migration reaches both copied models.
    workspace.write("template/3_v.sql", "CREATE TABLE v (id INT);\n");
    let again = workspace.run(&["up", "--format", "json"]).expect(0).json();
    assert!(
        again["databases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["version_after"] == 3),
        "{again}"
    );
}

#[test]
fn a_copy_that_differs_from_the_template_names_both_files() {
    let workspace = copied_workspace(&["alpha", "beta"]);
    workspace.write(
        "models/beta/2_u.sql",
        "CREATE TABLE u (id INT, extra INT); -- beta\n",
    );
    let run = workspace.run(&["up", "--format", "json"]).expect(1);
    let report = run.json();
    assert_eq!(
        statuses_in_order(&report),
        [
            ("alpha".to_owned(), "ok".to_owned()),
            ("beta".to_owned(), "failed".to_owned())
        ]
    );
    let message = report["databases"][1]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("template/2_u.sql") && message.contains("models/beta/2_u.sql"),
        "{message}"
    );
    assert!(
        !workspace.path().join("data/beta.db").exists() || {
            // Nothing of beta's was applied.
            workspace.run(&["status", "--db", "beta"]).code() != 0
        }
    );
}

#[test]
fn variables_come_from_the_config_and_fill_the_template_and_the_url() {
    let config = r#"[default.models]
template = "template"
names = ["eth", "poly"]
url = "sqlite://data/{model}_{chain_id}.db"

[default.models.vars.eth]
chain_id = 1

[default.models.vars.poly]
chain_id = 137
"#;
    let workspace = Workspace::new(
        config,
        &[(
            "template/1_t.sql",
            "CREATE TABLE t (chain INT NOT NULL DEFAULT {{ chain_id }}); -- {{ model }}\n",
        )],
    );
    workspace.run(&["up", "-q"]).expect(0);
    assert!(workspace.path().join("data/eth_1.db").is_file());
    assert!(workspace.path().join("data/poly_137.db").is_file());
    let inspect = workspace
        .run(&["inspect", "--db", "poly", "--format", "json"])
        .expect(0)
        .json();
    let schema = inspect["databases"][0]["schema"].to_string();
    assert!(schema.contains("137"), "{schema}");

    // A model without the variable: the error names the template file, line and model.
    let config = config.replace(
        "names = [\"eth\", \"poly\"]",
        "names = [\"eth\", \"poly\", \"base\"]",
    );
    workspace.write(
        "skein.toml",
        &config.replace("{model}_{chain_id}", "{model}"),
    );
    let run = workspace.run(&["up"]).expect(1);
    assert!(
        run.stderr().contains("template/1_t.sql:1: model `base`")
            && run.stderr().contains("the variable `chain_id`"),
        "{}",
        run.stderr()
    );
}

#[test]
fn a_canary_that_fails_on_a_template_migration_stops_the_rollout() {
    let names: Vec<String> = (1..=8).map(|i| format!("\"m{i}\"")).collect();
    let config = format!(
        "[default]\nconcurrency = 4\n\n[default.models]\ntemplate = \"template\"\nnames = [{}]\nurl = \"sqlite://data/{{model}}.db\"\n",
        names.join(", ")
    );
    let workspace = Workspace::new(
        &config,
        &[("template/1_t.sql", "CREATE TABLE t (id INT);\n")],
    );
    workspace.run(&["up", "-q"]).expect(0);
    workspace.write(
        "template/2_bad.sql",
        "{% if model == \"m2\" %}SELECT * FROM nowhere;{% else %}CREATE TABLE u (id INT);{% endif %}\n",
    );
    let report = workspace
        .run(&["up", "--canary", "2", "--format", "json"])
        .expect(1)
        .json();
    let by_status = |status: &str| -> Vec<String> {
        statuses_in_order(&report)
            .into_iter()
            .filter(|(_, s)| s == status)
            .map(|(n, _)| n)
            .collect()
    };
    assert_eq!(by_status("ok"), ["m1"]);
    assert_eq!(by_status("failed"), ["m2"]);
    assert_eq!(by_status("skipped").len(), 6, "{report}");
    // With a good migration, all reach head.
    workspace.write("template/2_bad.sql", "CREATE TABLE u (id INT);\n");
    workspace
        .run(&["repair", "--group", "models", "-q"])
        .expect(0);
    let good = workspace
        .run(&["up", "--canary", "2", "--format", "json"])
        .expect(0)
        .json();
    assert!(
        good["databases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["version_after"] == 2),
        "{good}"
    );
}

#[test]
fn every_command_works_on_template_models() {
    let config = r#"[default.models]
template = "template"
names = ["m1", "m2"]
url = "sqlite://data/{model}.db"

[default.models.expect]
required_tables = ["t", "u"]
"#;
    let workspace = Workspace::new(
        config,
        &[
            (
                "template/1_t.up.sql",
                "CREATE TABLE t (id INT); -- {{ model }}\n",
            ),
            ("template/1_t.down.sql", "DROP TABLE t;\n"),
            ("template/2_u.up.sql", "CREATE TABLE u (id INT);\n"),
            ("template/2_u.down.sql", "DROP TABLE u;\n"),
        ],
    );
    workspace.run(&["up", "-q"]).expect(0);
    workspace.run(&["check"]).expect(0);
    workspace.run(&["drift"]).expect(0);
    let history = workspace
        .run(&["history", "--db", "m2", "--format", "json"])
        .expect(0)
        .json();
    let states = migration_states(&history);
    assert_eq!(states, ["applied", "applied"], "{history}");

    // down and redo on every model of the set.
    let down = workspace
        .run(&[
            "down", "--group", "models", "--steps", "1", "--format", "json",
        ])
        .expect(0)
        .json();
    assert!(
        down["databases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["version_after"] == 1),
        "{down}"
    );
    workspace.run(&["check"]).expect(3);
    workspace.run(&["redo", "--db", "m1"]).expect(0);
    workspace.run(&["up", "-q"]).expect(0);

    // stamp and repair.
    workspace.run(&["stamp", "--db", "m2", "1"]).expect(0);
    let status = workspace
        .run(&["status", "--db", "m2", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(status["databases"][0]["pending"], 1);
    workspace.run(&["stamp", "--db", "m2", "head"]).expect(0);
    workspace.write(
        "template/2_u.up.sql",
        "CREATE TABLE u (id INT); -- edited\n",
    );
    workspace.run(&["status", "--check"]).expect(3);
    workspace
        .run(&["repair", "--group", "models", "-q"])
        .expect(0);
    workspace.run(&["status", "--check"]).expect(0);

    // converge brings a divergent model back to the template's schema.
    let model = workspace.path().join("data/m1.db");
    skein_testkit::block_on(async {
        use sqlx::Connection as _;
        let mut conn =
            sqlx::sqlite::SqliteConnection::connect(&format!("sqlite://{}", model.display()))
                .await
                .unwrap();
        sqlx::raw_sql("CREATE TABLE stray (id INT)")
            .execute(&mut conn)
            .await
            .unwrap();
    });
    workspace.run(&["drift", "--db", "m1"]).expect(3);
    workspace
        .run(&["converge", "--db", "m1", "--apply", "--allow-destructive"])
        .expect(0);
    workspace.run(&["drift"]).expect(0);
}

#[test]
fn a_listed_name_too_long_for_the_server_stops_before_any_model_and_keeps_the_infra_report() {
    let infra = TestDb::new("tpl_long");
    let base = postgres().admin_url.rsplit_once('/').unwrap().0.to_owned();
    // 60 characters is a valid model name, but the URL adds a suffix: 66 bytes.
    let long = format!("m{}", "x".repeat(59));
    let config = format!(
        r#"[default.databases.infra]
url = "{}"
migrations = "infra"

[default.models]
template = "template"
url = "{base}/{{model}}_suffix"
depends_on = ["infra"]
names_from = {{ db = "infra", query = "SELECT name FROM models" }}
"#,
        infra.url
    );
    let listing =
        format!("CREATE TABLE models (name text);\nINSERT INTO models VALUES ('{long}');\n");
    let workspace = Workspace::new(
        &config,
        &[
            ("infra/1_models.sql", listing.as_str()),
            ("template/1_t.sql", "CREATE TABLE t (id int);\n"),
        ],
    );
    let run = workspace
        .run(&["up", "--create", "--format", "json"])
        .expect(1);
    assert_eq!(
        statuses_in_order(&run.json()),
        [("infra".to_owned(), "ok".to_owned())],
        "the infra report is kept"
    );
    assert!(
        run.stderr().contains("63") && run.stderr().contains("none was touched"),
        "{}",
        run.stderr()
    );
}

#[test]
fn a_listed_model_named_with_db_gets_its_row_and_row_values_stay_values() {
    // `aa` is in `names` and in the query's rows: `--db aa` must still see its row's
    // variables, and a value that looks like a secret reference stays a value.
    let config = r#"[default.databases.infra]
url = "sqlite://data/infra.db"
migrations = "infra"

[default.models]
template = "template"
names = ["aa"]
url = "sqlite://data/m_{model}_{sfx}.db"
depends_on = ["infra"]
names_from = { db = "infra", query = "SELECT name, sfx, note FROM models" }
"#;
    let workspace = Workspace::new(
        config,
        &[
            (
                "infra/1_models.sql",
                "CREATE TABLE models (name TEXT, sfx TEXT, note TEXT);\nINSERT INTO models VALUES ('aa', 'x', NULL), ('bb', '${env:SKEIN_TEST_SECRET}', 'n');\n",
            ),
            ("template/1_t.sql", "CREATE TABLE t (id INT);\n"),
        ],
    );
    workspace.run(&["up", "--db", "infra", "-q"]).expect(0);
    workspace.run(&["up", "--db", "aa", "-q"]).expect(0);
    assert!(workspace.path().join("data/m_aa_x.db").is_file());
    assert!(!workspace.path().join("data/m_aa_{sfx}.db").exists());
    let mut command = workspace.command(&["up", "--db", "bb", "-q"]);
    command.env("SKEIN_TEST_SECRET", "topsecret");
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<String> = std::fs::read_dir(workspace.path().join("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !files.iter().any(|f| f.contains("topsecret")),
        "a row's value is not a secret reference: {files:?}"
    );
    // A NULL column is no variable: a template that uses it says so.
    workspace.write("template/2_note.sql", "SELECT '{{ note }}';\n");
    let run = workspace.run(&["up", "--db", "aa"]).expect(1);
    assert!(
        run.stderr().contains("the variable `note`"),
        "{}",
        run.stderr()
    );
}
