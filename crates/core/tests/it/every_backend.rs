//! The engine's behaviour that is the same on every backend, run over each of them (as
//! sqlparser's tests run over `all_dialects()`): applying once and recording, stamping,
//! concurrent runs, reverting, an edited file, repeatable migrations. What differs by
//! backend (error positions, MySQL's DDL outside transactions) stays in its own file.

use crate::support::*;
use skein_core::Driver;
use skein_core::engine;
use skein_core::history::MigrationKind;
use skein_core::plan::{DownTarget, Target};
use skein_testkit::{MyTestDb, TestDb};

/// A fresh database of one backend.
struct Db {
    backend: &'static str,
    url: String,
    /// Keeps the server's database (or the SQLite file's folder) until the test ends.
    _keep: Box<dyn std::any::Any + Send>,
}

/// A fresh database on each backend.
fn every_backend(tag: &str) -> Vec<Db> {
    let folder = tempfile::tempdir().unwrap();
    let sqlite = Db {
        backend: "sqlite",
        url: format!("sqlite://{}/{tag}.db", folder.path().display()),
        _keep: Box::new(folder),
    };
    let pg = TestDb::new(tag);
    let postgres = Db {
        backend: "postgres",
        url: pg.url.clone(),
        _keep: Box::new(pg),
    };
    let my = MyTestDb::new(tag);
    let mysql = Db {
        backend: "mysql",
        url: my.url.clone(),
        _keep: Box::new(my),
    };
    vec![sqlite, postgres, mysql]
}

/// The history as `version kind success`, read through the engine.
async fn history(url: &str) -> Vec<String> {
    let mut conn = connect(url).await;
    let rows = conn.read_history().await.unwrap();
    conn.close().await;
    rows.iter()
        .map(|r| format!("{} {} {}", r.version, r.kind.as_str(), r.success))
        .collect()
}

/// The rows of a one-column query, as text.
async fn column(url: &str, sql: &str) -> Vec<String> {
    let mut conn = connect(url).await;
    let rows = conn.query_rows(sql).await.unwrap();
    conn.close().await;
    rows.rows
        .iter()
        .map(|row| match &row[0] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

const A: (&str, &str) = ("1_a.up.sql", "CREATE TABLE a (id INT PRIMARY KEY);\n");
const A_DOWN: (&str, &str) = ("1_a.down.sql", "DROP TABLE a;\n");
const B: (&str, &str) = (
    "2_b.up.sql",
    "CREATE TABLE b (id INT);\nINSERT INTO b VALUES (1);\nINSERT INTO b VALUES (2);\n",
);
const B_DOWN: (&str, &str) = ("2_b.down.sql", "DROP TABLE b;\n");

#[tokio::test]
async fn applies_pending_migrations_once_and_records_them() {
    for db in every_backend("every_apply") {
        let dir = folder(&[A, A_DOWN, B, B_DOWN]);
        let report = up(&db.url, dir.path()).await.unwrap();
        assert_eq!(report.steps.len(), 2, "{}", db.backend);
        assert_eq!(
            (report.version_before, report.version_after),
            (None, Some(2)),
            "{}",
            db.backend
        );
        assert_eq!(
            column(&db.url, "SELECT id FROM b ORDER BY id").await,
            ["1", "2"],
            "{}",
            db.backend
        );
        assert_eq!(
            history(&db.url).await,
            ["1 migration true", "2 migration true"],
            "{}",
            db.backend
        );
        let mut conn = connect(&db.url).await;
        let rows = conn.read_history().await.unwrap();
        conn.close().await;
        let migrations = load(dir.path());
        for (row, migration) in rows.iter().zip(&migrations) {
            assert_eq!(
                row.checksum,
                migration.checksum.to_string(),
                "{}",
                db.backend
            );
            assert_eq!(row.applied_by, "tester@test skein/test", "{}", db.backend);
            assert!(
                row.applied_at.ends_with('Z'),
                "{}: {}",
                db.backend,
                row.applied_at
            );
        }
        let again = up(&db.url, dir.path()).await.unwrap();
        assert!(again.steps.is_empty(), "{}", db.backend);
        assert_eq!(again.version_after, Some(2), "{}", db.backend);
    }
}

#[tokio::test]
async fn down_reverts_newest_first_and_stamp_records_without_running() {
    for db in every_backend("every_down") {
        let dir = folder(&[A, A_DOWN, B, B_DOWN]);
        up(&db.url, dir.path()).await.unwrap();
        let report = run(&db.url, dir.path(), Target::Down(DownTarget::Base))
            .await
            .unwrap();
        let reverted: Vec<i64> = report.steps.iter().map(|s| s.version).collect();
        assert_eq!(reverted, [2, 1], "{}", db.backend);
        assert!(history(&db.url).await.is_empty(), "{}", db.backend);

        let migrations = load(dir.path());
        let mut conn = connect(&db.url).await;
        let edits = engine::stamp(&mut conn, &migrations, engine::StampTarget::Head, "t")
            .await
            .unwrap();
        assert_eq!(edits.len(), 2, "{}", db.backend);
        engine::stamp(&mut conn, &migrations, engine::StampTarget::Version(1), "t")
            .await
            .unwrap();
        conn.close().await;
        assert_eq!(history(&db.url).await, ["1 stamp true"], "{}", db.backend);
        // Stamped, not run: the tables are not there, and `up` does not make table a.
        let report = up(&db.url, dir.path()).await.unwrap();
        let applied: Vec<i64> = report.steps.iter().map(|s| s.version).collect();
        assert_eq!(applied, [2], "{}", db.backend);
    }
}

#[tokio::test]
async fn concurrent_runs_apply_each_migration_once() {
    for db in every_backend("every_race") {
        let files: Vec<(String, String)> = (1..=12)
            .map(|i| {
                (
                    format!("{i}_t{i}.up.sql"),
                    format!("CREATE TABLE t{i} (id INT);\nINSERT INTO t{i} VALUES ({i});\n"),
                )
            })
            .collect();
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, c)| (n.as_str(), c.as_str()))
            .collect();
        let dir = folder(&files);
        let runs: Vec<_> = (0..6)
            .map(|_| {
                let url = db.url.clone();
                let path = dir.path().to_owned();
                // A step another process did first (SQLite, which has no session lock)
                // has no time: it did not run here.
                tokio::spawn(async move {
                    up(&url, &path)
                        .await
                        .map(|r| r.steps.iter().filter(|s| s.ms.is_some()).count())
                })
            })
            .collect();
        let mut applied = 0;
        for run in runs {
            applied += run.await.unwrap().unwrap();
        }
        assert_eq!(
            applied, 12,
            "{}: each migration applied by one run",
            db.backend
        );
        assert_eq!(history(&db.url).await.len(), 12, "{}", db.backend);
        assert_eq!(
            column(&db.url, "SELECT id FROM t12").await,
            ["12"],
            "{}",
            db.backend
        );
    }
}

#[tokio::test]
async fn an_edited_file_blocks_up_until_repair_records_its_checksum() {
    for db in every_backend("every_edit") {
        let dir = folder(&[A, A_DOWN]);
        up(&db.url, dir.path()).await.unwrap();
        std::fs::write(
            dir.path().join("1_a.up.sql"),
            "-- reworded\nCREATE TABLE a (id INT PRIMARY KEY);\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("2_c.up.sql"), "CREATE TABLE c (id INT);\n").unwrap();
        let failure = up(&db.url, dir.path()).await.unwrap_err();
        assert!(
            failure
                .error
                .to_string()
                .contains("was edited after it was applied"),
            "{}: {}",
            db.backend,
            failure.error
        );
        let migrations = load(dir.path());
        let mut conn = connect(&db.url).await;
        engine::repair(&mut conn, &migrations).await.unwrap();
        conn.close().await;
        let report = up(&db.url, dir.path()).await.unwrap();
        assert_eq!(report.steps.len(), 1, "{}", db.backend);
    }
}

#[tokio::test]
async fn a_repeatable_migration_runs_after_the_versioned_ones_when_it_changes() {
    for db in every_backend("every_repeatable") {
        let dir = folder(&[A, A_DOWN]);
        std::fs::create_dir(dir.path().join("repeatable")).unwrap();
        let seed = dir.path().join("repeatable/seed.sql");
        std::fs::write(&seed, "DELETE FROM a;\nINSERT INTO a VALUES (1);\n").unwrap();
        let report = up(&db.url, dir.path()).await.unwrap();
        let order: Vec<(String, bool)> = report
            .steps
            .iter()
            .map(|s| (s.description.clone(), s.repeatable))
            .collect();
        assert_eq!(
            order,
            [("a".to_owned(), false), ("seed".to_owned(), true)],
            "{}",
            db.backend
        );
        assert_eq!(report.version_after, Some(1), "{}", db.backend);
        let mut conn = connect(&db.url).await;
        let rows = conn.read_history().await.unwrap();
        conn.close().await;
        let seed_row = rows.iter().find(|r| r.description == "seed").unwrap();
        assert_eq!(seed_row.kind, MigrationKind::Repeatable, "{}", db.backend);
        assert!(seed_row.version < 0, "{}", db.backend);

        assert!(up(&db.url, dir.path()).await.unwrap().steps.is_empty());
        std::fs::write(&seed, "DELETE FROM a;\nINSERT INTO a VALUES (2);\n").unwrap();
        let again = up(&db.url, dir.path()).await.unwrap();
        assert_eq!(again.steps.len(), 1, "{}", db.backend);
        assert_eq!(
            column(&db.url, "SELECT id FROM a").await,
            ["2"],
            "{}",
            db.backend
        );
        assert_eq!(
            history(&db.url).await.len(),
            2,
            "{}: one row per repeatable",
            db.backend
        );
    }
}
