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

/// Steps in a row go to the server in one message. A failure in the middle of the third is
/// named at its line, the two before it stay applied, and the one after it never runs.
#[tokio::test]
async fn steps_sent_together_stop_at_the_failing_one_and_name_its_line() {
    let db = TestDb::new("chain_fail");
    let dir = folder(&[
        FIRST,
        ("2_second.up.sql", "CREATE TABLE second (id INT);\n"),
        (
            "3_third.up.sql",
            "CREATE TABLE third (id INT);\n\nDO $$BEGIN RAISE EXCEPTION 'third fails'; END$$;\nCREATE TABLE third_b (id INT);\n",
        ),
        ("4_fourth.up.sql", "CREATE TABLE fourth (id INT);\n"),
    ]);
    let failure = up(&db.url, dir.path()).await.unwrap_err();
    let err = statement_error(&failure);
    assert!(err.file.ends_with("3_third.up.sql"), "{err}");
    assert_eq!((err.position.line, err.position.column), (3, 1), "{err}");
    assert_eq!(err.message, "third fails");
    let versions: Vec<i64> = failure.report.steps.iter().map(|s| s.version).collect();
    assert_eq!(versions, [1, 2]);
    assert_eq!(history(&db), ["1 migration true", "2 migration true"]);
    for table in ["third", "fourth"] {
        let found = db.value(&format!("SELECT to_regclass('{table}')::text"));
        assert_eq!(found, None, "{table}");
    }

    // Fixed, the rest goes; a failure at the commit (a deferred foreign key) is named too.
    std::fs::write(
        dir.path().join("3_third.up.sql"),
        "CREATE TABLE third (id INT PRIMARY KEY);\nCREATE TABLE third_child (third INT REFERENCES third DEFERRABLE INITIALLY DEFERRED);\nINSERT INTO third_child VALUES (7);\n",
    )
    .unwrap();
    let failure = up(&db.url, dir.path()).await.unwrap_err();
    let text = failure.error.to_string();
    assert!(
        text.contains("recording or committing") && text.contains("3_third.up.sql"),
        "{text}"
    );
    assert!(failure.report.steps.is_empty(), "{:?}", failure.report);
    assert_eq!(history(&db), ["1 migration true", "2 migration true"]);
    std::fs::write(
        dir.path().join("3_third.up.sql"),
        "CREATE TABLE third (id INT);\n",
    )
    .unwrap();
    let report = up(&db.url, dir.path()).await.unwrap();
    assert_eq!(report.steps.len(), 2);
    assert_eq!(history(&db).len(), 4);
}

/// Each step's history row says how long that step took and when it was applied, although
/// the steps of one message share one `now()`.
#[tokio::test]
async fn steps_sent_together_record_their_own_time() {
    let db = TestDb::new("chain_time");
    let dir = folder(&[
        ("1_slow.up.sql", "SELECT pg_sleep(0.5);\n"),
        ("2_quick.up.sql", "CREATE TABLE quick (id INT);\n"),
    ]);
    up(&db.url, dir.path()).await.unwrap();
    let ms = db.column("SELECT execution_ms::text FROM skein_history ORDER BY version");
    let ms: Vec<i64> = ms
        .into_iter()
        .map(|v| v.unwrap().parse().unwrap())
        .collect();
    assert!(ms[0] >= 500, "{ms:?}");
    assert!(
        ms[1] < 400,
        "the quick step's own time, not the message's: {ms:?}"
    );
    let later = db.value(
        "SELECT ((SELECT applied_at FROM skein_history WHERE version = 2) \
         > (SELECT applied_at FROM skein_history WHERE version = 1))::text",
    );
    assert_eq!(later.as_deref(), Some("true"), "each row has its own time");
}

/// A long step in the middle of a message is announced as it starts: the step before it is
/// reported done at once, not when the long one ends. A stop then rolls back the long step
/// alone, and the step after it never runs.
#[tokio::test]
async fn a_long_step_sent_with_others_is_reported_as_it_starts_and_a_stop_rolls_back_it_alone() {
    use skein_core::engine::{Event, EventSink};
    use skein_core::stop::Stop;
    struct StopAfterFirst(Stop);
    impl EventSink for StopAfterFirst {
        fn event(&self, event: Event<'_>) {
            if let Event::StepFinished { step, .. } = event
                && step.version == 1
            {
                self.0.request();
            }
        }
    }
    let db = TestDb::new("chain_stop");
    let dir = folder(&[
        FIRST,
        (
            "2_long.up.sql",
            "CREATE TABLE long_a (id INT);\nSELECT pg_sleep(20);\n",
        ),
        ("3_after.up.sql", "CREATE TABLE after_long (id INT);\n"),
    ]);
    let migrations = load(dir.path());
    let stop = Stop::default();
    let options = skein_core::engine::RunOptions {
        stop: stop.clone(),
        ..options()
    };
    let mut conn = connect(&db.url).await;
    let started = std::time::Instant::now();
    let target = skein_core::plan::Target::Up {
        to: None,
        steps: None,
    };
    let failure = engine::migrate(
        &mut conn,
        &migrations,
        target,
        &options,
        &StopAfterFirst(stop),
    )
    .await
    .unwrap_err();
    conn.close().await;
    let took = started.elapsed();
    assert!(
        matches!(failure.error, Error::Stopped { .. }),
        "{}",
        failure.error
    );
    assert!(took.as_secs() < 10, "stopped after {took:?}");
    assert_eq!(failure.report.steps.len(), 1);
    assert_eq!(history(&db), ["1 migration true"]);
    assert_eq!(db.value("SELECT to_regclass('long_a')::text"), None);
    assert_eq!(db.value("SELECT to_regclass('after_long')::text"), None);
}

/// The notice between two steps needs PL/pgSQL. A migration that drops it does not stop
/// the run: the steps after it go one message each.
#[tokio::test]
async fn a_migration_that_drops_plpgsql_does_not_stop_the_steps_after_it() {
    let db = TestDb::new("chain_plpgsql");
    let dir = folder(&[
        ("1_drop.up.sql", "DROP EXTENSION plpgsql;\n"),
        ("2_a.up.sql", "CREATE TABLE a (id INT);\n"),
        ("3_b.up.sql", "CREATE TABLE b (id INT);\n"),
    ]);
    let report = up(&db.url, dir.path()).await.unwrap();
    assert_eq!(report.steps.len(), 3);
    assert_eq!(history(&db).len(), 3);
    assert_eq!(
        db.value("SELECT to_regclass('b')::text").as_deref(),
        Some("b")
    );
}

/// The server reads a whole message before it runs any of it. A syntax error in a later
/// step, or text the server cannot take in its encoding, refuses the message at once: the
/// steps before the one at fault are still applied, and the error names that one.
#[tokio::test]
async fn a_step_refused_before_anything_ran_still_leaves_the_steps_before_it_applied() {
    let db = TestDb::new("chain_parse");
    let dir = folder(&[
        FIRST,
        ("2_second.up.sql", "CREATE TABLE second (id INT);\n"),
        (
            "3_typo.up.sql",
            "CREATE TABLE ok (id INT);\n\nCREATE TABLE t (\n  id INT,\n  name TEXT,,\n);\n",
        ),
    ]);
    let failure = up(&db.url, dir.path()).await.unwrap_err();
    let err = statement_error(&failure);
    assert!(err.file.ends_with("3_typo.up.sql"), "{err}");
    assert_eq!((err.position.line, err.position.column), (5, 13), "{err}");
    assert_eq!(failure.report.steps.len(), 2);
    assert_eq!(history(&db), ["1 migration true", "2 migration true"]);

    // A LATIN1 database: the euro sign has no place in it, and the server does not say where
    // in the message it is.
    let latin = TestDb::new("chain_latin1");
    let admin = &skein_testkit::postgres().admin_url;
    skein_testkit::exec(admin, &format!("DROP DATABASE \"{}\"", latin.name));
    skein_testkit::exec(
        admin,
        &format!(
            "CREATE DATABASE \"{}\" ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0",
            latin.name
        ),
    );
    let dir = folder(&[
        FIRST,
        (
            "2_price.up.sql",
            "CREATE TABLE price (sign TEXT DEFAULT '€');\n",
        ),
    ]);
    let failure = up(&latin.url, dir.path()).await.unwrap_err();
    let text = failure.error.to_string();
    assert!(
        text.contains("running") && text.contains("2_price.up.sql"),
        "{text}"
    );
    assert_eq!(failure.report.steps.len(), 1, "{text}");
    assert_eq!(history(&latin), ["1 migration true"]);
}

/// A repeatable migration applied again in the same message as a slow file keeps the time
/// of its own application, not the message's.
#[tokio::test]
async fn a_repeatable_applied_again_keeps_its_own_time() {
    let db = TestDb::new("chain_repeatable");
    let dir = folder(&[FIRST]);
    std::fs::create_dir(dir.path().join("repeatable")).unwrap();
    let view = dir.path().join("repeatable").join("first_view.sql");
    std::fs::write(
        &view,
        "CREATE OR REPLACE VIEW first_view AS SELECT id FROM first;\n",
    )
    .unwrap();
    up(&db.url, dir.path()).await.unwrap();
    std::fs::write(
        &view,
        "CREATE OR REPLACE VIEW first_view AS SELECT id, 1 AS one FROM first;\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("2_slow.up.sql"), "SELECT pg_sleep(0.3);\n").unwrap();
    let report = up(&db.url, dir.path()).await.unwrap();
    assert_eq!(report.steps.len(), 2);
    let later = db.value(
        "SELECT ((SELECT applied_at FROM skein_history WHERE kind = 'repeatable') \
         > (SELECT applied_at FROM skein_history WHERE version = 2))::text",
    );
    assert_eq!(later.as_deref(), Some("true"));
}

/// A step that changes how the server reads string literals is the last of its message:
/// the steps after it are read with the setting it made, as when sent one by one.
#[tokio::test]
async fn a_step_after_one_that_changes_how_strings_are_read_is_read_the_new_way() {
    let db = TestDb::new("chain_strings");
    let dir = folder(&[
        (
            "1_escape.up.sql",
            "SET standard_conforming_strings = off;\n",
        ),
        (
            "2_text.up.sql",
            "CREATE TABLE t (v TEXT);\nINSERT INTO t VALUES ('a\\\\b');\n",
        ),
    ]);
    up(&db.url, dir.path()).await.unwrap();
    // With the setting off, '\\' is one backslash.
    assert_eq!(
        db.value("SELECT length(v)::text FROM t").as_deref(),
        Some("3")
    );
}

/// Which steps of a message committed is told by skein's own statements, not by counting
/// the file's: here the splitter takes three statements for one (an unquoted column named
/// `begin` ... `end`), and the file's commit then fails on a deferred foreign key. The
/// step is not reported applied, and the run after the fix goes through.
#[tokio::test]
async fn a_file_the_splitter_reads_as_fewer_statements_is_not_taken_for_committed() {
    let db = TestDb::new("chain_count");
    let dir = folder(&[
        FIRST,
        (
            "2_merged.up.sql",
            "CREATE TABLE p (id INT PRIMARY KEY);\nCREATE TABLE c (p INT REFERENCES p DEFERRABLE INITIALLY DEFERRED);\nALTER TABLE c ADD COLUMN begin date;\nINSERT INTO c VALUES (7);\nSELECT 1 AS end;\n",
        ),
        ("3_after.up.sql", "CREATE TABLE after_merged (id INT);\n"),
    ]);
    let failure = up(&db.url, dir.path()).await.unwrap_err();
    let text = failure.error.to_string();
    assert!(
        text.contains("recording or committing") && text.contains("2_merged.up.sql"),
        "{text}"
    );
    let versions: Vec<i64> = failure.report.steps.iter().map(|s| s.version).collect();
    assert_eq!(versions, [1], "{text}");
    assert_eq!(history(&db), ["1 migration true"]);
    assert_eq!(db.value("SELECT to_regclass('c')::text"), None);

    // The same split, failing on a statement the server gives no position for.
    std::fs::write(
        dir.path().join("2_merged.up.sql"),
        "CREATE TABLE p (id INT);\nINSERT INTO p VALUES (NULL);\nALTER TABLE p ADD COLUMN begin date;\nALTER TABLE p ALTER COLUMN id SET NOT NULL;\nSELECT 1 AS end;\n",
    )
    .unwrap();
    let failure = up(&db.url, dir.path()).await.unwrap_err();
    let err = statement_error(&failure);
    assert!(err.file.ends_with("2_merged.up.sql"), "{err}");
    assert!(err.message.contains("contains null values"), "{err}");
    assert_eq!(history(&db), ["1 migration true"]);

    std::fs::write(
        dir.path().join("2_merged.up.sql"),
        "CREATE TABLE p (id INT);\n",
    )
    .unwrap();
    let report = up(&db.url, dir.path()).await.unwrap();
    assert_eq!(report.steps.len(), 2);
    assert_eq!(history(&db).len(), 3);
}

/// A file may begin by setting its transaction's characteristics, first thing in it, in
/// the middle of a run as at its start.
#[tokio::test]
async fn a_file_that_sets_its_isolation_level_runs_with_it() {
    let db = TestDb::new("chain_iso");
    let dir = folder(&[
        ("1_t.up.sql", "CREATE TABLE iso (level TEXT);\n"),
        (
            "2_serial.up.sql",
            "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;\nINSERT INTO iso SELECT current_setting('transaction_isolation');\n",
        ),
        ("3_t.up.sql", "CREATE TABLE after_iso (id INT);\n"),
        (
            "4_read.up.sql",
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;\nINSERT INTO iso SELECT current_setting('transaction_isolation');\n",
        ),
    ]);
    up(&db.url, dir.path()).await.unwrap();
    assert_eq!(
        db.column("SELECT level FROM iso ORDER BY level"),
        [
            Some("repeatable read".to_owned()),
            Some("serializable".to_owned())
        ]
    );
    assert_eq!(history(&db).len(), 4);
}
