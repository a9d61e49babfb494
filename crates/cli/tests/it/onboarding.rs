//! How a new user meets skein: `init`, one database without a skein.toml (DATABASE_URL,
//! `.env`), Alembic-style targets, `show`, `db drop` / `db reset`, `wait`, completions and
//! the man page, colours, and IPv6 hosts.

use crate::support::*;
use skein_testkit::{FreezingProxy, TestDb, postgres};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// `skein` in `dir`, with no DATABASE_URL from the test's own environment.
fn skein_in(dir: &Path, args: &[&str]) -> Run {
    Run(bare(dir, args).output().unwrap())
}

fn bare(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(skein());
    command
        .current_dir(dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("SKEIN_PROFILE")
        .env_remove("SKEIN_CONFIG")
        .env_remove("NO_COLOR");
    command
}

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The only file `new` wrote in `dir/migrations` ending in `suffix`.
fn only(dir: &Path, suffix: &str) -> std::path::PathBuf {
    let found: Vec<_> = std::fs::read_dir(dir.join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found[0].clone()
}

#[test]
fn init_new_and_up_work_in_an_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let init = skein_in(dir, &["init", "--backend", "sqlite"]).expect(0);
    assert!(
        init.stdout().contains("wrote skein.toml"),
        "{}",
        init.stdout()
    );
    assert!(dir.join("migrations").is_dir());
    skein_in(dir, &["new", "create users"]).expect(0);
    std::fs::write(
        only(dir, ".up.sql"),
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
    )
    .unwrap();
    std::fs::write(only(dir, ".down.sql"), "DROP TABLE users;\n").unwrap();
    let up = skein_in(dir, &["up", "--format", "json"]).expect(0);
    assert_eq!(statuses_of(&up.json())["app"], "ok");
    assert_eq!(
        sqlite_text(
            &dir.join("app.db"),
            "SELECT name FROM sqlite_master WHERE name = 'users'"
        ),
        "users"
    );
    // It does not overwrite what is there.
    let before = std::fs::read_to_string(dir.join("skein.toml")).unwrap();
    let again = skein_in(dir, &["init", "--backend", "postgres"]).expect(2);
    assert!(
        again.stderr().contains("exists already"),
        "{}",
        again.stderr()
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("skein.toml")).unwrap(),
        before
    );
}

#[test]
fn init_for_postgres_reads_database_url_from_dot_env() {
    let db = TestDb::new("init_pg");
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    skein_in(dir, &["init", "--backend", "postgres"]).expect(0);
    write(dir, ".env", &format!("DATABASE_URL={}\n", db.url));
    write(dir, "migrations/1_t.up.sql", "CREATE TABLE t (id INT);\n");
    skein_in(dir, &["up"]).expect(0);
    assert_eq!(
        db.value("SELECT to_regclass('t')::text").as_deref(),
        Some("t")
    );
}

#[test]
fn without_a_config_dot_env_and_migrations_define_one_database() {
    let db = TestDb::new("dotenv");
    let other = TestDb::new("dotenv_env");
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    write(
        dir,
        ".env",
        &format!("# the app's database\nDATABASE_URL={}\n", db.url),
    );
    write(dir, "migrations/1_t.up.sql", "CREATE TABLE t (id INT);\n");
    write(dir, "migrations/2_u.sql", "CREATE TABLE u (id INT);\n");
    let up = skein_in(dir, &["up", "--format", "json"]).expect(0);
    assert_eq!(statuses_of(&up.json())[&db.name], "ok", "{}", up.stdout());
    assert_eq!(
        db.value("SELECT to_regclass('u')::text").as_deref(),
        Some("u")
    );

    // A variable already set wins over .env.
    let run = Run(bare(dir, &["up", "--format", "json"])
        .env("DATABASE_URL", &other.url)
        .output()
        .unwrap())
    .expect(0);
    assert_eq!(statuses_of(&run.json())[&other.name], "ok");
    assert_eq!(
        other.value("SELECT to_regclass('u')::text").as_deref(),
        Some("u")
    );

    // --no-dotenv reads no .env: no database at all.
    let none = skein_in(dir, &["--no-dotenv", "status"]).expect(2);
    assert!(none.stderr().contains("DATABASE_URL"), "{}", none.stderr());

    // --url and --migrations say the same without .env.
    let third = TestDb::new("dotenv_flags");
    write(dir, "elsewhere/1_v.up.sql", "CREATE TABLE v (id INT);\n");
    skein_in(
        dir,
        &[
            "--no-dotenv",
            "--url",
            &third.url,
            "--migrations",
            "elsewhere",
            "up",
        ],
    )
    .expect(0);
    assert_eq!(
        third.value("SELECT to_regclass('v')::text").as_deref(),
        Some("v")
    );
    assert_eq!(third.value("SELECT to_regclass('t')::text"), None);
}

#[test]
fn url_flags_next_to_a_config_file_are_refused() {
    let workspace = Workspace::new(
        "[default.databases.app]\nurl = \"sqlite://app.db\"\n",
        &[("database/app/1_t.up.sql", "CREATE TABLE t (id INT);\n")],
    );
    let run = workspace
        .run(&["--url", "sqlite://other.db", "up"])
        .expect(2);
    assert!(
        run.stderr().contains("skein.toml is here"),
        "{}",
        run.stderr()
    );
    assert!(!workspace.path().join("other.db").exists());
}

/// A one-database workspace on PostgreSQL with three migrations.
fn three(db: &TestDb) -> Workspace {
    Workspace::postgres(
        &db.url,
        &[
            ("20240101000000_a.up.sql", "CREATE TABLE a (id INT);\n"),
            ("20240101000000_a.down.sql", "DROP TABLE a;\n"),
            ("20240202000000_b.up.sql", "CREATE TABLE b (id INT);\n"),
            ("20240202000000_b.down.sql", "DROP TABLE b;\n"),
            ("20240303000000_c.up.sql", "CREATE TABLE c (id INT);\n"),
            ("20240303000000_c.down.sql", "DROP TABLE c;\n"),
        ],
    )
}

fn applied(db: &TestDb) -> Vec<String> {
    db.column("SELECT version::text FROM skein_history WHERE success ORDER BY version")
        .into_iter()
        .flatten()
        .collect()
}

#[test]
fn alembic_style_targets_move_one_database() {
    let db = TestDb::new("alembic_targets");
    let workspace = three(&db);
    workspace.run(&["upgrade", "+1"]).expect(0);
    assert_eq!(applied(&db), ["20240101000000"]);
    workspace.run(&["upgrade", "202402"]).expect(0);
    assert_eq!(applied(&db), ["20240101000000", "20240202000000"]);
    workspace.run(&["upgrade", "head"]).expect(0);
    assert_eq!(applied(&db).len(), 3);
    workspace.run(&["downgrade", "-1"]).expect(0);
    assert_eq!(applied(&db), ["20240101000000", "20240202000000"]);
    workspace.run(&["downgrade", "20240101000000"]).expect(0);
    assert_eq!(applied(&db), ["20240101000000"]);
    workspace.run(&["downgrade", "base"]).expect(0);
    assert!(applied(&db).is_empty());
    assert_eq!(db.value("SELECT to_regclass('a')::text"), None);

    // A prefix that begins several versions, or none, is a usage error naming them.
    let ambiguous = workspace.run(&["upgrade", "2024"]).expect(2);
    assert!(
        ambiguous
            .stderr()
            .contains("begins 3 versions (20240101000000, 20240202000000, 20240303000000)"),
        "{}",
        ambiguous.stderr()
    );
    let unknown = workspace.run(&["downgrade", "1999"]).expect(2);
    assert!(unknown.stderr().contains("`1999`"), "{}", unknown.stderr());
    let word = workspace.run(&["upgrade", "latest"]).expect(2);
    assert!(
        word.stderr().contains("head, base, +N, -N"),
        "{}",
        word.stderr()
    );
    assert!(applied(&db).is_empty());
}

#[test]
fn show_prints_one_migration_with_its_state_and_sql() {
    let db = TestDb::new("show");
    let workspace = three(&db);
    workspace.run(&["up", "20240202000000"]).expect(0);
    let head = workspace.run(&["show", "head"]).expect(0);
    let out = head.stdout();
    assert!(out.contains("migration:   20240303000000 c"), "{out}");
    assert!(out.contains("state:       pending"), "{out}");
    assert!(out.contains("-- up\nCREATE TABLE c (id INT);"), "{out}");
    assert!(out.contains("-- down\nDROP TABLE c;"), "{out}");
    let json = workspace
        .run(&["show", "2024020", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(json["command"], "show");
    assert_eq!(json["version"], 20240202000000i64);
    assert_eq!(json["state"], "applied");
    assert_eq!(json["applied"]["success"], true);
    assert!(json["checksum"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(json["up_sql"], "CREATE TABLE b (id INT);\n");
}

#[test]
fn db_reset_is_refused_on_a_protected_profile_and_recreates_elsewhere() {
    let db = TestDb::new("reset");
    let workspace = three(&db);
    let config = std::fs::read_to_string(workspace.path().join("skein.toml")).unwrap();
    workspace.write(
        "skein.toml",
        &format!("{config}\n[prod]\nprotected = true\n"),
    );
    workspace.run(&["up"]).expect(0);
    db.exec("INSERT INTO a VALUES (1)");

    let refused = workspace
        .run(&["--profile", "prod", "db", "reset", "--yes"])
        .expect(2);
    assert!(
        refused.stderr().contains("protected"),
        "{}",
        refused.stderr()
    );
    let refused = workspace
        .run(&["--profile", "prod", "db", "drop", "--yes"])
        .expect(2);
    assert!(
        refused.stderr().contains("protected"),
        "{}",
        refused.stderr()
    );
    assert_eq!(
        db.value("SELECT count(*)::text FROM a").as_deref(),
        Some("1")
    );

    // Not on a terminal: --yes is needed.
    let unasked = workspace.run(&["db", "reset"]).expect(2);
    assert!(unasked.stderr().contains("--yes"), "{}", unasked.stderr());
    assert_eq!(
        db.value("SELECT count(*)::text FROM a").as_deref(),
        Some("1")
    );

    let reset = workspace
        .run(&["db", "reset", "--yes", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(reset["command"], "db reset");
    assert_eq!(reset["databases"][0]["version_after"], 20240303000000i64);
    assert_eq!(
        db.value("SELECT count(*)::text FROM a").as_deref(),
        Some("0")
    );
    assert_eq!(applied(&db).len(), 3);

    let dropped = workspace
        .run(&["db", "drop", "--yes", "--format", "json"])
        .expect(0);
    assert_eq!(statuses_of(&dropped.json())["app"], "ok");
    let exists = TestDb::new("reset_probe").value(&format!(
        "SELECT count(*)::text FROM pg_database WHERE datname = '{}'",
        db.name
    ));
    assert_eq!(exists.as_deref(), Some("0"));
    let again = workspace
        .run(&["db", "drop", "--yes", "--format", "json"])
        .expect(0);
    assert_eq!(statuses_of(&again.json())["app"], "up_to_date");
}

#[test]
fn wait_succeeds_once_a_late_server_comes_up_and_names_one_that_does_not() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let upstream = postgres().authority();
    let late = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        FreezingProxy::start_on(&format!("127.0.0.1:{port}"), &upstream)
    });
    let dir = tempfile::tempdir().unwrap();
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let started = Instant::now();
    let run = skein_in(
        dir.path(),
        &[
            "--url",
            &url,
            "wait",
            "--connect-timeout",
            "20s",
            "--format",
            "json",
        ],
    )
    .expect(0);
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert_eq!(run.json()["command"], "wait");
    let _proxy = late.join().unwrap();

    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("postgres://postgres@127.0.0.1:{closed}/app");
    let run = skein_in(
        dir.path(),
        &["--url", &url, "wait", "--connect-timeout", "1s"],
    )
    .expect(1);
    assert!(run.stderr().contains("app: failed"), "{}", run.stderr());
    assert!(
        run.stderr().contains("--connect-timeout"),
        "{}",
        run.stderr()
    );
}

#[test]
fn an_ipv6_host_connects_as_a_url_and_in_parts() {
    let proxy = FreezingProxy::start_on("[::1]:0", &postgres().authority());
    let db = TestDb::new("ipv6");
    let url = format!("postgres://postgres@[::1]:{}/{}", proxy.port, db.name);
    let workspace = Workspace::postgres(&url, &[("1_t.up.sql", "CREATE TABLE t (id INT);\n")]);
    workspace.run(&["up"]).expect(0);
    assert_eq!(
        db.value("SELECT to_regclass('t')::text").as_deref(),
        Some("t")
    );
    let parts = Workspace::new(
        &format!(
            "[default.databases.app]\nhost = \"::1\"\nport = {}\nuser = \"postgres\"\ndatabase = \"{}\"\nmigrations = \"m\"\n",
            proxy.port, db.name
        ),
        &[("m/1_t.up.sql", "CREATE TABLE t (id INT);\n")],
    );
    let status = parts.run(&["status", "--format", "json"]).expect(0);
    assert_eq!(statuses_of(&status.json())["app"], "up_to_date");
}

#[test]
fn completions_and_the_man_page_come_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = skein_in(dir.path(), &["completions", shell]).expect(0);
        assert!(
            run.stdout().contains("converge"),
            "{shell}: {}",
            run.stdout()
        );
    }
    let man = skein_in(dir.path(), &["man"]).expect(0);
    assert!(man.stdout().starts_with(".ie"), "{}", &man.stdout()[..80]);
    assert!(
        man.stdout().contains(".TH skein 1"),
        "{}",
        &man.stdout()[..200]
    );
}

#[test]
fn logs_are_coloured_only_when_asked_or_on_a_terminal() {
    let workspace = Workspace::new(
        "[default.databases.app]\nurl = \"sqlite://app.db\"\n",
        &[("database/app/1_t.up.sql", "CREATE TABLE t (id INT);\n")],
    );
    let piped = workspace.run(&["status", "-vv"]).expect(0);
    assert!(!piped.stderr().contains('\x1b'), "{}", piped.stderr());
    let always = workspace
        .run(&["status", "-vv", "--color", "always"])
        .expect(0);
    assert!(always.stderr().contains("\x1b["), "{}", always.stderr());
    let never = workspace
        .run(&["status", "-vv", "--color", "never"])
        .expect(0);
    assert!(!never.stderr().contains('\x1b'), "{}", never.stderr());
}

/// `skein ...` run on a terminal (util-linux `script` gives it one), `answer` typed in.
fn on_a_terminal(dir: &Path, args: &str, answer: &str) -> Run {
    use std::io::Write;
    let mut child = Command::new("script")
        .args([
            "-qec",
            &format!("{} {args}", skein().display()),
            "/dev/null",
        ])
        .current_dir(dir)
        .env_remove("SKEIN_PROFILE")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    Run(child.wait_with_output().unwrap())
}

#[test]
fn db_drop_asks_on_a_terminal_and_drops_only_on_yes() {
    let workspace = Workspace::new(
        "[default.databases.app]\nurl = \"sqlite://app.db\"\n",
        &[("database/app/1_t.up.sql", "CREATE TABLE t (id INT);\n")],
    );
    workspace.run(&["up"]).expect(0);
    let file = workspace.path().join("app.db");
    let declined = on_a_terminal(workspace.path(), "db drop", "no\n").expect(2);
    assert!(
        declined.stdout().contains("Type `yes` to go on"),
        "{}",
        declined.stdout()
    );
    assert!(
        declined.stdout().contains("  app (sqlite://"),
        "{}",
        declined.stdout()
    );
    assert!(
        declined.stdout().contains("nothing was dropped"),
        "{}",
        declined.stdout()
    );
    assert!(file.exists());
    on_a_terminal(workspace.path(), "db drop", "yes\n").expect(0);
    assert!(!file.exists());
}
