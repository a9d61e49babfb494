//! Human output of large fleets: counts per status, then only the databases that need a
//! look (every one with -v), a problem many databases share said once, name lists cut
//! after a screenful; JSON stays complete.

use crate::support::*;

/// SQLite model databases `m1`..`m{n}`, each with the migration `1_t`, with `expect`
/// rules that hold once it is applied.
fn models(n: usize) -> Workspace {
    let config = "[default]\nconcurrency = 4\n\n[default.models]\ndir = \"models\"\nurl = \"sqlite://data/{model}.db\"\n\n[default.models.expect]\nrequired_tables = [\"t\"]\n";
    let files: Vec<(String, &str)> = (1..=n)
        .map(|i| {
            (
                format!("models/m{i}/1_t.up.sql"),
                "CREATE TABLE t (id INT);\n",
            )
        })
        .collect();
    let files: Vec<(&str, &str)> = files.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    Workspace::new(config, &files)
}

/// The table row of database `name` in human output, if there is one.
fn row<'a>(out: &'a str, name: &str) -> Option<&'a str> {
    out.lines()
        .map(str::trim_end)
        .find(|line| line.split_whitespace().next() == Some(name))
}

#[test]
fn status_of_a_large_up_to_date_fleet_is_a_summary_and_v_lists_every_row() {
    let workspace = models(300);
    workspace.run(&["up"]).expect(0);
    let out = workspace.run(&["status"]).expect(0).stdout();
    assert!(out.lines().count() < 30, "{out}");
    assert_eq!(out.trim_end(), "300 databases: 300 up to date", "{out}");
    let every = workspace.run(&["status", "-v"]).expect(0).stdout();
    for i in 1..=300 {
        let name = format!("m{i}");
        assert!(row(&every, &name).is_some(), "{name} in:\n{every}");
    }
    let report = workspace
        .run(&["status", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(report["databases"].as_array().unwrap().len(), 300);
}

#[test]
fn status_of_a_large_fleet_lists_the_databases_behind_and_with_problems() {
    let workspace = models(300);
    workspace.run(&["up"]).expect(0);
    workspace.write("models/m150/2_u.up.sql", "CREATE TABLE u (id INT);\n");
    workspace.write("models/m77/1_t.up.sql", "CREATE TABLE t (id BIGINT);\n");
    let out = workspace.run(&["status"]).expect(0).stdout();
    assert!(out.lines().count() < 30, "{out}");
    assert!(
        out.starts_with("300 databases: 298 up to date, 1 pending, 1 problems\n"),
        "{out}"
    );
    let pending = row(&out, "m150").unwrap_or_else(|| panic!("m150 in:\n{out}"));
    assert!(pending.ends_with("pending"), "{pending}");
    let problems = row(&out, "m77").unwrap_or_else(|| panic!("m77 in:\n{out}"));
    assert!(problems.ends_with("problems"), "{problems}");
    assert!(row(&out, "m1").is_none(), "{out}");
    assert!(
        out.contains("m77: models/m77/1_t.up.sql (version 1) was edited after it was applied"),
        "{out}"
    );
}

#[test]
fn a_problem_many_databases_share_is_said_once_with_their_names() {
    let workspace = models(300);
    for i in 1..=300 {
        workspace.write(
            &format!("models/m{i}/2_u.up.sql"),
            "CREATE TABLE u (id INT);\n",
        );
    }
    workspace.run(&["up"]).expect(0);
    // 250 databases lose the file of a migration they applied.
    for i in 1..=250 {
        std::fs::remove_file(workspace.path().join(format!("models/m{i}/2_u.up.sql"))).unwrap();
    }
    let out = workspace.run(&["status"]).expect(0).stdout();
    assert!(out.lines().count() < 30, "{out}");
    assert_eq!(
        out.matches("is applied but its file is missing").count(),
        1,
        "{out}"
    );
    assert!(
        out.contains(
            "\n250 databases: version 2 (u) is applied but its file is missing; restore the file, or run `skein repair` to forget the row\n  m1, m2, m3, "
        ),
        "{out}"
    );
    assert!(
        out.contains("m20, ... and 230 more (-v lists them all)"),
        "{out}"
    );
    // `up` refuses them, and says why once.
    let run = workspace.run(&["up"]).expect(1);
    let err = run.stderr();
    assert!(err.lines().count() < 30, "{err}");
    assert!(
        err.starts_with("250 databases failed: m1, m2, m3, "),
        "{err}"
    );
    assert_eq!(
        err.matches("is applied but its file is missing").count(),
        1,
        "{err}"
    );
    // JSON has every one, each with its error.
    let report = workspace.run(&["up", "--format", "json"]).expect(1).json();
    let failed = report["databases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "failed" && d["error"]["message"].is_string())
        .count();
    assert_eq!(failed, 250);
    // `repair` says what it changed once for all of them.
    let repaired = workspace
        .run(&["repair", "--group", "models"])
        .expect(0)
        .stdout();
    assert_eq!(repaired.lines().count(), 4, "{repaired}");
    assert!(
        repaired.starts_with("250 databases: 2 u: removed the row of the missing file\n  m1, "),
        "{repaired}"
    );
    assert!(
        repaired.contains("50 databases: nothing to change\n  m251, m252, "),
        "{repaired}"
    );
}

#[test]
fn up_over_a_large_fleet_prints_a_short_summary() {
    let workspace = models(300);
    let created = workspace.run(&["db", "create"]).expect(0).stdout();
    assert!(
        created.starts_with("300 databases: created\n  m1, m2, m3, "),
        "{created}"
    );
    assert!(created.lines().count() < 30, "{created}");
    let plan = workspace.run(&["up", "--dry-run"]).expect(0).stdout();
    assert_eq!(
        plan.lines().collect::<Vec<_>>(),
        [
            "300 databases: 1 step(s), base -> 1: m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, \
             m12, m13, m14, m15, m16, m17, m18, m19, m20, ... and 280 more (-v lists them all)",
            "  up   1 t"
        ]
    );
    let first = workspace.run(&["up"]).expect(0);
    let out = first.stdout();
    assert!(out.lines().count() < 30, "{out}");
    assert!(out.starts_with("300 databases: 300 ok\n"), "{out}");
    assert!(
        out.contains("... and 280 more (-v lists every database)"),
        "{out}"
    );
    let again = workspace.run(&["up"]).expect(0);
    assert_eq!(again.stdout().trim_end(), "300 databases: 300 up to date");
    assert_eq!(again.stderr(), "", "nothing per database off a terminal");
    let every = workspace.run(&["up", "-v"]).expect(0).stdout();
    assert!(row(&every, "m300").is_some(), "{every}");
}

#[test]
fn check_counts_the_databases_that_pass() {
    let workspace = models(300);
    workspace.run(&["up"]).expect(0);
    std::fs::remove_file(workspace.path().join("data/m9.db")).unwrap();
    let out = workspace.run(&["check"]).expect(3).stdout();
    assert!(out.lines().count() < 30, "{out}");
    assert!(
        out.contains("299 databases: every expect rule holds\n  m1, m2, m3, "),
        "{out}"
    );
    assert!(
        out.contains("m9: error: required table `t` is missing"),
        "{out}"
    );
}

#[test]
fn a_template_edited_after_a_fleet_applied_it_is_said_once() {
    let names: Vec<String> = (1..=300).map(|i| format!("\"m{i}\"")).collect();
    let config = format!(
        "[default]\nconcurrency = 4\n\n[default.models]\ntemplate = \"template\"\nnames = [{}]\nurl = \"sqlite://data/{{model}}.db\"\n",
        names.join(", ")
    );
    let workspace = Workspace::new(
        &config,
        &[("template/1_t.up.sql", "CREATE TABLE t (id INT);\n")],
    );
    workspace.run(&["up"]).expect(0);
    let out = workspace.run(&["status"]).expect(0).stdout();
    assert_eq!(out.trim_end(), "300 databases: 300 up to date", "{out}");
    workspace.write("template/1_t.up.sql", "CREATE TABLE t (id BIGINT);\n");
    let out = workspace.run(&["status"]).expect(0).stdout();
    assert!(out.lines().count() < 30, "{out}");
    assert_eq!(out.matches("was edited after").count(), 1, "{out}");
    assert!(
        out.contains(
            "\ntemplate/1_t.up.sql (version 1) was edited after 300 databases applied it; restore it, \
             or if the edit is intended run `skein repair` to record its new checksum\n  m1, m2, m3, "
        ),
        "{out}"
    );
    assert!(
        out.contains("m20, ... and 280 more (-v lists them all)"),
        "{out}"
    );
}

#[test]
fn tables_end_no_line_in_blanks() {
    let workspace = Workspace::new(
        "[default.databases.app]\nmigrations = \"m\"\nurl = \"sqlite://data/app.db\"\n",
        &[("m/1_t.up.sql", "CREATE TABLE t (id INT);\n")],
    );
    for args in [
        &["status"][..],
        &["up"],
        &["history", "--db", "app"],
        &["config", "show"],
    ] {
        let out = workspace.run(args).expect(0).stdout();
        let padded: Vec<&str> = out.lines().filter(|l| l.ends_with(' ')).collect();
        assert!(padded.is_empty(), "{args:?}: {padded:?}\n{out}");
    }
}
