//! What the repository ships, run as shipped: the environment a deploy system sets, the
//! GitHub Actions example, the README's own words.

use crate::support::*;

#[test]
fn skein_variables_that_are_not_settings_are_ignored_with_one_warning_each() {
    let db = skein_testkit::TestDb::new("envwarn");
    let workspace = Workspace::postgres(&db.url, &[("1_t.up.sql", "CREATE TABLE t (id int);\n")]);
    // What the GitHub Actions example sets at workflow level, and a typo under a database.
    let run = |args: &[&str]| {
        Run(workspace
            .command(args)
            .env("SKEIN_REPOSITORY", "https://example.invalid/skein")
            .env("SKEIN_REF", "main")
            .env("SKEIN_DATABASES__APP__URLL", "x")
            .output()
            .unwrap())
    };
    let status = run(&["status"]).expect(0);
    let stderr = status.stderr();
    for variable in [
        "SKEIN_REPOSITORY",
        "SKEIN_REF",
        "SKEIN_DATABASES__APP__URLL",
    ] {
        assert_eq!(
            stderr
                .lines()
                .filter(|l| l.contains("WARN") && l.contains(&format!("{variable} ")))
                .count(),
            1,
            "one warning naming {variable}: {stderr}"
        );
    }
    assert!(stderr.contains("did you mean `url`?"), "{stderr}");
    assert!(status.stdout().contains("pending"), "{}", status.stdout());
    run(&["up", "-q"]).expect(0);
    assert_eq!(
        db.value("SELECT count(*)::text FROM t").as_deref(),
        Some("0")
    );
    // The same typo in the file is still an error naming the file and line, even with
    // those variables set.
    let config = std::fs::read_to_string(workspace.path().join("skein.toml")).unwrap();
    workspace.write("skein.toml", &config.replace("url =", "urll ="));
    let typo = run(&["status"]).expect(2);
    assert!(
        typo.stderr()
            .contains("unknown setting `databases.app.urll` (skein.toml:3 [default])"),
        "{}",
        typo.stderr()
    );
}
