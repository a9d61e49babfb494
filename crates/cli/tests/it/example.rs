//! The example workspace of the repository, on its embedded SQLite default.

use crate::support::*;
use std::path::Path;

/// Held by the tests that migrate the example's production databases (`indexer_shared`
/// and the models, fixed names) on the password-checking server.
pub static PROD_DATABASES: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

pub fn example() -> Workspace {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let config = std::fs::read_to_string(repo.join("skein.toml")).unwrap();
    let workspace = Workspace::new(&config, &[]);
    copy_dir(&repo.join("database"), &workspace.path().join("database"));
    copy_dir(&repo.join("templates"), &workspace.path().join("templates"));
    workspace
}

#[test]
fn up_migrates_the_example_then_reports_up_to_date() {
    let workspace = example();
    let first = workspace.run(&["up", "--format", "json"]).expect(0);
    let report = first.json();
    let databases = report["databases"].as_array().unwrap();
    let names: Vec<&str> = databases
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["infra", "blub_test"],
        "infra first: the models depend on it"
    );
    for db in databases {
        assert_eq!(db["status"], "ok");
        assert!(!db["steps"].as_array().unwrap().is_empty());
        assert!(db["version_before"].is_null());
    }
    assert!(workspace.path().join(".skein/indexer_shared.db").is_file());
    assert!(workspace.path().join(".skein/blub_test.db").is_file());

    let second = workspace.run(&["up"]).expect(0);
    assert_eq!(
        second.stdout().matches("up to date").count(),
        2,
        "{}",
        second.stdout()
    );

    let status = workspace
        .run(&["status", "--check", "--format", "json"])
        .expect(0)
        .json();
    for db in status["databases"].as_array().unwrap() {
        assert_eq!(db["status"], "up_to_date");
        assert_eq!(db["version_after"], db["head"]);
        assert_eq!(db["pending"], 0);
    }
    // From a subfolder, skein finds skein.toml above and the same SQLite files.
    let mut from_below = workspace.command(&["status", "--db", "infra"]);
    from_below.current_dir(workspace.path().join("database"));
    let out = from_below.output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));
}

#[test]
fn down_and_redo_on_the_example() {
    let workspace = example();
    workspace.run(&["up", "-q"]).expect(0);
    let down = workspace
        .run(&[
            "down",
            "--db",
            "blub_test",
            "--steps",
            "2",
            "--format",
            "json",
        ])
        .expect(0)
        .json();
    let steps = versions_in(&down, "steps");
    assert_eq!(
        steps,
        [20240310090000, 20240301123000],
        "newest first: blub_test's own migration, then the template's"
    );
    workspace.run(&["status", "--check"]).expect(3);
    workspace.run(&["redo", "--db", "blub_test"]).expect(0);
    workspace.run(&["up", "-q"]).expect(0);
    workspace
        .run(&["down", "--db", "blub_test", "--to", "base"])
        .expect(0);
    let history = workspace
        .run(&["history", "--db", "blub_test", "--format", "json"])
        .expect(0)
        .json();
    let states = migration_states(&history);
    assert_eq!(states, ["pending", "pending", "pending", "pending"]);
}

#[test]
fn a_template_migration_reaches_every_model_and_a_new_model_starts_at_head() {
    let workspace = example();
    workspace.run(&["up", "-q"]).expect(0);
    let new = workspace
        .run(&[
            "new",
            "--group",
            "models",
            "add tx index",
            "--format",
            "json",
        ])
        .expect(0)
        .json();
    let files: Vec<&str> = new["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 2);
    assert!(
        files.iter().all(|f| f.starts_with("templates/model/")),
        "{files:?}"
    );
    let version = new["version"].as_i64().unwrap();
    // Unwritten, it is refused; written, it reaches blub_test.
    workspace.run(&["up", "-q"]).expect(1);
    workspace.write(
        files[0],
        "-- {{ model }}: transactions by hash and status\nCREATE INDEX tx_hash_status_idx ON transaction_processing (tx_hash, status);\n",
    );
    workspace.write(files[1], "DROP INDEX tx_hash_status_idx;\n");
    let up = workspace.run(&["up", "--format", "json"]).expect(0).json();
    assert_eq!(up["databases"][1]["name"], "blub_test");
    assert_eq!(up["databases"][1]["version_after"], version);

    let made = workspace
        .run(&["model", "new", "aave_v3"])
        .expect(0)
        .stdout();
    assert!(made.contains("listed in skein.toml"), "{made}");
    assert!(!workspace.path().join("database/models/aave_v3").exists());
    let config = std::fs::read_to_string(workspace.path().join("skein.toml")).unwrap();
    assert!(config.contains("names = [\"aave_v3\"]"), "{config}");

    let again = workspace.run(&["up", "--format", "json"]).expect(0).json();
    let models: Vec<(&str, i64)> = again["databases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["name"] != "infra")
        .map(|d| {
            (
                d["name"].as_str().unwrap(),
                d["version_after"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(models, [("aave_v3", version), ("blub_test", version)]);
    let list = workspace
        .run(&["model", "list", "--format", "json"])
        .expect(0)
        .json();
    let listed: Vec<(&str, &str)> = list["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap(),
                d["model"]["listed_by"][0].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed, [("aave_v3", "names"), ("blub_test", "folder")]);
    assert_eq!(list["databases"][0]["model"]["template_head"], version);
    // blub_test has its own table besides the template's; aave_v3 has not.
    let drift = workspace.run(&["drift"]).expect(0).stdout();
    assert_eq!(
        drift.matches("matches its migrations").count(),
        3,
        "{drift}"
    );
}
