//! `--format html`, `--format markdown` and `skein report`: a fleet's page and summary
//! from real runs.

use crate::support::Workspace;

/// A SQLite fleet of `count` models; `m3`'s second migration does not parse.
fn fleet(count: usize) -> Workspace {
    let mut files = Vec::new();
    for i in 1..=count {
        files.push((
            format!("models/m{i}/1_init.up.sql"),
            format!("CREATE TABLE t{i} (id INTEGER);\n"),
        ));
    }
    files.push((
        "models/m3/2_broken.up.sql".to_owned(),
        "CREATE TABLE fine (id INTEGER);\n\nCREATE TABLE broken (;\n".to_owned(),
    ));
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    Workspace::new(
        "[default.models]\ndir = \"models\"\nurl = \"sqlite://dbs/{model}.db\"\n",
        &files,
    )
}

#[test]
fn a_fleet_s_page_has_a_row_per_database_the_failure_first_and_its_place() {
    let workspace = fleet(12);
    let page = workspace
        .run(&["up", "--format", "html"])
        .expect(1)
        .stdout();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert_eq!(page.matches("<tr data-status=").count(), 12, "{page}");
    let failed = page.find("id=\"h-failed\"").expect("a failed section");
    let table = page.find("id=\"databases\"").unwrap();
    assert!(failed < table, "the failures come before the table");
    assert!(
        page.contains("2_broken.up.sql:3"),
        "the failure's file and line: {page}"
    );
    // Counts with words, not colour alone.
    assert!(page.contains(">failed</span>: <strong id=\"count-failed\">1</strong>"));
    assert!(page.contains(">ok</span>: <strong id=\"count-ok\">11</strong>"));
    // Every database has its start and end: the timeline is drawn.
    assert_eq!(page.matches("class=\"bar\"").count(), 12);
    // Nothing leaves the page.
    for outside in ["http://", "https://", "src=", "href=", "@import", "url("] {
        assert!(!page.contains(outside), "{outside} in the page");
    }
}

#[test]
fn a_saved_json_report_makes_the_page_and_anything_else_is_refused() {
    let workspace = fleet(4);
    let json = workspace
        .run(&["up", "--format", "json"])
        .expect(1)
        .stdout();
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    for db in doc["databases"].as_array().unwrap() {
        assert!(
            db["started_at"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{db}"
        );
        assert!(db["finished_at"].as_str().is_some(), "{db}");
    }
    workspace.write("run.json", &json);
    let page = workspace.run(&["report", "run.json"]).expect(0).stdout();
    assert_eq!(page.matches("<tr data-status=").count(), 4);
    assert!(page.contains("2_broken.up.sql:3"));

    workspace.write("other.json", "{\"name\": \"not a report\"}");
    let refused = workspace.run(&["report", "other.json"]).expect(2);
    assert!(
        refused.stderr().contains("other.json: not a skein report"),
        "{}",
        refused.stderr()
    );
    assert!(refused.stdout().is_empty());
    let missing = workspace.run(&["report", "missing.json"]).expect(2);
    assert!(missing.stderr().contains("cannot read missing.json"));
}

#[test]
fn the_markdown_summary_lists_what_is_not_up_to_date() {
    let workspace = fleet(30);
    workspace.run(&["up"]).expect(1);
    let summary = workspace
        .run(&["status", "--format", "markdown"])
        .expect(0)
        .stdout();
    assert!(
        summary.starts_with("### skein status (profile default)"),
        "{summary}"
    );
    assert!(
        summary.contains("**30 databases**: 1 pending · 29 up to date"),
        "{summary}"
    );
    assert!(summary.contains("| m3 | pending | 1 | 0 |"), "{summary}");
    assert!(summary.lines().count() < 20, "{summary}");
    // Not for a command without databases.
    let refused = workspace
        .run(&["new", "--format", "markdown", "x"])
        .expect(2);
    assert!(
        refused
            .stderr()
            .contains("--format markdown and --format html are for commands")
    );
}
