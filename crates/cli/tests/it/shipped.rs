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

#[test]
fn a_json_error_about_a_secret_or_a_shard_says_where_it_is() {
    let db = skein_testkit::TestDb::new("where");
    let url = db.url.replacen(
        "postgres://postgres@",
        "postgres://postgres:${env:SKEIN_TEST_NO_SUCH_PASSWORD}@",
        1,
    );
    let workspace = Workspace::new(
        &format!(
            "[default.databases.app]\nmigrations = \"migrations\"\n\n[default.databases.app2]\nmigrations = \"migrations\"\nurl = \"{}\"\n\n[prod.databases.app]\nurl = \"{url}\"\n",
            db.url
        ),
        &[("migrations/1_t.up.sql", "CREATE TABLE t (id int);\n")],
    );
    let secret = workspace
        .run(&[
            "--profile",
            "prod",
            "status",
            "--db",
            "app",
            "--format",
            "json",
        ])
        .expect(2)
        .json();
    let place = &secret["error"]["where"];
    assert_eq!(place["database"], "app", "{secret:#}");
    assert_eq!(place["file"], "skein.toml", "{secret:#}");
    assert_eq!(place["line"], 9, "the line of the URL: {secret:#}");

    // The shard arguments, JOB_COMPLETION_INDEX, and the flag the error is about.
    for (args, index, flag) in [
        (
            &["up", "--shard", "auto", "--shards", "4"][..],
            None,
            "--shard",
        ),
        (
            &["up", "--shard", "auto", "--shards", "4"][..],
            Some("x"),
            "--shard",
        ),
        (&["up", "--shard", "4/4"][..], None, "--shard"),
        (&["up", "--shard", "one/4"][..], None, "--shard"),
        (&["status", "--shard", "auto"][..], Some("0"), "--shards"),
    ] {
        let mut command = workspace.command(args);
        command
            .args(["--db", "app2", "--format", "json"])
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("SKEIN_SHARDS");
        if let Some(index) = index {
            command.env("JOB_COMPLETION_INDEX", index);
        }
        let doc = Run(command.output().unwrap()).expect(2).json();
        assert_eq!(doc["error"]["kind"], "usage", "{args:?}: {doc:#}");
        assert_eq!(doc["error"]["where"]["argument"], flag, "{args:?}: {doc:#}");
    }
    assert_eq!(
        db.value("SELECT count(*)::text FROM pg_tables WHERE tablename = 't'")
            .as_deref(),
        Some("0"),
        "nothing ran"
    );
}
