//! Sets of databases of one kind beside `[models]`: each listed by names or by a query
//! of its own, selected by its name, shown by `model list` and `config show`.

use crate::support::*;

const CONFIG: &str = "[default.databases.infra]\nurl = \"sqlite://nodes/infra.db\"\nmigrations = \"infra\"\n\n\
[default.sets.miner]\nnames = [\"miner_1\", \"miner_2\"]\nurl = \"sqlite://nodes/{model}.db\"\ndepends_on = [\"infra\"]\n\n\
[default.sets.validator]\nnames_from = { db = \"infra\", query = \"SELECT name FROM nodes WHERE kind = 'validator'\" }\nurl = \"sqlite://nodes/{model}.db\"\n";

fn workspace() -> Workspace {
    let workspace = Workspace::new(
        CONFIG,
        &[
            (
                "infra/1_nodes.sql",
                "CREATE TABLE nodes (name TEXT PRIMARY KEY, kind TEXT NOT NULL);\n\
                 INSERT INTO nodes VALUES ('validator_1', 'validator'), ('validator_2', 'validator'), ('miner_9', 'miner');\n",
            ),
            (
                "templates/miner/1_jobs.sql",
                "CREATE TABLE weather_miner_jobs (id INTEGER PRIMARY KEY);\n",
            ),
            (
                "templates/validator/1_nodes.sql",
                "CREATE TABLE node_table (uid INTEGER PRIMARY KEY);\n",
            ),
        ],
    );
    std::fs::create_dir(workspace.path().join("nodes")).unwrap();
    workspace
}

#[test]
fn each_set_is_listed_its_own_way_and_selected_by_its_name() {
    let workspace = workspace();
    let up = workspace.run(&["up", "--format", "json"]).expect(0).json();
    let mut names: Vec<&str> = up["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|db| db["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["infra", "miner_1", "miner_2", "validator_1", "validator_2"],
        "the query lists the validators only: {up}"
    );
    let validators = workspace
        .run(&["status", "--group", "validator", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(
        validators["databases"].as_array().unwrap().len(),
        2,
        "{validators}"
    );

    let list = workspace.run(&["model", "list"]).expect(0).stdout();
    assert!(list.contains(" set "), "{list}");
    let row = list
        .lines()
        .find(|l| l.starts_with(" validator_1"))
        .unwrap();
    assert!(row.contains("validator  names_from"), "{list}");
    let json = workspace
        .run(&["model", "list", "--format", "json"])
        .expect(0)
        .json();
    assert!(
        json["databases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|db| db["model"]["set"] == "miner"),
        "{json}"
    );

    let shown = workspace
        .run(&["config", "show", "--db", "validator_1"])
        .expect(0)
        .stdout();
    assert!(shown.contains("templates/validator"), "{shown}");
    let mut moved = workspace.command(&["config", "show", "--db", "miner_1"]);
    moved.env("SKEIN_SETS__MINER__URL", "sqlite://nodes/x_{model}.db");
    let moved = Run(moved.output().unwrap()).expect(0).stdout();
    assert!(moved.contains("env SKEIN_SETS__MINER__URL"), "{moved}");
    assert!(moved.contains("x_miner_1.db"), "{moved}");

    // `new --group` with a group that two sets share is refused: it names the sets.
    let both = workspace
        .run(&["new", "--group", "models", "x"])
        .expect(2)
        .stderr();
    assert!(both.contains("--group miner, --group validator"), "{both}");
}
