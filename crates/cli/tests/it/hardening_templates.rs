//! Model templates under attack: renders that never end or grow without bound, an
//! expression too deep to compile, and a signal in the middle of a render.

use crate::support::*;
use std::time::{Duration, Instant};

/// A SQLite fleet of one model whose template has `text` as its migration.
fn fleet(text: &str) -> Workspace {
    Workspace::new(
        "[default.models]\ntemplate = \"template\"\nurl = \"sqlite://{model}.db\"\nnames = [\"m1\"]\n",
        &[("template/1_t.up.sql", text)],
    )
}

#[test]
fn a_render_that_never_ends_stops_at_a_limit_naming_file_and_model() {
    let workspace = fleet(
        "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}SELECT 1;\n",
    );
    let started = Instant::now();
    let run = workspace.run(&["status"]).expect(1);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let err = run.stderr();
    assert!(err.contains("template/1_t.up.sql"), "{err}");
    assert!(err.contains("`m1`"), "{err}");
    assert!(err.contains("limit"), "{err}");
}

#[test]
fn a_render_that_grows_without_bound_stops_at_64_mib() {
    let workspace = fleet("{% for a in range(100) %}{{ 'x' * 1000000 }}{% endfor %}SELECT 1;\n");
    let run = workspace.run(&["status"]).expect(1);
    let err = run.stderr();
    assert!(err.contains("64 MiB"), "{err}");
    assert!(
        err.contains("template/1_t.up.sql") && err.contains("`m1`"),
        "{err}"
    );
}

#[test]
fn an_expression_too_deep_to_compile_is_refused_not_a_crash() {
    let terms = vec!["1"; 200_000].join(" ~ ");
    let workspace = fleet(&format!("SELECT '{{{{ {terms} }}}}';\n"));
    let run = workspace.run(&["status"]).expect(1);
    let err = run.stderr();
    assert!(
        err.contains("too deep") || err.contains("too long"),
        "{err}"
    );
    assert!(err.contains("template/1_t.up.sql"), "{err}");
}

#[cfg(unix)]
#[test]
fn sigterm_during_a_render_ends_it_at_once() {
    let workspace = fleet(
        "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}SELECT 1;\n",
    );
    let child = workspace
        .command(&["status"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let sent = Instant::now();
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "{:?}",
        sent.elapsed()
    );
    assert_eq!(
        output.status.code(),
        Some(143),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// An infra SQLite database whose `registry` rows name the models and give `label`.
fn registry_fleet(template: &str) -> Workspace {
    Workspace::new(
        "[default.databases.infra]\nmigrations = \"infra\"\nurl = \"sqlite://infra.db\"\n\n\
         [default.models]\ntemplate = \"template\"\nurl = \"sqlite://{model}.db\"\n\
         names_from = { db = \"infra\", query = \"SELECT name, label, tbl FROM registry\" }\n",
        &[
            (
                "infra/1_registry.up.sql",
                "CREATE TABLE registry (name TEXT, label TEXT, tbl TEXT);\n",
            ),
            ("template/1_t.up.sql", template),
        ],
    )
}

#[test]
fn registry_values_reach_the_sql_quoted_by_the_literal_and_ident_filters() {
    let workspace = registry_fleet(
        "CREATE TABLE {{ tbl | ident }} (label TEXT);\nINSERT INTO {{ tbl | ident }} VALUES ({{ label | literal }});\n",
    );
    workspace.run(&["up", "--db", "infra"]).expect(0);
    let hostile = "x'); CREATE TABLE pwned (id int); --";
    sqlite(
        &workspace.path().join("infra.db"),
        &format!(
            "INSERT INTO registry VALUES ('m1', '{}', 'my \"odd\" table')",
            hostile.replace('\'', "''")
        ),
    )
    .unwrap();
    workspace.run(&["up"]).expect(0);
    let model = workspace.path().join("m1.db");
    assert_eq!(
        sqlite_text(&model, "SELECT label FROM \"my \"\"odd\"\" table\""),
        hostile
    );
    assert_eq!(
        sqlite_text(
            &model,
            "SELECT CAST(count(*) AS TEXT) FROM sqlite_master WHERE name = 'pwned'"
        ),
        "0"
    );
    // No warning for quoted placeholders.
    let lint = workspace
        .run(&["lint", "--since", "0", "--format", "json"])
        .expect(0);
    assert!(
        !lint.stdout().contains("template-placeholder"),
        "{}",
        lint.stdout()
    );
}

#[test]
fn lint_warns_on_an_unquoted_placeholder_and_a_control_character_is_refused() {
    let workspace =
        registry_fleet("CREATE TABLE t (label TEXT);\nINSERT INTO t VALUES ('{{ label }}');\n");
    workspace.run(&["up", "--db", "infra"]).expect(0);
    sqlite(
        &workspace.path().join("infra.db"),
        "INSERT INTO registry VALUES ('m1', 'plain', 't')",
    )
    .unwrap();
    let lint = workspace.run(&["lint", "--format", "json"]).expect(0);
    let findings = lint.json()["databases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| {
            d["lint"]["findings"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|f| f["rule"] == "template-placeholder")
        .count();
    assert_eq!(findings, 1, "{}", lint.stdout());
    sqlite(
        &workspace.path().join("infra.db"),
        "UPDATE registry SET label = 'a' || char(10) || 'b'",
    )
    .unwrap();
    let run = workspace.run(&["up"]).expect(1);
    assert!(
        run.stderr()
            .contains("the variable `label` holds a control character (U+000A)"),
        "{}",
        run.stderr()
    );
}
