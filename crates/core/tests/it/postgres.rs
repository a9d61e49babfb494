//! The engine on PostgreSQL: transactions, error positions, no-transaction files, edits,
//! repair, stamp and the `--sql` script.

use crate::support::*;
use skein_core::Driver;
use skein_core::engine;
use skein_core::error::Error;
use skein_core::plan::{DownTarget, Target};
use skein_testkit::TestDb;

const FIRST: (&str, &str) = (
    "1_first.up.sql",
    "CREATE TABLE first (id INT PRIMARY KEY);\n",
);
const FIRST_DOWN: (&str, &str) = ("1_first.down.sql", "DROP TABLE first;\n");

#[tokio::test]
async fn a_failing_statement_is_located_and_leaves_nothing_behind() {
    let db = TestDb::new("fail3");
    let dir = folder(&[
        FIRST,
        (
            "2_broken.up.sql",
            "-- adds things\nCREATE TABLE broken_a (id INT);\nINSERT INTO broken_a VALUES (1);\nSELECT id FROM   missing_table;\nCREATE TABLE broken_b (id INT);\n",
        ),
    ]);
    let failure = up(&db.url, dir.path()).await.unwrap_err();
    let err = statement_error(&failure);
    assert!(err.file.ends_with("2_broken.up.sql"));
    // Line 4, column 18: where `missing_table` starts, as the server's position says.
    assert_eq!((err.position.line, err.position.column), (4, 18), "{err}");
    assert_eq!(err.message, "relation \"missing_table\" does not exist");
    assert_eq!(err.code.as_deref(), Some("42P01"));
    assert!(
        err.to_string()
            .contains("2_broken.up.sql:4:18: relation \"missing_table\" does not exist")
    );
    // The first migration stays; nothing of the second does.
    assert_eq!(failure.report.steps.len(), 1);
    assert_eq!(history(&db), ["1 migration true"]);
    assert_eq!(db.value("SELECT to_regclass('broken_a')::text"), None);
}

#[tokio::test]
async fn syntax_errors_point_into_the_statement_and_carry_hints() {
    let db = TestDb::new("syntax");
    let dir = folder(&[(
        "1_typo.up.sql",
        "CREATE TABLE ok (id INT);\n\nCREATE TABLE t (\n  id INT,\n  name TEXTT\n);\n",
    )]);
    let failure = up(&db.url, dir.path()).await.unwrap_err();
    let err = statement_error(&failure);
    assert_eq!((err.position.line, err.position.column), (5, 8), "{err}");
    assert!(
        err.message.contains("type \"textt\" does not exist"),
        "{err}"
    );
}

#[tokio::test]
async fn errors_inside_do_blocks_carry_their_context() {
    let db = TestDb::new("doblock");
    let dir = folder(&[(
        "1_do.up.sql",
        "DO $$\nBEGIN\n  RAISE EXCEPTION 'nope: %', 42 USING HINT = 'check the input';\nEND\n$$;\n",
    )]);
    let failure = up(&db.url, dir.path()).await.unwrap_err();
    let err = statement_error(&failure);
    assert_eq!(err.message, "nope: 42");
    assert_eq!(err.hint.as_deref(), Some("check the input"));
    assert!(
        err.context.as_deref().unwrap_or("").contains("PL/pgSQL"),
        "{err}"
    );
    assert_eq!((err.position.line, err.position.column), (1, 1));
}

#[tokio::test]
async fn create_index_concurrently_runs_outside_a_transaction() {
    let db = TestDb::new("concurrently");
    let dir = folder(&[
        FIRST,
        (
            "2_index.up.sql",
            "-- skein:no-transaction\nCREATE INDEX CONCURRENTLY first_id_idx ON first (id);\nCREATE INDEX CONCURRENTLY first_id2_idx ON first ((id * 2));\n",
        ),
    ]);
    up(&db.url, dir.path()).await.unwrap();
    assert_eq!(history(&db), ["1 migration true", "2 migration true"]);
    let valid = db.value("SELECT bool_and(indisvalid)::text FROM pg_index WHERE indrelid = 'first'::regclass AND indexrelid::regclass::text LIKE 'first_id%idx'");
    assert_eq!(valid.as_deref(), Some("true"));
}

#[tokio::test]
async fn an_sqlx_no_transaction_file_applies_unchanged_and_a_bare_one_gets_a_hint() {
    let db = TestDb::new("sqlx_notx");
    // sqlx's own marker, as an sqlx project has it.
    let dir = folder(&[
        FIRST,
        (
            "2_index.up.sql",
            "-- no-transaction\nCREATE INDEX CONCURRENTLY first_id_idx ON first (id);\n",
        ),
    ]);
    up(&db.url, dir.path()).await.unwrap();
    assert_eq!(history(&db), ["1 migration true", "2 migration true"]);
    // Without a marker the server refuses it (25001), and skein says what to write.
    let bare = folder(&[
        FIRST,
        (
            "2_index.up.sql",
            "-- no-transaction\nCREATE INDEX CONCURRENTLY first_id_idx ON first (id);\n",
        ),
        (
            "3_more.up.sql",
            "CREATE INDEX CONCURRENTLY first_id3_idx ON first ((id * 3));\n",
        ),
    ]);
    let failure = up(&db.url, bare.path()).await.unwrap_err();
    let skein_core::Error::Statement(err) = &failure.error else {
        panic!("{:?}", failure.error);
    };
    assert_eq!(err.code.as_deref(), Some("25001"));
    assert!(
        err.hint
            .as_deref()
            .is_some_and(|h| h.contains("-- skein:no-transaction")),
        "{err}"
    );
}

#[tokio::test]
async fn a_failed_no_transaction_migration_blocks_until_repair() {
    let db = TestDb::new("notx_fail");
    let dir = folder(&[
        FIRST,
        (
            "2_half.up.sql",
            "-- skein:no-transaction\nCREATE TABLE half (id INT);\nCREATE INDEX CONCURRENTLY ON nowhere (id);\n",
        ),
    ]);
    let failure = up(&db.url, dir.path()).await.unwrap_err();
    assert!(
        matches!(failure.error, Error::PartiallyApplied { version: 2, .. }),
        "{:?}",
        failure.error
    );
    assert!(failure.error.to_string().contains("skein repair"));
    assert_eq!(history(&db), ["1 migration true", "2 migration false"]);

    assert_blocked_by_failed(up(&db.url, dir.path()).await.unwrap_err(), 2);

    // Undo by hand, fix the file, repair: it runs again.
    db.exec("DROP TABLE half");
    std::fs::write(
        dir.path().join("2_half.up.sql"),
        "-- skein:no-transaction\nCREATE TABLE half (id INT);\nCREATE INDEX CONCURRENTLY ON half (id);\n",
    )
    .unwrap();
    let migrations = load(dir.path());
    let mut conn = connect(&db.url).await;
    let edits = engine::repair(&mut conn, &migrations).await.unwrap();
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0].version, 2);
    up(&db.url, dir.path()).await.unwrap();
    assert_eq!(history(&db), ["1 migration true", "2 migration true"]);
}

#[tokio::test]
async fn down_reverts_newest_first_and_a_failing_step_is_rolled_back() {
    let db = TestDb::new("down");
    let dir = folder(&[
        FIRST,
        FIRST_DOWN,
        ("2_b.up.sql", "CREATE TABLE b (id INT);\n"),
        (
            "2_b.down.sql",
            "DROP TABLE b;\n-- the broken one:\nDROP TABLE c;\nDROP TABLE nothing_here;\n",
        ),
        ("3_c.up.sql", "CREATE TABLE c (id INT);\n"),
        ("3_c.down.sql", "DROP TABLE c;\n"),
    ]);
    up(&db.url, dir.path()).await.unwrap();
    let failure = run(&db.url, dir.path(), Target::Down(DownTarget::Steps(3)))
        .await
        .unwrap_err();
    // Step 3 went; step 2 failed on its third line and was rolled back; step 1 never ran.
    assert_eq!(failure.report.steps.len(), 1);
    assert_eq!(failure.report.steps[0].version, 3);
    let err = statement_error(&failure);
    assert!(err.file.ends_with("2_b.down.sql"));
    assert_eq!(err.position.line, 3);
    assert_eq!(history(&db), ["1 migration true", "2 migration true"]);
    assert_eq!(
        db.value("SELECT to_regclass('b')::text").as_deref(),
        Some("b")
    );
}

#[tokio::test]
async fn the_sql_script_gives_the_same_schema_and_history_as_up() {
    let by_up = TestDb::new("script_up");
    let by_script = TestDb::new("script_psql");
    let dir = folder(&[
        FIRST,
        FIRST_DOWN,
        (
            "2_fn.up.sql",
            "CREATE FUNCTION twice(x INT) RETURNS INT AS $$ SELECT x * 2; $$ LANGUAGE sql;\n-- trailing comment",
        ),
        (
            "3_idx.up.sql",
            "-- skein:no-transaction\nCREATE INDEX CONCURRENTLY first_idx ON first (id)",
        ),
    ]);
    up(&by_up.url, dir.path()).await.unwrap();

    let migrations = load(dir.path());
    let mut conn = connect(&by_script.url).await;
    let plan = engine::dry_run(
        &mut conn,
        &migrations,
        Target::Up {
            to: None,
            steps: None,
        },
        &options(),
    )
    .await
    .unwrap();
    conn.close().await;
    let table = skein_core::history::HistoryTable::default();
    let script = skein_core::script::render(
        &plan,
        &migrations,
        skein_core::dialect::Dialect::Postgres,
        &table,
        "t",
    );
    let file = dir.path().join("script.psql");
    std::fs::write(&file, script).unwrap();
    assert!(psql_file(&by_script.url, &file, false));

    assert_eq!(schema_dump(&by_up.url), schema_dump(&by_script.url));
    let rows = |db: &TestDb| {
        db.column("SELECT version || ' ' || description || ' ' || checksum || ' ' || kind || ' ' || success FROM skein_history ORDER BY version")
    };
    assert_eq!(rows(&by_up), rows(&by_script));
    assert_eq!(rows(&by_up).len(), 3);
}

#[tokio::test]
async fn the_lock_times_out_naming_the_holder() {
    let db = TestDb::new("locked");
    lock_times_out_naming_the_holder(&db.url, "held by pid").await;
}

#[tokio::test]
async fn a_file_with_its_own_commit_is_refused_before_anything_runs() {
    let db = TestDb::new("own_commit");
    let own_commit = (
        "2_own.up.sql",
        "BEGIN;\nCREATE TABLE own_a (id INT);\nCOMMIT;\nCREATE TABLE own_a (id INT);\n",
    );
    let dir = folder(&[FIRST, own_commit]);
    let failure = up(&db.url, dir.path()).await.unwrap_err();
    let text = failure.error.to_string();
    assert!(
        text.contains("2_own.up.sql:1:1: `BEGIN` controls the transaction"),
        "{text}"
    );
    assert!(text.contains("-- skein:no-transaction"), "{text}");
    // Refused whole: not even the first migration ran, and nothing of the second.
    assert!(failure.report.steps.is_empty());
    assert_eq!(db.value("SELECT to_regclass('own_a')::text"), None);
    assert_eq!(db.value("SELECT to_regclass('first')::text"), None);

    // Marked to run as written, it runs as written: its own transaction commits, and the
    // failure after it is the file's, recorded as such.
    let marked = (
        "2_own.up.sql",
        "-- skein:no-transaction\nBEGIN;\nCREATE TABLE own_a (id INT);\nCOMMIT;\nCREATE TABLE own_a (id INT);\n",
    );
    let dir = folder(&[FIRST, marked]);
    let failure = up(&db.url, dir.path()).await.unwrap_err();
    assert!(
        matches!(failure.error, Error::PartiallyApplied { version: 2, .. }),
        "{}",
        failure.error
    );
    assert_eq!(history(&db), ["1 migration true", "2 migration false"]);
}

#[tokio::test]
async fn query_rows_reads_each_column_by_its_type() {
    let db = TestDb::new("rows");
    let mut conn = connect(&db.url).await;
    let rows = conn
        .query_rows("SELECT 'm1'::text AS name, 7::smallint AS small, 137::bigint AS big, true AS on, NULL::text AS nothing")
        .await
        .unwrap();
    assert_eq!(rows.columns, ["name", "small", "big", "on", "nothing"]);
    assert_eq!(
        rows.rows[0],
        [
            serde_json::json!("m1"),
            serde_json::json!(7),
            serde_json::json!(137),
            serde_json::json!(true),
            serde_json::Value::Null
        ]
    );
    conn.close().await;
}
