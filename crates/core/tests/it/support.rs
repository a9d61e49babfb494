//! Helpers: migration folders written on the fly, and runs of the engine.

use skein_core::engine::{self, RunFailure, RunOptions, RunReport, Silent};
use skein_core::plan::Target;
use skein_core::source::{FolderSource, MigrationSource};
use skein_core::{ConnectOptions, Connection, Driver, Migration};
use std::path::Path;
use std::process::Command;

/// Writes `files` into a new temporary folder.
pub fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    dir
}

pub fn load(dir: &Path) -> Vec<Migration> {
    FolderSource::new(dir).load().unwrap()
}

pub async fn connect(url: &str) -> Connection {
    Connection::open(url, ConnectOptions::default())
        .await
        .unwrap()
}

pub fn options() -> RunOptions {
    RunOptions {
        applied_by: "tester@test skein/test".to_owned(),
        ..RunOptions::default()
    }
}

/// Runs `target` from `dir` against `url` on a fresh connection.
pub async fn run(url: &str, dir: &Path, target: Target) -> Result<RunReport, RunFailure> {
    let migrations = load(dir);
    let mut conn = connect(url).await;
    let result = engine::migrate(&mut conn, &migrations, target, &options(), &Silent).await;
    conn.close().await;
    result
}

pub async fn up(url: &str, dir: &Path) -> Result<RunReport, RunFailure> {
    run(
        url,
        dir,
        Target::Up {
            to: None,
            steps: None,
        },
    )
    .await
}

/// `pg_dump --schema-only` of a database, without the history table.
pub fn schema_dump(url: &str) -> String {
    let pg_dump =
        skein_testkit::pg_program("pg_dump").expect("pg_dump is installed with PostgreSQL");
    let output = Command::new(pg_dump)
        .args([
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "--exclude-table=skein_history",
        ])
        .arg(url)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter(|l| {
            !l.starts_with("-- Dumped")
                && !l.starts_with("\\restrict")
                && !l.starts_with("\\unrestrict")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs a file with psql, stopping at the first error; returns whether it succeeded.
pub fn psql_file(url: &str, file: &Path, single_transaction: bool) -> bool {
    let psql = skein_testkit::pg_program("psql").expect("psql is installed with PostgreSQL");
    let mut command = Command::new(psql);
    command.args(["-X", "-q", "-v", "ON_ERROR_STOP=1"]);
    if single_transaction {
        command.arg("-1");
    }
    let output = command.arg("-f").arg(file).arg(url).output().unwrap();
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    }
    output.status.success()
}

/// The history as `(version, kind, success)`.
pub fn history(db: &skein_testkit::TestDb) -> Vec<String> {
    db.column("SELECT version || ' ' || kind || ' ' || success FROM skein_history ORDER BY version")
        .into_iter()
        .flatten()
        .collect()
}

/// The statement error a run failed with; any other failure fails the test.
pub fn statement_error(failure: &RunFailure) -> &skein_core::error::StatementError {
    match &failure.error {
        skein_core::Error::Statement(err) => err,
        other => panic!("expected a statement error, got {other:?}"),
    }
}

/// While one connection holds the migration lock, another's `up` times out with an
/// error naming the holder (`holder_text`); once it is released, the `up` goes through.
pub async fn lock_times_out_naming_the_holder(url: &str, holder_text: &str) {
    use skein_core::Error;
    let dir = folder(&[(
        "1_first.up.sql",
        "CREATE TABLE first (id INT PRIMARY KEY);\n",
    )]);
    let migrations = load(dir.path());
    let options = ConnectOptions {
        lock_timeout: std::time::Duration::from_millis(300),
        ..Default::default()
    };
    let mut holder = Connection::open(url, options.clone()).await.unwrap();
    holder.lock().await.unwrap();
    let mut waiter = Connection::open(url, options).await.unwrap();
    let up = Target::Up {
        to: None,
        steps: None,
    };
    let failure = engine::migrate(&mut waiter, &migrations, up, &self::options(), &Silent)
        .await
        .unwrap_err();
    assert!(
        matches!(failure.error, Error::LockTimeout { .. }),
        "{:?}",
        failure.error
    );
    assert!(
        failure.error.to_string().contains(holder_text),
        "{}",
        failure.error
    );
    holder.unlock().await;
    engine::migrate(&mut waiter, &migrations, up, &self::options(), &Silent)
        .await
        .unwrap();
    holder.close().await;
    waiter.close().await;
}

/// The live schema of the database at `url`.
pub async fn inspect(url: &str) -> skein_core::schema::Schema {
    let mut conn = connect(url).await;
    let schema = conn.inspect().await.unwrap();
    conn.close().await;
    schema
}

/// `up` refused to start because the history has an unfinished row for `version`.
pub fn assert_blocked_by_failed(failure: RunFailure, version: i64) {
    use skein_core::error::{Error, PlanError};
    use skein_core::plan::Problem;
    match failure.error {
        Error::Plan(PlanError::Blocked(problems)) => assert!(
            matches!(problems[..], [Problem::Failed { version: v, .. }] if v == version),
            "{problems:?}"
        ),
        other => panic!("{other:?}"),
    }
}
