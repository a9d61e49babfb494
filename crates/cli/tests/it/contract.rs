//! The JSON contract: every command's `--format json` document follows the committed
//! schema (`docs/report.schema.json`) on success, with an unreachable server, with a bad
//! configuration and with a usage error, and the same failure gives the same exit code in
//! every command.

use crate::support::{Run, Workspace};
use sqlx::Connection as _;

fn validator() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/report.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the schema is committed"))
            .expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema")
}

/// Asserts that `run` printed one document that follows the schema, for `command`.
fn assert_follows(validator: &jsonschema::Validator, args: &[&str], run: &Run, command: &str) {
    let doc = run.json();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{args:?}: {errors:#?}\n{doc:#}");
    assert_eq!(doc["schema_version"], 5, "{args:?}");
    assert_eq!(doc["command"], command, "{args:?}: {doc:#}");
}

/// Every command, as the JSON names it, with arguments that make it do its job.
const COMMANDS: [(&str, &[&str]); 26] = [
    ("wait", &["wait"]),
    ("db create", &["db", "create"]),
    ("up", &["up"]),
    ("up", &["up", "--sql"]),
    ("status", &["status"]),
    ("history", &["history", "--db", "app"]),
    ("show", &["show", "--db", "app", "head"]),
    (
        "new",
        &[
            "new",
            "--db",
            "app",
            "--from-schema",
            "schema.sql",
            "--check",
        ],
    ),
    ("stamp", &["stamp", "--db", "app", "head"]),
    ("repair", &["repair", "--db", "app"]),
    ("adopt", &["adopt", "--db", "legacy"]),
    (
        "import",
        &["import", "--from", "dbmate", "dbmate", "--to", "imported"],
    ),
    ("model new", &["model", "new", "m2"]),
    ("model list", &["model", "list"]),
    ("inspect", &["inspect", "--db", "app"]),
    ("drift", &["drift"]),
    ("check", &["check"]),
    ("lint", &["lint", "--db", "app"]),
    ("converge", &["converge", "--db", "app"]),
    ("config show", &["config", "show"]),
    (
        "down",
        &["down", "--db", "app", "--steps", "1", "--dry-run"],
    ),
    ("redo", &["redo", "--db", "app"]),
    ("down", &["down", "--db", "app", "--steps", "1"]),
    ("db reset", &["db", "reset", "--db", "app", "--yes"]),
    ("db drop", &["db", "drop", "--group", "models", "--yes"]),
    // Last: it writes an unwritten migration, which later runs would refuse.
    ("new", &["new", "--db", "app", "add note"]),
];

const CONFIG: &str = r#"[default.databases.app]
migrations = "migrations"
url = "URL/app"

[default.databases.app.expect]
required_tables = ["t"]

[default.databases.legacy]
migrations = "migrations"
url = "URL/legacy"

[default.models]
dir = "models"
template = "template"
url = "URL/{model}"
names = ["m1"]
"#;

const FILES: [(&str, &str); 4] = [
    ("migrations/1_t.up.sql", "CREATE TABLE t (id INT);\n"),
    ("migrations/1_t.down.sql", "DROP TABLE t;\n"),
    ("template/1_m.up.sql", "CREATE TABLE m (id INT);\n"),
    (
        "dbmate/20240101000000_t.sql",
        "-- migrate:up\nCREATE TABLE t (id INT);\n-- migrate:down\nDROP TABLE t;\n",
    ),
];

fn workspace(url: &str) -> Workspace {
    let workspace = Workspace::new(&CONFIG.replace("URL", url), &FILES);
    workspace.write("schema.sql", "CREATE TABLE t (id INT);\n");
    workspace
}

#[test]
fn every_command_s_json_follows_the_committed_schema_when_it_succeeds() {
    let validator = validator();
    let workspace = workspace("sqlite://data");
    std::fs::create_dir_all(workspace.path().join("data")).unwrap();
    // `legacy` was migrated by golang-migrate: its table, and the schema its migration gives.
    let legacy = format!(
        "sqlite://{}/data/legacy?mode=rwc",
        workspace.path().display()
    );
    skein_testkit::block_on(async {
        let mut conn = sqlx::SqliteConnection::connect(&legacy).await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE t (id INT);
             CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, dirty BOOLEAN NOT NULL);
             INSERT INTO schema_migrations VALUES (1, false);",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
    });
    for (command, args) in COMMANDS {
        // `up` leaves `legacy` to `adopt`.
        let mut args = args.to_vec();
        if args == ["up"] || args == ["up", "--sql"] {
            args.extend(["--db", "app", "--group", "models"]);
        }
        if args == ["status"] || args == ["drift"] {
            args.extend(["--db", "app"]);
        }
        args.extend(["--format", "json"]);
        let run = workspace.run(&args).expect(0);
        assert_follows(&validator, &args, &run, command);
    }
}

#[test]
fn every_command_fails_alike_on_an_unreachable_server() {
    let validator = validator();
    let workspace = workspace("postgres://postgres@127.0.0.1:1");
    for (command, args) in COMMANDS {
        let mut args = args.to_vec();
        // Commands that reach no server: `new` without a schema, `import`, `config show`.
        if matches!(command, "import" | "config show") || args == ["new", "--db", "app", "add note"]
        {
            continue;
        }
        args.extend(["--connect-timeout", "1s", "--format", "json"]);
        let run = workspace.run(&args);
        assert_eq!(
            run.code(),
            1,
            "{args:?}: {}\n{}",
            run.stdout(),
            run.stderr()
        );
        assert_follows(&validator, &args, &run, command);
        let doc = run.json();
        let error = match command {
            "model new" | "show" => doc["error"]["message"].clone(),
            _ => doc["databases"][0]["error"]["message"].clone(),
        };
        assert!(
            error.as_str().is_some_and(|m| m.contains("cannot connect")),
            "{args:?}: {doc:#}"
        );
    }
}

#[test]
fn every_command_stops_alike_on_a_bad_configuration_and_a_usage_error() {
    let validator = validator();
    let workspace = Workspace::new(
        "[default]\nconcurrency = \"many\"\n\n[default.databases.app]\nmigrations = \"migrations\"\nurl = \"sqlite://app.db\"\n",
        &[],
    );
    for (command, args) in COMMANDS {
        let mut bad_config = args.to_vec();
        bad_config.extend(["--format", "json"]);
        let run = workspace.run(&bad_config);
        if command == "import" {
            // import reads no configuration: its source folder is what is wrong here.
            assert_eq!(run.code(), 2, "{bad_config:?}: {}", run.stderr());
        } else {
            assert_eq!(run.code(), 2, "{bad_config:?}: {}", run.stdout());
            assert_eq!(run.json()["error"]["kind"], "config", "{bad_config:?}");
        }
        assert_follows(&validator, &bad_config, &run, command);

        let mut usage = args.to_vec();
        usage.extend(["--bogus", "--format", "json"]);
        let run = workspace.run(&usage);
        assert_eq!(run.code(), 2, "{usage:?}: {}", run.stderr());
        let doc = run.json();
        assert_eq!(doc["error"]["kind"], "usage", "{usage:?}");
        assert_eq!(
            doc["error"]["where"]["argument"], "--bogus",
            "{usage:?}: {doc:#}"
        );
        assert_follows(&validator, &usage, &run, command);
    }
}

#[test]
fn init_s_json_follows_the_committed_schema() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["init", "--format", "json"];
    let run = Run(std::process::Command::new(crate::support::skein())
        .current_dir(dir.path())
        .args(args)
        .output()
        .unwrap())
    .expect(0);
    assert_follows(&validator(), &args, &run, "init");
    let again = Run(std::process::Command::new(crate::support::skein())
        .current_dir(dir.path())
        .args(args)
        .output()
        .unwrap())
    .expect(2);
    assert_follows(&validator(), &args, &again, "init");
}

#[test]
fn an_error_says_where_it_is() {
    let workspace = Workspace::new(
        "[default.databases.app]\nmigrations = \"migrations\"\nurl = \"sqlite://app.db\"\n",
        &[(
            "migrations/1_t.up.sql",
            "-- skein:bogus\nCREATE TABLE t (id INT);\n",
        )],
    );
    let doc = workspace
        .run(&["status", "--db", "nope", "--format", "json"])
        .expect(2)
        .json();
    assert_eq!(doc["error"]["where"]["database"], "nope", "{doc:#}");
    assert_eq!(doc["error"]["where"]["argument"], "--db", "{doc:#}");
    let doc = workspace
        .run(&["status", "--profile", "prod", "--format", "json"])
        .expect(2)
        .json();
    assert_eq!(doc["error"]["where"]["profile"], "prod", "{doc:#}");
    assert_eq!(doc["error"]["where"]["file"], "skein.toml", "{doc:#}");
    assert_eq!(doc["profile"], "prod", "{doc:#}");
    // A migration file it cannot use fails its database, located in the file.
    let doc = workspace.run(&["up", "--format", "json"]).expect(1).json();
    let error = &doc["databases"][0]["error"];
    assert_eq!(error["file"], "migrations/1_t.up.sql", "{doc:#}");
    assert_eq!(error["line"], 1, "{doc:#}");
}

/// Only the report renderers write a command's result: no other module of the binary
/// writes to stdout.
#[test]
fn only_the_renderers_write_to_stdout() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    let mut folders = vec![src.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path != src.join("report") {
                    folders.push(path);
                }
                continue;
            }
            // redact.rs holds the writers themselves; manual.rs prints the completion
            // scripts and the man page, which are not reports.
            if path == src.join("redact.rs") || path == src.join("manual.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, line) in text.lines().enumerate() {
                let writes = ["redact::out", "println!", "print!(", "stdout()"]
                    .iter()
                    .any(|w| line.contains(w));
                if writes && !line.trim_start().starts_with("//") {
                    offenders.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}
