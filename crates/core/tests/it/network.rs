//! A step in flight under a step limit, a stop request and a network that freezes: the
//! run ends promptly, the server is left with nothing half-done, and the lock goes.

use crate::support::*;
use skein_core::engine::{self, RunOptions, Silent};
use skein_core::error::Error;
use skein_core::plan::Target;
use skein_core::stop::Stop;
use skein_testkit::{FreezingProxy, TestDb, postgres, wait_until};
use std::time::{Duration, Instant};

const SLOW: (&str, &str) = (
    "1_slow.up.sql",
    "CREATE TABLE slow_a (id INT);\nSELECT pg_sleep(4);\nCREATE TABLE slow_b (id INT);\n",
);

/// Runs `up` of [`SLOW`] against `url` while `side` runs (a freeze, a stop); returns the
/// result, what `side` gave, and how long the run took. The connection is dropped, not
/// closed: the network may be frozen.
async fn run_alongside<T>(
    url: &str,
    options: RunOptions,
    side: impl std::future::Future<Output = T>,
) -> (Result<engine::RunReport, engine::RunFailure>, T, Duration) {
    let dir = folder(&[SLOW]);
    let migrations = load(dir.path());
    let mut conn = connect(url).await;
    let started = Instant::now();
    let (result, sided) = tokio::join!(
        engine::migrate(
            &mut conn,
            &migrations,
            Target::Up {
                to: None,
                steps: None
            },
            &options,
            &Silent
        ),
        side
    );
    (result, sided, started.elapsed())
}

/// A freezing proxy in front of the server, and `db`'s URL through it.
fn through_proxy(db: &TestDb) -> (FreezingProxy, String) {
    let proxy = FreezingProxy::start(&postgres().authority());
    let url = db.url.replacen(
        &postgres().authority(),
        &format!("127.0.0.1:{}", proxy.port),
        1,
    );
    (proxy, url)
}

fn advisory_locks(db: &TestDb) -> String {
    db.value(
        "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .unwrap_or_default()
}

#[tokio::test]
async fn a_step_over_its_limit_is_cancelled_on_the_server_and_rolled_back() {
    let db = TestDb::new("step_limit");
    let options = RunOptions {
        step_timeout: Some(Duration::from_secs(1)),
        ..options()
    };
    let (result, (), took) = run_alongside(&db.url, options, async {}).await;
    let failure = result.unwrap_err();
    assert!(
        matches!(failure.error, Error::StepTimeout { version: 1, .. }),
        "{}",
        failure.error
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(db.value("SELECT to_regclass('slow_a')::text"), None);
    assert_eq!(history(&db), Vec::<String>::new());
    assert_eq!(advisory_locks(&db), "0");
}

#[tokio::test]
async fn a_stop_request_cancels_a_step_in_a_transaction_within_seconds() {
    let db = TestDb::new("stop_step");
    let stop = Stop::default();
    let options = RunOptions {
        stop: stop.clone(),
        ..options()
    };
    let request = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.request();
    };
    let (result, (), took) = run_alongside(&db.url, options, request).await;
    let failure = result.unwrap_err();
    assert!(
        matches!(failure.error, Error::Stopped { .. }),
        "{}",
        failure.error
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(db.value("SELECT to_regclass('slow_a')::text"), None);
    assert_eq!(advisory_locks(&db), "0");
}

#[tokio::test]
async fn a_frozen_network_ends_the_run_and_leaves_the_migration_whole_or_absent() {
    let db = TestDb::new("frozen");
    let (proxy, url) = through_proxy(&db);
    let options = RunOptions {
        liveness: Some(Duration::from_secs(1)),
        ..options()
    };
    let freeze = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        proxy.freeze();
    };
    let (result, (), took) = run_alongside(&url, options, freeze).await;
    let failure = result.unwrap_err();
    assert!(
        matches!(failure.error, Error::ConnectionLost { gone: false, .. }),
        "{}",
        failure.error
    );
    // Two probes of a second each went unanswered; releasing the lock then gets a
    // second before the session is simply closed.
    assert!(took < Duration::from_secs(8), "took {took:?}");
    drop(proxy);
    wait_until(
        "the server ends the orphaned session and frees its lock",
        Duration::from_secs(10),
        || advisory_locks(&db) == "0",
    );
    let a = db.value("SELECT to_regclass('slow_a')::text").is_some();
    let b = db.value("SELECT to_regclass('slow_b')::text").is_some();
    let recorded = !history(&db).is_empty();
    assert!(
        a == b && b == recorded,
        "whole or absent: a={a} b={b} recorded={recorded}"
    );
}

#[tokio::test]
async fn a_stop_behind_a_frozen_network_ends_promptly_and_claims_no_rollback() {
    let db = TestDb::new("frozen_stop");
    let (proxy, url) = through_proxy(&db);
    let stop = Stop::default();
    let options = RunOptions {
        stop: stop.clone(),
        ..options()
    };
    let freeze_then_stop = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        proxy.freeze();
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.request();
        Instant::now()
    };
    let (result, stopped_at, _) = run_alongside(&url, options, freeze_then_stop).await;
    let took = stopped_at.elapsed();
    let error = result.unwrap_err().error;
    let text = error.to_string();
    assert!(matches!(error, Error::Stopped { .. }), "{text}");
    assert!(text.contains("could not be reached to cancel it"), "{text}");
    assert!(!text.contains("cancelled and rolled back"), "{text}");
    assert!(
        took < Duration::from_secs(4),
        "took {took:?} after the stop"
    );
    drop(proxy);
    wait_until(
        "the server ends the orphaned session and frees its lock",
        Duration::from_secs(10),
        || advisory_locks(&db) == "0",
    );
}
