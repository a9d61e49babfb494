//! Schema inspection: the same schema reached by different histories has one fingerprint;
//! a real difference changes it; the SQL rendering of a schema builds the same schema.

use crate::support::*;
use skein_core::dialect::Dialect;
use skein_core::schema::Schema;
use skein_testkit::TestDb;

const HISTORY_A: &[(&str, &str)] = &[
    (
        "1_types.up.sql",
        "CREATE TYPE side AS ENUM ('buy', 'sell');\nCREATE EXTENSION IF NOT EXISTS pgcrypto;\n",
    ),
    (
        "2_trades.up.sql",
        "CREATE TABLE markets (id BIGINT PRIMARY KEY, symbol TEXT NOT NULL UNIQUE);\n\
         CREATE TABLE trades (\n  id BIGINT PRIMARY KEY,\n  market_id BIGINT NOT NULL REFERENCES markets (id) ON DELETE CASCADE,\n  side side NOT NULL,\n  amount NUMERIC(78, 0) NOT NULL DEFAULT 0,\n  note TEXT\n);\n\
         CREATE INDEX trades_market ON trades (market_id);\n\
         CREATE UNIQUE INDEX trades_big ON trades (market_id, id) WHERE amount > 1000;\n\
         ALTER TABLE trades ADD CONSTRAINT positive_amount CHECK (amount >= 0);\n\
         COMMENT ON TABLE trades IS 'fills';\n",
    ),
    (
        "3_logic.up.sql",
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.note := coalesce(NEW.note, ''); RETURN NEW; END $$;\n\
         CREATE TRIGGER trades_touch BEFORE INSERT ON trades FOR EACH ROW EXECUTE FUNCTION touch();\n\
         CREATE VIEW big_trades AS SELECT id, amount FROM trades WHERE amount > 1000;\n\
         CREATE SEQUENCE ticket START 100;\n",
    ),
];

/// The same schema, reached another way: other column order, constraints and indexes named
/// by the server or differently, objects created in another order, other whitespace.
const HISTORY_B: &[(&str, &str)] = &[
    (
        "1_markets.up.sql",
        "CREATE TABLE markets (symbol TEXT NOT NULL, id BIGINT);\nALTER TABLE markets ADD PRIMARY KEY (id);\nALTER TABLE markets ADD UNIQUE (symbol);\n",
    ),
    (
        "2_types.up.sql",
        "CREATE EXTENSION IF NOT EXISTS pgcrypto;\nCREATE TYPE side AS ENUM ('buy', 'sell');\nCREATE SEQUENCE ticket START WITH 100;\n",
    ),
    (
        "3_trades.up.sql",
        "CREATE TABLE trades (note TEXT, amount NUMERIC(78, 0) NOT NULL DEFAULT 0, id BIGINT NOT NULL);\n\
         ALTER TABLE trades ADD COLUMN side side NOT NULL;\n\
         ALTER TABLE trades ADD COLUMN market_id BIGINT NOT NULL;\n\
         ALTER TABLE trades ADD PRIMARY KEY (id);\n\
         ALTER TABLE trades ADD FOREIGN KEY (market_id) REFERENCES markets (id) ON DELETE CASCADE;\n\
         ALTER TABLE trades ADD CHECK (amount >= 0);\n\
         CREATE INDEX ON trades (market_id);\n\
         CREATE UNIQUE INDEX big_trades_idx ON trades (market_id, id) WHERE amount > 1000;\n\
         COMMENT ON TABLE trades IS 'fills';\n\
         CREATE VIEW big_trades AS SELECT id, amount FROM trades WHERE amount > 1000;\n\
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  NEW.note := coalesce(NEW.note, '');\n  RETURN NEW;\nEND\n$$;\n\
         CREATE TRIGGER trades_touch BEFORE INSERT ON trades FOR EACH ROW EXECUTE FUNCTION touch();\n",
    ),
];

async fn built_from(tag: &str, history: &[(&str, &str)]) -> (TestDb, Schema) {
    let db = TestDb::new(tag);
    let dir = folder(history);
    up(&db.url, dir.path())
        .await
        .unwrap_or_else(|f| panic!("{}", f.error));
    let schema = inspect(&db.url).await;
    (db, schema)
}

#[tokio::test]
async fn two_histories_of_one_schema_have_one_fingerprint() {
    let (_a, a) = built_from("schema_a", HISTORY_A).await;
    let (_b, b) = built_from("schema_b", HISTORY_B).await;
    assert_eq!(a.tables.len(), 2);
    assert!(
        a.tables["public.trades"]
            .constraints
            .values()
            .any(|c| c.kind == skein_core::schema::ConstraintKind::Check)
    );
    assert_eq!(a.enums["public.side"], ["buy", "sell"]);
    assert!(
        a.tables.keys().all(|t| !t.ends_with("skein_history")),
        "the history table is left out"
    );
    // Names the server generated and the functions' layout differ; what counts does not.
    assert_ne!(a, b);
    assert_eq!(
        serde_json::to_value(&a).unwrap(),
        serde_json::to_value(&b).unwrap()
    );
    assert_eq!(a.fingerprint(), b.fingerprint());

    // A real difference changes it: an extra enum value.
    let (c_db, _) = built_from("schema_c", HISTORY_A).await;
    c_db.exec("ALTER TYPE side ADD VALUE 'short'");
    assert_ne!(inspect(&c_db.url).await.fingerprint(), a.fingerprint());
    // ...and so does a missing index.
    let (d_db, _) = built_from("schema_d", HISTORY_A).await;
    d_db.exec("DROP INDEX trades_market");
    assert_ne!(inspect(&d_db.url).await.fingerprint(), a.fingerprint());
}

#[tokio::test]
async fn the_sql_of_a_schema_builds_the_same_schema() {
    let (_a, a) = built_from("render_a", HISTORY_A).await;
    let sql = skein_core::schema::render::to_sql(&a, Dialect::Postgres);
    let rebuilt = TestDb::new("render_b");
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &sql).unwrap();
    assert!(psql_file(&rebuilt.url, file.path(), true), "{sql}");
    assert_eq!(
        inspect(&rebuilt.url).await.fingerprint(),
        a.fingerprint(),
        "{sql}"
    );
}

#[tokio::test]
async fn sqlite_schemas_compare_the_same_way() {
    let history_a: &[(&str, &str)] = &[(
        "1_a.up.sql",
        "CREATE TABLE markets (id INTEGER PRIMARY KEY, symbol TEXT NOT NULL UNIQUE);\n\
         CREATE TABLE trades (id INTEGER PRIMARY KEY, market_id INTEGER NOT NULL REFERENCES markets (id) ON DELETE CASCADE, amount NUMERIC NOT NULL DEFAULT 0);\n\
         CREATE INDEX trades_market ON trades (market_id);\n",
    )];
    let history_b: &[(&str, &str)] = &[
        (
            "1_markets.up.sql",
            "CREATE TABLE markets (symbol TEXT NOT NULL UNIQUE, id INTEGER PRIMARY KEY);\n",
        ),
        (
            "2_trades.up.sql",
            "CREATE TABLE trades (amount NUMERIC NOT NULL DEFAULT 0, id INTEGER PRIMARY KEY, market_id INTEGER NOT NULL REFERENCES markets (id) ON DELETE CASCADE);\nCREATE INDEX   trades_market   ON trades (market_id);\n",
        ),
    ];
    let data = tempfile::tempdir().unwrap();
    let mut fingerprints = Vec::new();
    for (i, history) in [history_a, history_b].into_iter().enumerate() {
        let url = format!("sqlite://{}/db{i}.sqlite", data.path().display());
        let dir = folder(history);
        up(&url, dir.path()).await.unwrap();
        let schema = inspect(&url).await;
        assert_eq!(schema.tables.len(), 2, "{schema:?}");
        assert!(
            schema.tables["trades"]
                .constraints
                .values()
                .any(|c| c.kind == skein_core::schema::ConstraintKind::ForeignKey)
        );
        fingerprints.push(schema.fingerprint());
    }
    assert_eq!(fingerprints[0], fingerprints[1]);
}

/// The catalog is read in one message; names that hold commas, quotes, spaces or the word
/// NULL come back whole, in the lists of a constraint's and an index's columns too.
#[tokio::test]
async fn names_of_every_shape_come_back_whole_from_the_catalog() {
    let (_db, schema) = built_from(
        "schema_names",
        &[(
            "1_names.up.sql",
            "CREATE SCHEMA \"odd, \"\"one\"\"\";\n\
             CREATE TABLE \"odd, \"\"one\"\"\".\"t{x}\" (\"NULL\" INT, \"a,b\" TEXT, \"c\"\"d\" INT, \"e f\" INT,\n\
               PRIMARY KEY (\"NULL\", \"a,b\"), UNIQUE (\"c\"\"d\", \"e f\"));\n\
             CREATE INDEX ix ON \"odd, \"\"one\"\"\".\"t{x}\" (\"e f\", \"NULL\") WHERE \"c\"\"d\" > 0;\n",
        )],
    )
    .await;
    let table = &schema.tables["odd, \"one\".t{x}"];
    assert_eq!(table.column_order, ["NULL", "a,b", "c\"d", "e f"]);
    let mut constraint_columns: Vec<Vec<String>> = table
        .constraints
        .values()
        .map(|c| c.columns.clone())
        .collect();
    constraint_columns.sort();
    assert_eq!(
        constraint_columns,
        [vec!["NULL", "a,b"], vec!["c\"d", "e f"]]
    );
    let index = table.indexes.values().next().expect("the index");
    assert_eq!(index.columns, ["NULL", "c\"d", "e f"]);
}

async fn replayed(
    scratches: &skein_core::schema::replay::Scratches,
    url: &str,
    files: &[(&str, &str)],
) -> skein_core::Result<Schema> {
    let dir = folder(files);
    let migrations = load(dir.path());
    let head = migrations.iter().map(|m| m.version).max();
    scratches
        .replay(
            url,
            &migrations,
            head,
            &skein_core::ConnectOptions::default(),
        )
        .await
}

fn tables(schema: &Schema) -> Vec<String> {
    schema.tables.keys().cloned().collect()
}

/// The replays of one command on one server share a scratch database: each runs in one
/// transaction, rolled back once inspected, so the next starts from a fresh database as if
/// it had one of its own. What would not replay the same way so (`SET LOCAL`, which
/// outlives its file in one transaction; a deferred constraint its file's commit would
/// check; a file outside a transaction) gets the same schema, or the same failure, as a
/// replay file by file.
#[tokio::test]
async fn replays_on_one_server_share_a_scratch_database_and_each_starts_fresh() {
    let (db, live) = built_from("shared_scratch", HISTORY_A).await;
    let scratches = skein_core::schema::replay::Scratches::default();

    let a = replayed(&scratches, &db.url, HISTORY_A).await.unwrap();
    assert_eq!(a.fingerprint(), live.fingerprint());
    let shared = scratches.databases();
    assert_eq!(shared.len(), 1, "{shared:?}");
    let b = replayed(
        &scratches,
        &db.url,
        &[("1_b.up.sql", "CREATE TABLE b (id INT);\n")],
    )
    .await
    .unwrap();
    assert_eq!(tables(&b), ["public.b"], "nothing of the replay before");
    assert_eq!(scratches.databases(), shared, "the same database");
    let again = replayed(&scratches, &db.url, HISTORY_A).await.unwrap();
    assert_eq!(again.fingerprint(), live.fingerprint());

    // `SET LOCAL` ends with its file's transaction: the next file's table is in public.
    let local = replayed(
        &scratches,
        &db.url,
        &[
            (
                "1_a.up.sql",
                "CREATE SCHEMA other;\nSET LOCAL search_path = other, public;\n",
            ),
            ("2_b.up.sql", "CREATE TABLE t (id INT);\n"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(tables(&local), ["public.t"]);

    // A migration that loops over the tables sees the history table, as under `up`.
    let audit: &[(&str, &str)] = &[
        ("1_a.up.sql", "CREATE TABLE t (id INT);\n"),
        (
            "2_audit.up.sql",
            "DO $$ DECLARE r record; BEGIN\n\
             FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP\n\
             EXECUTE format('CREATE TABLE %I (id INT)', 'audit_' || r.tablename);\n\
             END LOOP; END $$;\n",
        ),
    ];
    let (audited, audited_live) = built_from("shared_scratch_audit", audit).await;
    assert!(
        audited_live
            .tables
            .contains_key("public.audit_skein_history"),
        "{:?}",
        tables(&audited_live)
    );
    let replayed_audit = replayed(&scratches, &audited.url, audit).await.unwrap();
    assert_eq!(
        tables(&replayed_audit),
        tables(&audited_live),
        "the replay made what up made"
    );

    // A file outside a transaction.
    let outside = replayed(
        &scratches,
        &db.url,
        &[
            ("1_a.up.sql", "CREATE TABLE t (id INT);\n"),
            (
                "2_b.up.sql",
                "-- skein:no-transaction\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n",
            ),
        ],
    )
    .await
    .unwrap();
    assert_eq!(outside.tables["public.t"].indexes.len(), 1);

    // A deferred foreign key its file leaves broken fails that file's commit.
    let deferred = replayed(
        &scratches,
        &db.url,
        &[(
            "1_a.up.sql",
            "CREATE TABLE p (id INT PRIMARY KEY);\n\
             CREATE TABLE c (p INT REFERENCES p DEFERRABLE INITIALLY DEFERRED);\n\
             INSERT INTO c VALUES (1);\n",
        )],
    )
    .await;
    assert!(deferred.is_err(), "{deferred:?}");

    // A failure is named at its file and line.
    let failed = replayed(
        &scratches,
        &db.url,
        &[
            ("1_a.up.sql", "CREATE TABLE x (id INT);\n"),
            (
                "2_b.up.sql",
                "CREATE TABLE y (id INT);\nCREATE TABLE x (id INT);\n",
            ),
        ],
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(failed.contains("2_b.up.sql:2"), "{failed}");

    // And the next replay still starts fresh.
    let after = replayed(
        &scratches,
        &db.url,
        &[("1_b.up.sql", "CREATE TABLE b (id INT);\n")],
    )
    .await
    .unwrap();
    assert_eq!(tables(&after), ["public.b"]);

    let held = scratches.databases();
    assert_eq!(held.len(), 1, "{held:?}");
    scratches.close().await.unwrap();
    assert!(scratches.databases().is_empty());
    let exists = |url: &str| {
        let name = url.rsplit('/').next().unwrap();
        db.value(&format!(
            "SELECT count(*)::text FROM pg_database WHERE datname = '{name}'"
        ))
        .as_deref()
            == Some("1")
    };
    assert!(!exists(&held[0]));

    // Never closed (a panic unwinding through the command): dropped all the same.
    let forgotten = skein_core::schema::replay::Scratches::default();
    replayed(&forgotten, &db.url, HISTORY_A).await.unwrap();
    let held = forgotten.databases();
    assert!(exists(&held[0]));
    drop(forgotten);
    assert!(!exists(&held[0]));
}

/// A stop asked for while the server is making the scratch database does not leave it
/// there: the CREATE, once sent, is seen through (the server would finish it anyway), and
/// the database is dropped with the others.
#[tokio::test]
async fn a_stop_while_the_scratch_database_is_made_leaves_none_behind() {
    use sqlx::Connection as _;
    let db = TestDb::new("scratch_stop");
    let admin = db.url.rsplit_once('/').unwrap().0.to_owned() + "/postgres";
    // Every CREATE DATABASE on the server waits behind this lock until it is let go.
    let mut holder = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE pg_database IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut holder)
        .await
        .unwrap();
    let stop = skein_core::stop::Stop::default();
    let options = skein_core::ConnectOptions {
        stop: stop.clone(),
        ..skein_core::ConnectOptions::default()
    };
    let dir = folder(HISTORY_A);
    let migrations = load(dir.path());
    let scratches = std::sync::Arc::new(skein_core::schema::replay::Scratches::default());
    let replaying = {
        let (scratches, url) = (scratches.clone(), db.url.clone());
        tokio::spawn(async move {
            scratches
                .replay(&url, &migrations, Some(3), &options)
                .await
                .map(|schema| schema.fingerprint())
        })
    };
    // Ours is the CREATE waiting for the lock, with this test's scratch name in it.
    let mut watcher = sqlx::PgConnection::connect(&admin).await.unwrap();
    let mut waiting = None;
    for _ in 0..500 {
        waiting = sqlx::query_scalar::<_, String>(
            "SELECT substring(query from 'skein_scratch_[0-9a-f]+') FROM pg_stat_activity \
             WHERE query LIKE 'CREATE DATABASE %skein_scratch_%' AND wait_event_type = 'Lock' LIMIT 1",
        )
        .fetch_optional(&mut watcher)
        .await
        .unwrap();
        if waiting.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let name = waiting.expect("the scratch database's CREATE waits for the lock");
    stop.request();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    sqlx::raw_sql("COMMIT").execute(&mut holder).await.unwrap();
    let _ = replaying.await.unwrap();
    scratches.close().await.unwrap();
    // The server may still be finishing a CREATE whose client has gone.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_one(&mut watcher)
        .await
        .unwrap();
    if left > 0 {
        let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
            .execute(&mut watcher)
            .await;
    }
    assert_eq!(left, 0, "{name} was left on the server");
}
