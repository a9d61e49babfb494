//! Connections whose passwords come from AWS Secrets Manager (moto) and GCP Secret Manager
//! (the stub), on a PostgreSQL cluster that checks passwords; one fetch per secret however
//! many databases use it; clear errors; and no secret value in anything skein prints.

use crate::support::*;
use skein_testkit::{
    GcpSecret, GcpStub, SCRAM_PASSWORD, TestDb, moto, password_server, silent_endpoint,
};
use std::process::Output;

const GCP_PASS: &str = "projects/skein-test/secrets/models-pass";

fn unique(tag: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "skein-test/{tag}/{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// Runs skein in `workspace` with moto's and the stub's environment and `extra` variables.
fn run_with(workspace: &Workspace, stub: &GcpStub, args: &[&str], extra: &[(&str, &str)]) -> Run {
    let mut command = workspace.command(args);
    command
        .envs(moto().env())
        .envs(stub.env())
        .envs(extra.iter().copied());
    Run(command.output().unwrap())
}

/// Every form the password could take in output: as is, and percent-encoded.
fn assert_no_secret(output: &Output) {
    let encoded =
        percent_encoding::utf8_percent_encode(SCRAM_PASSWORD, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    for (name, stream) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let text = String::from_utf8_lossy(stream);
        assert!(
            !text.contains(SCRAM_PASSWORD),
            "the password is in {name}:\n{text}"
        );
        assert!(
            !text.contains(&encoded),
            "the encoded password is in {name}:\n{text}"
        );
        assert!(
            !text.contains("s3cr3t"),
            "part of the password is in {name}:\n{text}"
        );
    }
}

#[test]
fn aws_and_gcp_secrets_open_a_password_checking_server_and_never_show() {
    let server = password_server();
    let infra = TestDb::on(server, "sec_infra");
    let models = [
        TestDb::on(server, "sec_model_a"),
        TestDb::on(server, "sec_model_b"),
    ];
    let aws_secret = unique("db");
    moto().put_secret(
        &aws_secret,
        &serde_json::json!({ "username": "postgres", "password": SCRAM_PASSWORD }).to_string(),
    );
    let stub = GcpStub::start(&[(GCP_PASS, GcpSecret::Value(SCRAM_PASSWORD.to_owned()))]);
    let at = server.authority();
    let config = format!(
        "[default.databases.infra]\nmigrations = \"infra\"\n\
         url = \"postgres://${{aws-sm:{aws_secret}#username}}:${{aws-sm:{aws_secret}#password}}@{at}/{}\"\n\n\
         [default.models]\ndir = \"models\"\nurl = \"postgres://postgres:${{gcp-sm:{GCP_PASS}}}@{at}/{{model}}\"\n\
         depends_on = [\"infra\"]\n",
        infra.name
    );
    let mut files = vec![(
        "infra/1_config.up.sql".to_owned(),
        "CREATE TABLE models (id BIGINT PRIMARY KEY);\n".to_owned(),
    )];
    for model in &models {
        files.push((
            format!("models/{}/1_trades.up.sql", model.name),
            "CREATE TABLE trades (id BIGINT PRIMARY KEY);\n".to_owned(),
        ));
    }
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_str()))
        .collect();
    let workspace = Workspace::new(&config, &files);

    let up = run_with(&workspace, &stub, &["up", "--format", "json", "-vvv"], &[]).expect(0);
    assert_no_secret(&up.0);
    let report = up.json();
    let statuses: Vec<&str> = report["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["ok", "ok", "ok"]);
    assert_eq!(
        models[1]
            .value("SELECT to_regclass('trades')::text")
            .as_deref(),
        Some("trades")
    );
    assert_eq!(stub.accesses(GCP_PASS), 1, "two model databases, one fetch");

    // Every read command, at every verbosity, with RUST_LOG=trace too: never the password.
    for args in [
        &["status", "-vvv"][..],
        &["history", "--db", "infra", "--format", "json"],
        &["config", "show"],
        &["config", "show", "--format", "json"],
        &["up", "--sql", "--db", "infra"],
        &["up", "--dry-run"],
    ] {
        let run = run_with(&workspace, &stub, args, &[("RUST_LOG", "trace")]);
        assert_no_secret(&run.0);
        assert_eq!(run.code(), 0, "{args:?}: {}", run.stderr());
    }
    let shown = run_with(&workspace, &stub, &["config", "show"], &[]).stdout();
    assert!(
        shown.contains(&format!("${{gcp-sm:{GCP_PASS}}}")),
        "{shown}"
    );

    // A wrong password in the secret: the models fail with the server's message, exit 1.
    stub.set(GCP_PASS, GcpSecret::Value("not-the-password".to_owned()));
    let wrong = run_with(&workspace, &stub, &["up", "-vvv"], &[("RUST_LOG", "trace")]).expect(1);
    assert_no_secret(&wrong.0);
    assert!(
        wrong
            .stderr()
            .contains("password authentication failed for user \"postgres\""),
        "{}",
        wrong.stderr()
    );
    assert!(
        wrong.stderr().contains(&models[0].name),
        "{}",
        wrong.stderr()
    );
    assert!(
        !wrong.stderr().contains("not-the-password"),
        "{}",
        wrong.stderr()
    );
}

#[test]
fn two_hundred_models_sharing_one_secret_fetch_it_once() {
    let data = tempfile::tempdir().unwrap();
    let secret = "projects/skein-test/secrets/data-dir";
    let stub = GcpStub::start(&[(secret, GcpSecret::Value(data.path().display().to_string()))]);
    let config = format!(
        "[default.models]\ndir = \"models\"\nurl = \"sqlite://${{gcp-sm:{secret}}}/{{model}}.db\"\n"
    );
    let files: Vec<(String, &str)> = (0..200)
        .map(|i| {
            (
                format!("models/model_{i:03}/1_a.up.sql"),
                "CREATE TABLE a (id INTEGER);\n",
            )
        })
        .collect();
    let files: Vec<(&str, &str)> = files.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    let workspace = Workspace::new(&config, &files);
    let run = run_with(&workspace, &stub, &["up", "-q", "--format", "json"], &[]).expect(0);
    assert_eq!(run.json()["databases"].as_array().unwrap().len(), 200);
    assert!(data.path().join("model_199.db").is_file());
    assert_eq!(
        stub.accesses(secret),
        1,
        "200 databases, one secret, one fetch"
    );
    assert_eq!(stub.tokens_issued(), 1);
}

#[test]
fn a_fleet_listed_by_a_query_still_fetches_each_secret_once() {
    // up runs in phases (infra, the names_from query, the models): one fetch for all.
    let data = tempfile::tempdir().unwrap();
    let secret = "projects/skein-test/secrets/data-dir";
    let stub = GcpStub::start(&[(secret, GcpSecret::Value(data.path().display().to_string()))]);
    let config = format!(
        r#"[default.databases.infra]
migrations = "infra"
url = "sqlite://${{gcp-sm:{secret}}}/infra.db"

[default.models]
template = "template"
url = "sqlite://${{gcp-sm:{secret}}}/{{model}}.db"
depends_on = ["infra"]
names_from = {{ db = "infra", query = "SELECT name FROM models" }}
"#
    );
    let workspace = Workspace::new(
        &config,
        &[
            (
                "infra/1_models.sql",
                "CREATE TABLE models (name TEXT);
INSERT INTO models VALUES ('m1'), ('m2');
",
            ),
            (
                "template/1_a.sql",
                "CREATE TABLE a (id INTEGER);
",
            ),
        ],
    );
    let run = run_with(&workspace, &stub, &["up", "-q", "--format", "json"], &[]).expect(0);
    assert_eq!(run.json()["databases"].as_array().unwrap().len(), 3);
    assert!(data.path().join("m2.db").is_file());
    assert_eq!(stub.accesses(secret), 1, "one secret, one fetch per run");
}

/// A one-database workspace whose URL is `url`, run with `up`; returns stderr after
/// checking the exit code is 2 (nothing touched).
fn config_error(url: &str, stub: &GcpStub, extra: &[(&str, &str)]) -> String {
    let config = format!("[default.databases.app]\nmigrations = \"m\"\nurl = \"{url}\"\n");
    let workspace = Workspace::new(&config, &[("m/1_a.up.sql", "SELECT 1;\n")]);
    let run = run_with(&workspace, stub, &["up"], extra).expect(2);
    let stderr = run.stderr();
    assert_eq!(stderr.trim().lines().count(), 1, "one paragraph: {stderr}");
    stderr
}

#[test]
fn secret_errors_name_the_database_and_the_reference_and_exit_2() {
    let stub = GcpStub::start(&[
        ("projects/skein-test/secrets/locked", GcpSecret::Denied),
        (
            "projects/skein-test/secrets/plain",
            GcpSecret::Value("plain text".to_owned()),
        ),
    ]);
    let json = unique("json");
    moto().put_secret(&json, r#"{"user":"app","password":"pw-value"}"#);
    let plain = unique("plain");
    moto().put_secret(&plain, "just-a-string");

    let cases: Vec<(String, &str)> = vec![
        (
            format!(
                "postgres://app:${{aws-sm:{}#password}}@127.0.0.1:1/db",
                unique("missing")
            ),
            "has no such secret",
        ),
        (
            format!("postgres://app:${{aws-sm:{json}#pasword}}@127.0.0.1:1/db"),
            "has no field `pasword` (its fields: password, user)",
        ),
        (
            format!("postgres://app:${{aws-sm:{plain}#password}}@127.0.0.1:1/db"),
            "is not JSON",
        ),
        (
            "postgres://app:${gcp-sm:projects/skein-test/secrets/plain#password}@127.0.0.1:1/db"
                .to_owned(),
            "is not JSON",
        ),
        (
            "postgres://app:${gcp-sm:projects/skein-test/secrets/locked}@127.0.0.1:1/db".to_owned(),
            "denied access",
        ),
        (
            "postgres://app:${gcp-sm:projects/skein-test/secrets/absent}@127.0.0.1:1/db".to_owned(),
            "has no projects/skein-test/secrets/absent",
        ),
        (
            "postgres://app:${env:SKEIN_TEST_UNSET_VARIABLE}@127.0.0.1:1/db".to_owned(),
            "is not set",
        ),
        (
            "postgres://app:${vault:x}@127.0.0.1:1/db".to_owned(),
            "unknown kind `vault`",
        ),
    ];
    for (url, expected) in cases {
        let stderr = config_error(&url, &stub, &[]);
        assert!(stderr.contains("database `app`"), "{url}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{url}: expected `{expected}` in: {stderr}"
        );
        assert!(
            !stderr.contains("pw-value")
                && !stderr.contains("just-a-string")
                && !stderr.contains("plain text"),
            "{stderr}"
        );
        if !url.contains("vault") {
            let reference = &url[url.find("${").unwrap()..=url.find('}').unwrap()];
            assert!(
                stderr.contains(reference),
                "{url}: the reference is named: {stderr}"
            );
        }
    }
}

#[test]
fn a_secret_manager_that_cannot_be_reached_is_a_failure_to_retry_not_a_config_error() {
    let stub = GcpStub::start(&[]);
    let config =
        |url: &str| format!("[default.databases.app]\nmigrations = \"m\"\nurl = \"{url}\"\n");
    let closed = format!("http://127.0.0.1:{}", skein_testkit::free_port());
    let silent = silent_endpoint();
    let gcp = "postgres://app:${gcp-sm:projects/skein-test/secrets/plain}@127.0.0.1:1/db";
    let aws = "postgres://app:${aws-sm:skein-test/any#password}@127.0.0.1:1/db";
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        // An endpoint that never answers: a timeout, said as such, within the time given.
        (
            gcp,
            vec![
                ("SKEIN_SECRETS__GCP_ENDPOINT", &silent),
                ("SKEIN_SECRETS__TIMEOUT", "1s"),
            ],
            "did not answer within 1s",
        ),
        (
            gcp,
            vec![("SKEIN_SECRETS__GCP_ENDPOINT", &closed)],
            "cannot reach GCP Secret Manager",
        ),
        (
            aws,
            vec![("AWS_ENDPOINT_URL_SECRETS_MANAGER", &closed)],
            "cannot reach AWS Secrets Manager",
        ),
    ];
    for (url, env, expected) in cases {
        let workspace = Workspace::new(&config(url), &[("m/1_a.up.sql", "SELECT 1;\n")]);
        let started = std::time::Instant::now();
        let run = run_with(&workspace, &stub, &["up"], &env).expect(1);
        assert!(run.stderr().contains(expected), "{url}: {}", run.stderr());
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        let json = run_with(&workspace, &stub, &["up", "--format", "json"], &env).expect(1);
        assert_eq!(
            json.json()["error"]["kind"],
            "unavailable",
            "{}",
            json.stdout()
        );
    }
}

#[test]
fn passwords_with_url_characters_work_as_parts_and_in_urls() {
    let server = password_server();
    let db = TestDb::on(server, "sec_parts");
    let stub = GcpStub::start(&[]);
    let (host, port) = server
        .authority()
        .split_once(':')
        .map(|(h, p)| (h.to_owned(), p.to_owned()))
        .unwrap();
    let config = format!(
        "[default.databases.app]\nmigrations = \"m\"\nhost = \"{host}\"\nport = {port}\nuser = \"postgres\"\n\
         password = \"${{env:SKEIN_TEST_PASSWORD}}\"\ndatabase = \"{}\"\noptions = {{ sslmode = \"disable\" }}\n",
        db.name
    );
    let workspace = Workspace::new(
        &config,
        &[("m/1_a.up.sql", "CREATE TABLE via_parts (id INT);\n")],
    );
    let run = run_with(
        &workspace,
        &stub,
        &["up", "-vvv"],
        &[
            ("SKEIN_TEST_PASSWORD", SCRAM_PASSWORD),
            ("RUST_LOG", "trace"),
        ],
    )
    .expect(0);
    assert_no_secret(&run.0);
    assert_eq!(
        db.value("SELECT to_regclass('via_parts')::text").as_deref(),
        Some("via_parts")
    );
    let shown = run_with(
        &workspace,
        &stub,
        &["config", "show"],
        &[("SKEIN_TEST_PASSWORD", SCRAM_PASSWORD)],
    );
    assert!(
        shown
            .stdout()
            .contains("postgres:${env:SKEIN_TEST_PASSWORD}@"),
        "{}",
        shown.stdout()
    );

    // The same password written literally in a URL, encoded by hand as a user must.
    let encoded =
        percent_encoding::utf8_percent_encode(SCRAM_PASSWORD, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let literal = format!(
        "[default.databases.app]\nmigrations = \"m\"\nurl = \"postgres://postgres:{encoded}@{}/{}\"\n",
        server.authority(),
        db.name
    );
    let workspace = Workspace::new(
        &literal,
        &[("m/1_a.up.sql", "CREATE TABLE via_parts (id INT);\n")],
    );
    let status = run_with(
        &workspace,
        &stub,
        &["status", "-vvv"],
        &[("RUST_LOG", "trace")],
    )
    .expect(0);
    assert_no_secret(&status.0);
    let shown = run_with(&workspace, &stub, &["config", "show"], &[]);
    assert!(
        shown.stdout().contains("postgres:***@"),
        "{}",
        shown.stdout()
    );
    assert_no_secret(&shown.0);

    // The password as a query parameter, as libpq and sqlx accept it (`?password=`), and
    // other secret-bearing parameters: never shown either, in errors, JSON or config show.
    let in_query = format!(
        "[default.databases.app]\nmigrations = \"m\"\n\
         url = \"postgres://postgres@{}/{}?sslmode=disable&password={encoded}\"\n\n\
         [default.databases.down]\nmigrations = \"m\"\n\
         url = \"postgres://postgres@127.0.0.1:1/{}?password={encoded}&sslpassword={encoded}\"\n\n\
         [default.databases.parts]\nmigrations = \"m\"\nhost = \"127.0.0.1\"\nport = 1\nuser = \"postgres\"\n\
         database = \"{}_p\"\noptions = {{ sslmode = \"disable\", password = \"{SCRAM_PASSWORD}\" }}\n",
        server.authority(),
        db.name,
        db.name,
        db.name,
    );
    let workspace = Workspace::new(
        &in_query,
        &[("m/1_a.up.sql", "CREATE TABLE via_parts (id INT);\n")],
    );
    let status = run_with(
        &workspace,
        &stub,
        &["status", "--db", "app", "-vvv"],
        &[("RUST_LOG", "trace")],
    )
    .expect(0);
    assert_no_secret(&status.0);
    for args in [
        &["status", "--connect-timeout", "1s", "-vvv"][..],
        &["status", "--connect-timeout", "1s", "--format", "json"],
        &[
            "up",
            "--db",
            "down",
            "--db",
            "parts",
            "--connect-timeout",
            "1s",
        ],
    ] {
        let failed = run_with(&workspace, &stub, args, &[("RUST_LOG", "trace")]).expect(1);
        assert_no_secret(&failed.0);
        assert!(
            failed.stdout().contains("password=***") || failed.stderr().contains("password=***"),
            "{args:?}: the URL is shown, its password hidden:\n{}\n{}",
            failed.stdout(),
            failed.stderr()
        );
    }
    for args in [
        &["config", "show"][..],
        &["config", "show", "--format", "json"],
    ] {
        let shown = run_with(&workspace, &stub, args, &[]).expect(0);
        assert_no_secret(&shown.0);
        assert!(
            shown.stdout().contains("&password=***")
                && shown.stdout().contains("?password=***&sslpassword=***")
                && shown.stdout().contains("sslmode=disable"),
            "{}",
            shown.stdout()
        );
    }
}

/// `${file:...}` reads at most 1 MiB: a wrong path (`/dev/zero` once read 2 GB before
/// running out of memory) is an error that names the setting, in a connection or not.
#[test]
fn a_secret_file_over_1_mib_is_refused_naming_the_setting() {
    let big = "x".repeat(2 * 1024 * 1024);
    let url = Workspace::new(
        "[default.databases.app]\nmigrations = \"m\"\nurl = \"sqlite://data/${file:big.txt}.db\"\n",
        &[("m/1_a.up.sql", "SELECT 1;\n"), ("big.txt", &big)],
    );
    let stderr = url.run(&["status"]).expect(2).stderr();
    assert!(
        stderr.contains("database `app`: cannot resolve `${file:big.txt}` in `databases.app.url`")
            && stderr.contains("big.txt is larger than 1 MiB"),
        "{stderr}"
    );
    let password = Workspace::new(
        "[default.models]\ndir = \"models\"\nhost = \"127.0.0.1\"\nuser = \"u\"\n\
         password = \"${file:/dev/zero}\"\ndatabase = \"{model}\"\n",
        &[("models/a/1_a.up.sql", "SELECT 1;\n")],
    );
    let stderr = password.run(&["status"]).expect(2).stderr();
    assert!(
        stderr.contains("cannot resolve `${file:/dev/zero}` in `models.password`")
            && stderr.contains("/dev/zero is larger than 1 MiB"),
        "{stderr}"
    );
    let table = Workspace::new(
        "[default]\nhistory_table = \"${file:/dev/zero}\"\n\n\
         [default.databases.app]\nmigrations = \"m\"\nurl = \"sqlite://data/app.db\"\n",
        &[("m/1_a.up.sql", "SELECT 1;\n")],
    );
    let stderr = table.run(&["status"]).expect(2).stderr();
    assert!(
        stderr.contains("`history_table` (skein.toml:2 [default]): `${file:/dev/zero}`: ")
            && stderr.contains("/dev/zero is larger than 1 MiB"),
        "{stderr}"
    );
}
