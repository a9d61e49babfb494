//! The engine on MariaDB (MySQL): the history table, the GET_LOCK lock, data-only files in
//! one transaction, DDL files recorded as unfinished while they run, error positions,
//! down, stamp, repair and the `--sql` script.

use crate::support::*;
use skein_core::Driver;
use skein_core::dialect::Dialect;
use skein_core::engine;
use skein_core::error::Error;
use skein_core::plan::{DownTarget, Target};
use skein_testkit::MyTestDb;

const FIRST: (&str, &str) = (
    "1_first.up.sql",
    "CREATE TABLE first (id INT PRIMARY KEY);\n",
);
const FIRST_DOWN: (&str, &str) = ("1_first.down.sql", "DROP TABLE first;\n");

fn history(db: &MyTestDb) -> Vec<String> {
    db.column(
        "SELECT CONCAT(version, ' ', kind, ' ', IF(success, 'true', 'false')) FROM skein_history ORDER BY version",
    )
    .into_iter()
    .flatten()
    .collect()
}

fn tables(db: &MyTestDb) -> Vec<String> {
    db.column(&format!(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = '{}' ORDER BY table_name",
        db.name
    ))
    .into_iter()
    .flatten()
    .collect()
}

#[tokio::test]
async fn applies_pending_migrations_once_and_records_them() {
    let db = MyTestDb::new("apply");
    let dir = folder(&[
        FIRST,
        FIRST_DOWN,
        (
            "2_second.sql",
            "# MySQL comments too\nCREATE TABLE second (id INT, note TEXT);\nINSERT INTO second VALUES (1, 'it\\'s; here'), (2, \"b\");",
        ),
        ("3_data.up.sql", "INSERT INTO second VALUES (3, 'c');\n"),
    ]);
    let report = up(&db.url, dir.path()).await.unwrap();
    assert_eq!(report.steps.len(), 3);
    assert_eq!(
        (report.version_before, report.version_after),
        (None, Some(3))
    );
    assert_eq!(
        db.value("SELECT note FROM second WHERE id = 1").as_deref(),
        Some("it's; here")
    );
    assert_eq!(
        history(&db),
        ["1 migration true", "2 migration true", "3 migration true"]
    );
    let applied_by = db.value("SELECT applied_by FROM skein_history WHERE version = 1");
    assert_eq!(applied_by.as_deref(), Some("tester@test skein/test"));
    // applied_at is UTC, whatever the session's time zone.
    let skew = db.value(
        "SELECT ABS(TIMESTAMPDIFF(SECOND, MAX(applied_at), UTC_TIMESTAMP())) FROM skein_history",
    );
    assert!(skew.unwrap().parse::<i64>().unwrap() < 60);

    let mut conn = connect(&db.url).await;
    let rows = conn.read_history().await.unwrap();
    conn.close().await;
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r.success && r.applied_at.ends_with('Z'))
    );
    assert_eq!(rows[0].checksum, load(dir.path())[0].checksum.to_string());

    let again = up(&db.url, dir.path()).await.unwrap();
    assert!(again.steps.is_empty());
    assert_eq!(again.version_after, Some(3));
}

#[tokio::test]
async fn a_data_file_that_fails_is_rolled_back_whole() {
    let db = MyTestDb::new("data_fail");
    let dir = folder(&[
        ("1_t.up.sql", "CREATE TABLE t (id INT PRIMARY KEY);\n"),
        (
            "2_rows.up.sql",
            "INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (2);\nINSERT INTO t VALUES (1);\n",
        ),
    ]);
    let failure = up(&db.url, dir.path()).await.unwrap_err();
    let err = statement_error(&failure);
    assert!(err.file.ends_with("2_rows.up.sql"));
    assert_eq!(err.position.line, 3, "{err}");
    assert!(err.message.contains("Duplicate entry"), "{err}");
    assert_eq!(err.code.as_deref(), Some("1062"));
    assert_eq!(history(&db), ["1 migration true"]);
    assert_eq!(db.value("SELECT COUNT(*) FROM t").as_deref(), Some("0"));
}

#[tokio::test]
async fn a_ddl_file_refused_at_its_first_statement_leaves_nothing_to_repair() {
    let db = MyTestDb::new("ddl_first");
    let dir = folder(&[
        FIRST,
        (
            "2_typo.up.sql",
            "-- a typo\nCREATE TABLE t (\n  id INT,\n  name TEXT NOT NULL DEFUALT 'x'\n);\nCREATE TABLE u (id INT);\n",
        ),
    ]);
    let failure = up(&db.url, dir.path()).await.unwrap_err();
    let err = statement_error(&failure);
    // MariaDB says "near ''x'\n)' at line 3" (of the statement): line 4 of the file, at 'x'.
    assert_eq!((err.position.line, err.position.column), (4, 30), "{err}");
    assert_eq!(err.code.as_deref(), Some("1064"));
    assert_eq!(history(&db), ["1 migration true"]);
    assert_eq!(tables(&db), ["first", "skein_history"]);

    // Fixed, it simply runs.
    std::fs::write(
        dir.path().join("2_typo.up.sql"),
        "CREATE TABLE t (id INT, name TEXT NOT NULL);\nCREATE TABLE u (id INT);\n",
    )
    .unwrap();
    up(&db.url, dir.path()).await.unwrap();
    assert_eq!(history(&db), ["1 migration true", "2 migration true"]);

    // A first statement that parses but fails may have done part of its work (MariaDB
    // drops `first` here before it finds `missing`): its row stays unfinished.
    std::fs::write(
        dir.path().join("3_drop.up.sql"),
        "DROP TABLE first, missing;\n",
    )
    .unwrap();
    let failure = up(&db.url, dir.path()).await.unwrap_err();
    assert!(
        matches!(failure.error, Error::PartiallyApplied { version: 3, .. }),
        "{:?}",
        failure.error
    );
    assert_eq!(
        history(&db),
        ["1 migration true", "2 migration true", "3 migration false"]
    );
    assert!(!tables(&db).contains(&"first".to_owned()));
}

#[tokio::test]
async fn a_ddl_file_failing_part_way_blocks_until_repair() {
    let db = MyTestDb::new("ddl_half");
    let dir = folder(&[
        FIRST,
        (
            "2_half.up.sql",
            "CREATE TABLE half (id INT);\nINSERT INTO half VALUES (1);\nALTER TABLE nowhere ADD COLUMN x INT;\nCREATE TABLE never (id INT);\n",
        ),
    ]);
    let failure = up(&db.url, dir.path()).await.unwrap_err();
    let Error::PartiallyApplied {
        version,
        path,
        cause,
    } = &failure.error
    else {
        panic!("{:?}", failure.error);
    };
    assert_eq!(*version, 2);
    assert!(path.ends_with("2_half.up.sql"));
    assert_eq!(cause.position.line, 3, "{cause}");
    assert!(failure.error.to_string().contains("skein repair"));
    assert_eq!(history(&db), ["1 migration true", "2 migration false"]);
    assert_eq!(tables(&db), ["first", "half", "skein_history"]);

    assert_blocked_by_failed(up(&db.url, dir.path()).await.unwrap_err(), 2);

    // Undo by hand, fix the file, repair: it runs again.
    db.exec("DROP TABLE half");
    std::fs::write(
        dir.path().join("2_half.up.sql"),
        "CREATE TABLE half (id INT);\nINSERT INTO half VALUES (1);\nALTER TABLE half ADD COLUMN x INT;\n",
    )
    .unwrap();
    let migrations = load(dir.path());
    let mut conn = connect(&db.url).await;
    let edits = engine::repair(&mut conn, &migrations).await.unwrap();
    conn.close().await;
    assert_eq!(edits.len(), 1);
    up(&db.url, dir.path()).await.unwrap();
    assert_eq!(history(&db), ["1 migration true", "2 migration true"]);
}

#[tokio::test]
async fn down_reverts_newest_first_and_stamp_records_without_running() {
    let db = MyTestDb::new("down");
    let dir = folder(&[
        FIRST,
        FIRST_DOWN,
        ("2_b.up.sql", "CREATE TABLE b (id INT);\n"),
        ("2_b.down.sql", "DROP TABLE b;\n"),
        ("3_c.up.sql", "CREATE TABLE c (id INT);\n"),
        ("3_c.down.sql", "DROP TABLEE c;\nDROP TABLE c;\n"),
    ]);
    up(&db.url, dir.path()).await.unwrap();
    // Step 3's down fails to parse at its first statement: nothing ran, its row stays
    // as it was.
    let failure = run(&db.url, dir.path(), Target::Down(DownTarget::Steps(2)))
        .await
        .unwrap_err();
    assert!(failure.report.steps.is_empty());
    assert_eq!(statement_error(&failure).position.line, 1);
    assert_eq!(
        history(&db),
        ["1 migration true", "2 migration true", "3 migration true"]
    );
    std::fs::write(dir.path().join("3_c.down.sql"), "DROP TABLE c;\n").unwrap();
    let migrations = load(dir.path());
    let mut conn = connect(&db.url).await;
    engine::repair(&mut conn, &migrations).await.unwrap();
    conn.close().await;
    let report = run(&db.url, dir.path(), Target::Down(DownTarget::Steps(2)))
        .await
        .unwrap();
    assert_eq!(
        report.steps.iter().map(|s| s.version).collect::<Vec<_>>(),
        [3, 2]
    );
    assert_eq!(history(&db), ["1 migration true"]);
    assert_eq!(tables(&db), ["first", "skein_history"]);

    let mut conn = connect(&db.url).await;
    engine::stamp(&mut conn, &migrations, engine::StampTarget::Head, "t")
        .await
        .unwrap();
    conn.close().await;
    assert_eq!(
        history(&db),
        ["1 migration true", "2 stamp true", "3 stamp true"]
    );
    assert_eq!(tables(&db), ["first", "skein_history"]);
}

#[tokio::test]
async fn the_lock_times_out_naming_the_holder() {
    let db = MyTestDb::new("locked");
    lock_times_out_naming_the_holder(&db.url, "held by connection").await;
}

#[tokio::test]
async fn the_sql_script_gives_the_same_tables_and_history_as_up() {
    let by_up = MyTestDb::new("script_up");
    let by_script = MyTestDb::new("script_client");
    let dir = folder(&[
        FIRST,
        FIRST_DOWN,
        (
            "2_rows.up.sql",
            "INSERT INTO first VALUES (1);\nINSERT INTO first VALUES (2); # two rows\n",
        ),
        (
            "3_second.up.sql",
            "CREATE TABLE second (id INT, note VARCHAR(20) DEFAULT 'a\\\\b');\n\
             CREATE PROCEDURE add_two() BEGIN INSERT INTO second VALUES (1, 'x'); INSERT INTO second VALUES (2, 'y'); END;\n\
             CALL add_two();\n",
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
        skein_core::dialect::Dialect::MySql,
        &table,
        "tester@test skein/test",
    );
    assert!(
        script.contains("BEGIN;\nINSERT INTO first VALUES (1);"),
        "{script}"
    );
    let output = std::process::Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-u", "root", &by_script.name])
        .stdin(
            std::fs::File::open({
                let file = dir.path().join("script.sql");
                std::fs::write(&file, &script).unwrap();
                file
            })
            .unwrap(),
        )
        .output()
        .expect("the mariadb client is installed with MariaDB");
    assert!(
        output.status.success(),
        "{}\n{script}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(tables(&by_up), tables(&by_script));
    for db in [&by_up, &by_script] {
        assert_eq!(
            db.value("SELECT COUNT(*) FROM second").as_deref(),
            Some("2")
        );
    }
    let rows = |db: &MyTestDb| {
        db.column(
            "SELECT CONCAT_WS(' ', version, description, checksum, kind, applied_by, success) FROM skein_history ORDER BY version",
        )
    };
    assert_eq!(rows(&by_up), rows(&by_script));
    assert_eq!(rows(&by_up).len(), 3);
    let default_of = |db: &MyTestDb| {
        db.value(&format!(
            "SELECT column_default FROM information_schema.columns WHERE table_schema = '{}' AND table_name = 'second' AND column_name = 'note'",
            db.name
        ))
    };
    assert_eq!(default_of(&by_script), default_of(&by_up));
    assert!(default_of(&by_up).unwrap().contains('\\'));
}

const SCHEMA_A: &[(&str, &str)] = &[
    (
        "1_markets.up.sql",
        "CREATE TABLE markets (id BIGINT PRIMARY KEY, symbol VARCHAR(20) NOT NULL UNIQUE);\n",
    ),
    (
        "2_trades.up.sql",
        "CREATE TABLE trades (\n  id BIGINT AUTO_INCREMENT PRIMARY KEY,\n  market_id BIGINT NOT NULL,\n  amount DECIMAL(20, 6) NOT NULL DEFAULT 0,\n  note VARCHAR(100) COMMENT 'free text',\n  CONSTRAINT trades_market FOREIGN KEY (market_id) REFERENCES markets (id) ON DELETE CASCADE,\n  CONSTRAINT positive CHECK (amount >= 0)\n);\n\
         CREATE INDEX trades_amount ON trades (amount, note(10));\n\
         CREATE VIEW big_trades AS SELECT id, amount FROM trades WHERE amount > 1000;\n\
         CREATE TRIGGER trades_note BEFORE INSERT ON trades FOR EACH ROW SET NEW.note = COALESCE(NEW.note, '');\n",
    ),
];

/// The same schema reached another way: other column order, other constraint and index
/// names, other layout.
const SCHEMA_B: &[(&str, &str)] = &[(
    "1_all.up.sql",
    "CREATE TABLE markets (symbol VARCHAR(20) NOT NULL, id BIGINT NOT NULL);\n\
         ALTER TABLE markets ADD PRIMARY KEY (id);\n\
         ALTER TABLE markets ADD CONSTRAINT markets_symbol_key UNIQUE (symbol);\n\
         CREATE TABLE trades (note VARCHAR(100) COMMENT 'free text', amount DECIMAL(20,6) NOT NULL DEFAULT 0, id BIGINT NOT NULL AUTO_INCREMENT, PRIMARY KEY (id));\n\
         ALTER TABLE trades ADD COLUMN market_id BIGINT NOT NULL;\n\
         ALTER TABLE trades ADD CONSTRAINT fk_market FOREIGN KEY (market_id) REFERENCES markets (id) ON DELETE CASCADE;\n\
         ALTER TABLE trades ADD CONSTRAINT amount_ok CHECK (amount >= 0);\n\
         CREATE INDEX ix_amount_note ON trades (amount, note(10));\n\
         CREATE VIEW big_trades AS\n  SELECT id, amount\n  FROM trades\n  WHERE amount > 1000;\n\
         CREATE TRIGGER trades_note BEFORE INSERT ON trades FOR EACH ROW SET NEW.note = COALESCE(NEW.note, '');\n",
)];

async fn built_from(tag: &str, history: &[(&str, &str)]) -> (MyTestDb, skein_core::schema::Schema) {
    let db = MyTestDb::new(tag);
    let dir = folder(history);
    up(&db.url, dir.path())
        .await
        .unwrap_or_else(|f| panic!("{}", f.error));
    let schema = inspect(&db.url).await;
    (db, schema)
}

#[tokio::test]
async fn two_histories_of_one_schema_have_one_fingerprint() {
    let (_a_db, a) = built_from("my_schema_a", SCHEMA_A).await;
    let (_b_db, b) = built_from("my_schema_b", SCHEMA_B).await;
    assert_eq!(a.tables.keys().collect::<Vec<_>>(), ["markets", "trades"]);
    let trades = &a.tables["trades"];
    let kinds: Vec<&str> = trades
        .constraints
        .values()
        .map(|c| c.kind.as_str())
        .collect();
    assert!(
        ["primary key", "foreign key", "check"]
            .iter()
            .all(|k| kinds.contains(k)),
        "{kinds:?}"
    );
    assert_eq!(
        trades.columns["id"].identity.as_deref(),
        Some("auto_increment")
    );
    assert_eq!(trades.columns["note"].comment.as_deref(), Some("free text"));
    assert_eq!(trades.triggers.len(), 1);
    assert_eq!(a.views.len(), 1);
    assert!(
        a.tables["markets"]
            .constraints
            .values()
            .any(|c| c.definition == "UNIQUE (symbol)")
    );
    assert_eq!(
        serde_json::to_value(&a).unwrap(),
        serde_json::to_value(&b).unwrap()
    );
    assert_eq!(a.fingerprint(), b.fingerprint());

    // A real difference changes it: a missing index, a wider column.
    let (c_db, _) = built_from("my_schema_c", SCHEMA_A).await;
    c_db.exec("DROP INDEX trades_amount ON trades");
    assert_ne!(inspect(&c_db.url).await.fingerprint(), a.fingerprint());
    let (d_db, _) = built_from("my_schema_d", SCHEMA_A).await;
    d_db.exec("ALTER TABLE markets MODIFY symbol VARCHAR(40) NOT NULL");
    assert_ne!(inspect(&d_db.url).await.fingerprint(), a.fingerprint());
}

#[tokio::test]
async fn the_expected_schema_is_replayed_in_a_scratch_database_that_is_dropped() {
    let (db, live) = built_from("my_expected", SCHEMA_A).await;
    let dir = folder(SCHEMA_A);
    let migrations = load(dir.path());
    let expected = skein_core::schema::replay::replay(
        &db.url,
        &migrations,
        Some(2),
        &skein_core::ConnectOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(expected.fingerprint(), live.fingerprint());
    // Other tests (and other runs) replay on this server too: their scratch databases
    // come and go; one this replay left would stay.
    skein_testkit::wait_until(
        "no scratch database is left on the server",
        std::time::Duration::from_secs(60),
        || {
            db.value("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name LIKE 'skein\\_scratch\\_%'")
                .as_deref()
                == Some("0")
        },
    );

    // The differences are named, with MySQL's DDL for them.
    db.exec("DROP INDEX trades_amount ON trades; CREATE TABLE stray (id INT)");
    let drifted = inspect(&db.url).await;
    let differences = skein_core::schema::diff::diff(&expected, &drifted, Dialect::MySql);
    let objects: Vec<&str> = differences.iter().map(|d| d.object.as_str()).collect();
    assert_eq!(differences.len(), 2, "{objects:?}");
    assert!(
        objects.iter().any(|o| o.contains("trades_amount")),
        "{objects:?}"
    );
    assert!(objects.iter().any(|o| o.contains("stray")), "{objects:?}");
    let sql: Vec<&str> = differences
        .iter()
        .filter_map(|d| d.sql.as_deref())
        .collect();
    assert_eq!(
        sql,
        [
            "CREATE INDEX `trades_amount` ON `trades` (amount, note(10));",
            "DROP TABLE `stray`;"
        ],
        "{differences:?}"
    );
}

#[tokio::test]
async fn a_migration_that_changes_database_keeps_the_history_where_it_was() {
    let db = MyTestDb::new("use_home");
    let other = MyTestDb::new("use_other");
    let dir = folder(&[
        (
            "1_elsewhere.up.sql",
            &format!("USE `{}`;\nCREATE TABLE elsewhere (id INT);\n", other.name),
        ),
        ("2_note.up.sql", "CREATE TABLE note (id INT);\n"),
    ]);
    up(&db.url, dir.path()).await.unwrap();
    assert_eq!(history(&db), ["1 migration true", "2 migration true"]);
    // What the files did after `USE` happened there (the session stays there, as in
    // the mysql client); the history stayed home.
    assert_eq!(tables(&other), ["elsewhere", "note"]);
    assert_eq!(tables(&db), ["skein_history"]);
}

#[tokio::test]
async fn query_rows_keeps_numbers_numbers_and_asks_for_a_cast_of_unsigned() {
    let db = MyTestDb::new("my_rows");
    let mut conn = connect(&db.url).await;
    let rows = conn
        .query_rows("SELECT CAST(5 AS SIGNED) AS n, CAST(1 AS SIGNED) AS one, TRUE AS flag")
        .await
        .unwrap();
    assert_eq!(rows.rows[0][0], serde_json::json!(5));
    assert_eq!(
        rows.rows[0][1],
        serde_json::json!(1),
        "a 1 is a number, not true"
    );
    db.exec("CREATE TABLE u (id BIGINT UNSIGNED, b BOOLEAN); INSERT INTO u VALUES (5, true)");
    let err = conn.query_rows("SELECT id FROM u").await.unwrap_err();
    assert!(err.to_string().contains("cast it"), "{err}");
    let flag = conn.query_rows("SELECT b FROM u").await.unwrap();
    assert_eq!(flag.rows[0][0], serde_json::json!(true));
    conn.close().await;
}
