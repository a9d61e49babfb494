//! Names a hostile user picks: whatever a database name holds, it reaches SQL as one
//! quoted identifier, on every backend.

use crate::support::*;
use skein_core::driver::{create_database, drop_database};
use skein_core::engine::{RunFailure, RunReport};
use skein_core::stop::Stop;
use skein_testkit::{MyTestDb, TestDb, mysql, postgres, with_database};
use std::time::Duration;

/// Every byte that is not a letter or digit, percent-encoded for a URL's path.
fn encode(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

const FILES: [(&str, &str); 1] = [(
    "1_first.up.sql",
    "CREATE TABLE first (id INT PRIMARY KEY);\n",
)];

/// Creates the database `url` names, runs `up` in it, takes `checks` of the server, and
/// drops the database again, whatever happened.
async fn up_in_new_database<T>(
    url: &str,
    checks: impl FnOnce() -> T,
) -> (Result<RunReport, RunFailure>, T) {
    assert!(
        create_database(url, Duration::from_secs(5), &Stop::default())
            .await
            .unwrap(),
        "created"
    );
    let dir = folder(&FILES);
    let result = up(url, dir.path()).await;
    let checked = checks();
    drop_database(url).await.unwrap();
    (result, checked)
}

#[tokio::test]
async fn a_mysql_database_name_with_backticks_stays_one_name() {
    let victim = MyTestDb::new("victim");
    // Within MySQL's 64 characters, so that only the quoting is tested here.
    let hostile = format!("x`.t(i int);DROP DATABASE `{}`;#", victim.name);
    let url = with_database(mysql(), &encode(&hostile));
    let (result, (victim_left, applied)) = up_in_new_database(&url, || {
        let victim_left = victim.value(&format!(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name = '{}'",
            victim.name
        ));
        let applied = victim.value(&format!(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '{}' \
             AND table_name IN ('first', 'skein_history')",
            hostile.replace('\'', "''")
        ));
        (victim_left, applied)
    })
    .await;
    result.unwrap();
    assert_eq!(victim_left.as_deref(), Some(victim.name.as_str()));
    assert_eq!(applied.as_deref(), Some("2"));
}

#[tokio::test]
async fn a_postgres_database_name_with_double_quotes_stays_one_name() {
    let victim = TestDb::new("victim");
    // Within PostgreSQL's 63 bytes, so that only the quoting is tested here.
    let hostile = format!("x\"; DROP DATABASE \"{}\"; --", victim.name);
    let url = with_database(&postgres().admin_url, &encode(&hostile));
    let named = |name: &str| {
        victim.value(&format!(
            "SELECT datname FROM pg_database WHERE datname = '{}'",
            name.replace('\'', "''")
        ))
    };
    let (result, (victim_left, hostile_left)) =
        up_in_new_database(&url, || (named(&victim.name), named(&hostile))).await;
    result.unwrap();
    assert_eq!(victim_left.as_deref(), Some(victim.name.as_str()));
    assert_eq!(hostile_left.as_deref(), Some(hostile.as_str()));
}
