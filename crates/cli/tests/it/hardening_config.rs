//! The configuration under attack: concurrent edits of `skein.toml`, a hostile `.env` or
//! environment, settings that would send a reference or reach one database twice.

use crate::support::*;
use skein_testkit::{TestDb, exec, postgres};
use std::process::Stdio;

/// A SQLite model fleet with a commented `skein.toml`.
fn sqlite_fleet() -> Workspace {
    let config = "# the fleet\n[default.models] # every model\ntemplate = \"template\"\n\
                  url = \"sqlite://{model}.db\"\nnames = [] # model new adds here\n";
    Workspace::new(
        config,
        &[("template/1_t.up.sql", "CREATE TABLE t (id INT);\n")],
    )
}

/// The names listed in the workspace's skein.toml; panics when it does not parse.
fn listed(workspace: &Workspace) -> Vec<String> {
    let text = std::fs::read_to_string(workspace.path().join("skein.toml")).unwrap();
    let document: toml_edit::DocumentMut = text
        .parse()
        .unwrap_or_else(|e| panic!("skein.toml does not parse: {e}\n{text}"));
    assert!(
        text.starts_with("# the fleet\n"),
        "comments are kept: {text}"
    );
    let mut names: Vec<String> = document["default"]["models"]["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

/// Runs `model new` for each name at once, with `readers` concurrent `status` runs going
/// on meanwhile; the exit codes of the `model new` runs, and of the readers.
fn model_new_at_once(
    workspace: &Workspace,
    names: &[String],
    readers: usize,
) -> (Vec<i32>, Vec<Run>) {
    let writers: Vec<_> = names
        .iter()
        .map(|name| {
            workspace
                .command(&["model", "new", name])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut reads = Vec::new();
    for _ in 0..readers {
        reads.push(Run(workspace.command(&["status"]).output().unwrap()));
    }
    let codes = writers
        .into_iter()
        .map(|child| Run(child.wait_with_output().unwrap()).code())
        .collect();
    (codes, reads)
}

#[test]
fn concurrent_model_new_on_sqlite_keeps_every_name_and_readers_never_fail() {
    for round in 0..2 {
        let workspace = sqlite_fleet();
        let names: Vec<String> = (0..8).map(|i| format!("m{round}_{i}")).collect();
        let (codes, reads) = model_new_at_once(&workspace, &names, 20);
        assert!(codes.iter().all(|&c| c == 0), "round {round}: {codes:?}");
        assert_eq!(listed(&workspace), names, "round {round}");
        for name in &names {
            assert!(
                workspace.path().join(format!("{name}.db")).exists(),
                "{name}"
            );
        }
        for read in reads {
            assert!(
                read.code() == 0 || read.code() == 3,
                "a reader failed: {}",
                read.stderr()
            );
        }

        // The same name eight times: one lists it and makes its database, the others are
        // refused, and the one name is listed once.
        let same = vec!["twin".to_owned(); 8];
        let (codes, _) = model_new_at_once(&workspace, &same, 0);
        assert_eq!(codes.iter().filter(|&&c| c == 0).count(), 1, "{codes:?}");
        let mut expected = names.clone();
        expected.push("twin".to_owned());
        expected.sort();
        assert_eq!(listed(&workspace), expected);
        assert!(workspace.path().join("twin.db").exists());
    }
}

#[test]
fn concurrent_model_new_on_postgres_lists_every_database_it_makes() {
    let base = postgres().admin_url.rsplit_once('/').unwrap().0.to_owned();
    let prefix = format!("skein_test_cmn_{}", std::process::id());
    let config = format!(
        "# the fleet\n[default.models] # every model\ntemplate = \"template\"\n\
         url = \"{base}/{prefix}_{{model}}\"\nnames = []\n"
    );
    let workspace = Workspace::new(
        &config,
        &[("template/1_t.up.sql", "CREATE TABLE t (id INT);\n")],
    );
    let made = || -> Vec<String> {
        let probe = TestDb::new("cmn_probe");
        let mut names: Vec<String> = probe
            .column(&format!(
                "SELECT substr(datname, {}) FROM pg_database WHERE datname LIKE '{prefix}\\_%'",
                prefix.len() + 2
            ))
            .into_iter()
            .flatten()
            .collect();
        names.sort();
        names
    };
    let names: Vec<String> = (0..8).map(|i| format!("p{i}")).collect();
    let (codes, reads) = model_new_at_once(&workspace, &names, 10);
    let same = vec!["twin".to_owned(); 8];
    let (same_codes, _) = model_new_at_once(&workspace, &same, 0);
    let listed_now = listed(&workspace);
    let made_now = made();
    for name in made_now.iter().chain(&listed_now) {
        exec(
            &postgres().admin_url,
            &format!("DROP DATABASE IF EXISTS \"{prefix}_{name}\" WITH (FORCE)"),
        );
    }
    assert!(codes.iter().all(|&c| c == 0), "{codes:?}");
    assert_eq!(
        same_codes.iter().filter(|&&c| c == 0).count(),
        1,
        "{same_codes:?}"
    );
    let mut expected = names.clone();
    expected.push("twin".to_owned());
    assert_eq!(listed_now, expected);
    assert_eq!(
        made_now, expected,
        "every database made is listed, and no other"
    );
    // A reader may find a model listed whose database is still being made (exit 1), but
    // never a configuration it cannot read (exit 2).
    for read in reads {
        assert_ne!(read.code(), 2, "{}", read.stderr());
    }
}

#[test]
fn a_failed_model_new_takes_back_only_its_own_name() {
    let base = postgres().admin_url.rsplit_once('/').unwrap().0.to_owned();
    let prefix = format!("skein_test_undo_{}", std::process::id());
    let config = format!(
        "# the fleet\n[default.models]\ntemplate = \"template\"\n\
         url = \"{base}/{prefix}_{{model}}\"\nnames = []\n"
    );
    // `slow` fails after a while; `quick` is listed while it runs.
    let template = "{% if model == 'slow' %}SELECT pg_sleep(1.5);\nCREATE TABLE broken (;\n\
                    {% else %}CREATE TABLE t (id INT);\n{% endif %}";
    let workspace = Workspace::new(&config, &[("template/1_t.up.sql", template)]);
    let slow = workspace
        .command(&["model", "new", "slow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let quick = workspace.run(&["model", "new", "quick"]);
    let slow = Run(slow.wait_with_output().unwrap());
    let names = listed(&workspace);
    for name in ["slow", "quick"] {
        exec(
            &postgres().admin_url,
            &format!("DROP DATABASE IF EXISTS \"{prefix}_{name}\" WITH (FORCE)"),
        );
    }
    quick.expect(0);
    assert_eq!(slow.code(), 1, "{}", slow.stderr());
    assert_eq!(names, vec!["quick".to_owned()]);
}

#[test]
fn a_syntax_error_in_skein_toml_is_shown_whatever_the_profile() {
    let workspace = Workspace::new(
        "[default.databases.app]\nmigrations = \"m\"\nurl = \"sqlite://app.db\"\n\n[prod]\nprotected = tru\n",
        &[("m/1_t.up.sql", "CREATE TABLE t (id INT);\n")],
    );
    for args in [&["--profile", "prod", "status"][..], &["status"]] {
        let run = workspace.run(args).expect(2);
        let err = run.stderr();
        assert!(err.contains("skein.toml:6"), "{args:?}: {err}");
        assert!(!err.contains("is not defined"), "{args:?}: {err}");
    }
    let run = workspace
        .run(&["--profile", "prod", "--format", "json", "status"])
        .expect(2);
    let error = &run.json()["error"];
    assert_eq!(error["where"]["line"], 6, "{error}");
}

#[test]
fn the_environment_cannot_lift_protected() {
    let config = "[default.databases.app]\nmigrations = \"m\"\nurl = \"sqlite://app.db\"\n\n\
                  [prod]\nprotected = true\n";
    let workspace = Workspace::new(config, &[("m/1_t.up.sql", "CREATE TABLE t (id INT);\n")]);
    std::fs::create_dir(workspace.path().join("sub")).unwrap();
    workspace.run(&["up"]).expect(0);
    let database = workspace.path().join("app.db");
    let drop_from = |dir: &std::path::Path, env: &[(&str, &str)]| {
        let mut command = workspace.command(&["--profile", "prod", "db", "drop", "--yes"]);
        command.current_dir(dir).envs(env.iter().copied());
        Run(command.output().unwrap())
    };
    // From the environment.
    let run = drop_from(workspace.path(), &[("SKEIN_PROTECTED", "false")]).expect(2);
    assert!(
        run.stderr().contains("SKEIN_PROTECTED cannot lift"),
        "{}",
        run.stderr()
    );
    assert!(run.stderr().contains("is protected"), "{}", run.stderr());
    assert!(database.exists());
    // From a .env beside skein.toml, run from a folder below it.
    workspace.write(".env", "SKEIN_PROTECTED=false\n");
    let run = drop_from(&workspace.path().join("sub"), &[]).expect(2);
    assert!(
        run.stderr().contains("SKEIN_PROTECTED cannot lift"),
        "{}",
        run.stderr()
    );
    assert!(database.exists());
    // The environment may still protect a profile that is not.
    std::fs::remove_file(workspace.path().join(".env")).unwrap();
    let mut command = workspace.command(&["db", "drop", "--yes"]);
    command.env("SKEIN_PROTECTED", "true");
    Run(command.output().unwrap()).expect(2);
    assert!(database.exists());
}

#[test]
fn a_dotenv_that_does_not_parse_is_used_not_at_all_and_a_nul_byte_is_no_panic() {
    let db = TestDb::new("dotenv_broken");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("migrations")).unwrap();
    std::fs::write(
        dir.path().join("migrations/1_t.up.sql"),
        "CREATE TABLE t (id INT);\n",
    )
    .unwrap();
    let run_in = |args: &[&str]| {
        Run(std::process::Command::new(skein())
            .current_dir(dir.path())
            .args(args)
            .env_remove("DATABASE_URL")
            .output()
            .unwrap())
    };
    // The first line is fine, the second is not: the first is not used either.
    std::fs::write(
        dir.path().join(".env"),
        format!("DATABASE_URL={}\nPASSWORD s3cret\n", db.url),
    )
    .unwrap();
    let run = run_in(&["status"]).expect(2);
    let err = run.stderr();
    assert!(err.contains("line 2 does not parse"), "{err}");
    assert!(err.contains("none of it was used"), "{err}");
    assert!(err.contains("no DATABASE_URL"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");

    std::fs::write(
        dir.path().join(".env"),
        format!("DATABASE_URL={}\nTOKEN=a\0b\n", db.url),
    )
    .unwrap();
    let run = run_in(&["status"]).expect(2);
    assert!(
        run.stderr().contains("line 2 holds a NUL byte"),
        "{}",
        run.stderr()
    );

    std::fs::write(
        dir.path().join(".env"),
        format!("DATABASE_URL={}\n", db.url),
    )
    .unwrap();
    run_in(&["status"]).expect(0);
}

/// An infra PostgreSQL database with a `registry` table, and model databases named by it.
fn registry_fleet(tag: &str) -> (TestDb, String, Workspace) {
    let infra = TestDb::new(tag);
    let base = postgres().admin_url.rsplit_once('/').unwrap().0.to_owned();
    let prefix = format!("skein_test_{tag}_m{}", std::process::id());
    let config = format!(
        "[default.databases.infra]\nmigrations = \"infra\"\nurl = \"{}\"\n\n\
         [default.models]\ntemplate = \"template\"\nurl = \"{base}/{{model}}\"\n\
         names_from = {{ db = \"infra\", query = \"SELECT name, chain FROM registry\" }}\n",
        infra.url
    );
    let workspace = Workspace::new(
        &config,
        &[
            (
                "infra/1_registry.up.sql",
                "CREATE TABLE registry (name TEXT, chain TEXT);\n",
            ),
            ("template/1_t.up.sql", "CREATE TABLE t (id INT);\n"),
        ],
    );
    workspace.run(&["up", "--db", "infra"]).expect(0);
    (infra, prefix, workspace)
}

#[test]
fn a_model_that_is_the_infra_database_is_refused_before_anything_runs() {
    let (infra, prefix, workspace) = registry_fleet("same_db");
    let model = format!("{prefix}_a");
    infra.exec(&format!(
        "INSERT INTO registry VALUES ('{}', 'x'), ('{model}', 'y')",
        infra.name
    ));
    // `up` migrates infra first (its query needs it), so it fails (1) rather than refuses;
    // no model is touched either way.
    for (args, code) in [
        (&["up", "--create"][..], 1),
        (&["status"], 2),
        (&["repair", "--db", &infra.name], 2),
    ] {
        let run = workspace.run(args).expect(code);
        let err = run.stderr();
        assert!(
            err.contains(&format!(
                "databases `infra` and `{}` are one database",
                infra.name
            )) || err.contains(&format!(
                "databases `{}` and `infra` are one database",
                infra.name
            )),
            "{args:?}: {err}"
        );
    }
    assert_eq!(
        infra
            .value("SELECT count(*)::text FROM skein_history")
            .as_deref(),
        Some("1"),
        "infra's history is untouched"
    );
    let probe = TestDb::new("same_db_probe");
    assert_eq!(
        probe
            .value(&format!(
                "SELECT count(*)::text FROM pg_database WHERE datname = '{model}'"
            ))
            .as_deref(),
        Some("0"),
        "no model database was made"
    );
}

#[test]
fn a_model_listed_twice_with_different_variables_is_refused() {
    let (infra, prefix, workspace) = registry_fleet("twice");
    let model = format!("{prefix}_a");
    // The same row twice is one model.
    infra.exec(&format!(
        "INSERT INTO registry VALUES ('{model}', 'x'), ('{model}', 'x')"
    ));
    let created = workspace.run(&["up", "--create", "--format", "json"]);
    let run = workspace.run(&["status", "--format", "json"]);
    infra.exec(&format!("INSERT INTO registry VALUES ('{model}', 'y')"));
    let refused = workspace.run(&["status"]);
    exec(
        &postgres().admin_url,
        &format!("DROP DATABASE IF EXISTS \"{model}\" WITH (FORCE)"),
    );
    created.expect(0);
    assert_eq!(
        run.expect(0).json()["databases"].as_array().unwrap().len(),
        2
    );
    let run = refused.expect(2);
    assert!(
        run.stderr().contains(&format!(
            "lists model `{model}` twice, with different `chain`"
        )),
        "{}",
        run.stderr()
    );
}

#[test]
fn references_in_sql_settings_and_vars_are_resolved_never_sent() {
    let infra = TestDb::new("refs_sql");
    let base = postgres().admin_url.rsplit_once('/').unwrap().0.to_owned();
    let model = format!("skein_test_refs_m{}", std::process::id());
    let config = format!(
        "[default]\ninit_sql = [\"SET application_name = '${{env:REFS_T_APP}}'\", \"DO $$ BEGIN PERFORM 1; END $$\"]\n\n\
         [default.databases.infra]\nmigrations = \"infra\"\nurl = \"{}\"\n\n\
         [default.models]\ntemplate = \"template\"\nurl = \"{base}/{{model}}\"\n\
         names_from = {{ db = \"infra\", query = \"SELECT name FROM registry WHERE chain = '${{env:REFS_T_CHAIN}}'\" }}\n\n\
         [default.models.vars.{model}]\nlabel = \"${{env:REFS_T_LABEL}}\"\n",
        infra.url
    );
    let workspace = Workspace::new(
        &config,
        &[
            (
                "infra/1_registry.up.sql",
                "CREATE TABLE registry (name TEXT, chain TEXT);\n",
            ),
            (
                "template/1_t.up.sql",
                "CREATE TABLE t AS SELECT current_setting('application_name') AS app, text '{{ label }}' AS label;\n",
            ),
        ],
    );
    let run = |args: &[&str]| {
        let mut command = workspace.command(args);
        command
            .env("REFS_T_APP", "from-env")
            .env("REFS_T_CHAIN", "main")
            .env("REFS_T_LABEL", "labelled");
        Run(command.output().unwrap())
    };
    run(&["up", "--db", "infra"]).expect(0);
    infra.exec(&format!(
        "INSERT INTO registry VALUES ('{model}', 'main'), ('skein_test_refs_other', 'test')"
    ));
    let up = run(&["up", "--create", "--format", "json"]);
    let row = pg_value(
        &skein_testkit::with_database(&postgres().admin_url, &model),
        "SELECT app || ' ' || label FROM t",
    );
    exec(
        &postgres().admin_url,
        &format!("DROP DATABASE IF EXISTS \"{model}\" WITH (FORCE)"),
    );
    let up = up.expect(0);
    assert_eq!(
        up.json()["databases"].as_array().unwrap().len(),
        2,
        "the query listed the one model of chain `main`"
    );
    assert_eq!(row.as_deref(), Some("from-env labelled"));

    // A secret manager in SQL is refused, naming the setting; nothing is sent.
    workspace.write(
        "skein.toml",
        &config.replace("${env:REFS_T_APP}", "${aws-sm:app#name}"),
    );
    let refused = run(&["status"]).expect(2);
    assert!(
        refused.stderr().contains("`init_sql`"),
        "{}",
        refused.stderr()
    );
    assert!(
        refused.stderr().contains("use ${env:NAME}"),
        "{}",
        refused.stderr()
    );
}

/// The first column of the first row of `sql` on the PostgreSQL database at `url`.
fn pg_value(url: &str, sql: &str) -> Option<String> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    skein_testkit::block_on(async move {
        use sqlx::Connection as _;
        let mut conn = sqlx::PgConnection::connect(&url).await.ok()?;
        sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut conn)
            .await
            .ok()
    })
}

#[test]
fn init_beside_a_database_url_configures_that_database_and_a_config_says_it_wins() {
    let db = TestDb::new("init_env");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        format!("DATABASE_URL={}\n", db.url),
    )
    .unwrap();
    let skein_here = |args: &[&str]| {
        Run(std::process::Command::new(skein())
            .current_dir(dir.path())
            .args(args)
            .env_remove("DATABASE_URL")
            .env_remove("SKEIN_PROFILE")
            .output()
            .unwrap())
    };
    let init = skein_here(&["init"]).expect(0);
    assert!(init.stdout().contains("(postgres)"), "{}", init.stdout());
    let config = std::fs::read_to_string(dir.path().join("skein.toml")).unwrap();
    assert!(config.contains("url = \"${env:DATABASE_URL}\""), "{config}");
    std::fs::write(
        dir.path().join("migrations/1_t.up.sql"),
        "CREATE TABLE t (id INT);\n",
    )
    .unwrap();
    let up = skein_here(&["up"]).expect(0);
    assert!(
        !up.stderr().contains("DATABASE_URL is set"),
        "{}",
        up.stderr()
    );
    assert_eq!(
        db.value("SELECT count(*)::text FROM skein_history")
            .as_deref(),
        Some("1")
    );

    // A skein.toml that names another database: it wins, and skein says so once.
    std::fs::write(
        dir.path().join("skein.toml"),
        "[default.databases.app]\nmigrations = \"migrations\"\nurl = \"sqlite://app.db\"\n",
    )
    .unwrap();
    let status = skein_here(&["status"]).expect(0);
    let err = status.stderr();
    assert_eq!(err.matches("DATABASE_URL is set but").count(), 1, "{err}");
    assert!(err.contains("skein.toml does not refer to it"), "{err}");
}
