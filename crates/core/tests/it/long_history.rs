//! A long, real-world-like history (tests/fixtures/long_history) applied by skein gives the
//! schema psql gives for the same files; the newest downs revert cleanly.

use crate::support::*;
use skein_core::plan::{DownTarget, Target};
use skein_testkit::TestDb;
use std::path::PathBuf;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/long_history")
}

#[tokio::test]
async fn long_history_matches_psql_and_reverts() {
    let dir = fixture();
    let migrations = load(&dir);
    assert!(
        migrations.len() >= 200,
        "the fixture has {} migrations",
        migrations.len()
    );

    let by_skein = TestDb::new("long_skein");
    let report = up(&by_skein.url, &dir)
        .await
        .unwrap_or_else(|f| panic!("{}", f.error));
    assert_eq!(report.steps.len(), migrations.len());

    let by_psql = TestDb::new("long_psql");
    for migration in &migrations {
        assert!(
            psql_file(&by_psql.url, &migration.up.path, true),
            "{}",
            migration.up.path.display()
        );
    }
    let skein_schema = schema_dump(&by_skein.url);
    assert!(skein_schema.len() > 10_000);
    assert_eq!(skein_schema, schema_dump(&by_psql.url));

    // The newest 30 downs, newest first, then up again: the same schema.
    let down = run(&by_skein.url, &dir, Target::Down(DownTarget::Steps(30)))
        .await
        .unwrap();
    let reverted: Vec<i64> = down.steps.iter().map(|s| s.version).collect();
    let mut newest: Vec<i64> = migrations
        .iter()
        .rev()
        .take(30)
        .map(|m| m.version)
        .collect();
    newest.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(reverted, newest);
    assert_eq!(history(&by_skein).len(), migrations.len() - 30);
    up(&by_skein.url, &dir).await.unwrap();
    assert_eq!(schema_dump(&by_skein.url), skein_schema);
}
