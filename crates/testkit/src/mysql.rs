//! MariaDB (or MySQL) for tests: the server at `SKEIN_TEST_MYSQL_URL`, and databases with
//! unique names that are dropped when the test ends.

use crate::block_on;
use sqlx::mysql::MySqlConnection;
use sqlx::{AssertSqlSafe, Connection as _, Row as _};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const DEFAULT_URL: &str = "mysql://root@127.0.0.1:3306/test";

/// A URL to the MySQL/MariaDB server the tests use, checked once per test binary.
pub fn mysql() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let url = std::env::var("SKEIN_TEST_MYSQL_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
        let probe = url.clone();
        let answer = block_on(async move {
            tokio::time::timeout(Duration::from_secs(5), MySqlConnection::connect(&probe)).await
        });
        match answer {
            Ok(Ok(conn)) => {
                block_on(async move {
                    let _ = conn.close().await;
                });
                url
            }
            Ok(Err(e)) => panic!(
                "MariaDB at {url} refused the tests: {e}.\nStart it (e.g. `start-stop-daemon --start \
                 --oknodo --background --exec /usr/sbin/mariadbd`) or point SKEIN_TEST_MYSQL_URL at \
                 a server where the user may create databases."
            ),
            Err(_) => panic!(
                "no MariaDB answers at {url} within 5 s.\nStart it (e.g. `start-stop-daemon --start \
                 --oknodo --background --exec /usr/sbin/mariadbd`) or point SKEIN_TEST_MYSQL_URL at \
                 a server where the user may create databases."
            ),
        }
    })
}

/// A MySQL/MariaDB database made for one test; dropped when this value drops.
pub struct MyTestDb {
    pub name: String,
    pub url: String,
}

impl MyTestDb {
    /// A fresh, empty database named `skein_test_<tag>_<pid>_<n>`.
    pub fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("skein_test_{tag}_{}_{n}", std::process::id());
        let server = mysql();
        my_exec(server, &format!("DROP DATABASE IF EXISTS `{name}`"));
        my_exec(server, &format!("CREATE DATABASE `{name}`"));
        let url = crate::with_database(server, &name);
        MyTestDb { name, url }
    }

    /// Runs SQL (several statements allowed) in this database.
    pub fn exec(&self, sql: &str) {
        my_exec(&self.url, sql);
    }

    /// The first column of every row of `sql`, as text (integers are turned into text).
    pub fn column(&self, sql: &str) -> Vec<Option<String>> {
        let url = self.url.clone();
        let sql = sql.to_owned();
        block_on(async move {
            let mut conn = MySqlConnection::connect(&url)
                .await
                .expect("connect to the test database");
            let rows = sqlx::query(AssertSqlSafe(sql.clone()))
                .fetch_all(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            let _ = conn.close().await;
            rows.iter()
                .map(|row| {
                    row.try_get::<Option<String>, _>(0)
                        .or_else(|_| {
                            row.try_get::<Option<i64>, _>(0)
                                .map(|v| v.map(|v| v.to_string()))
                        })
                        .unwrap_or_else(|e| {
                            panic!("{sql}: the first column is not text or an integer: {e}")
                        })
                })
                .collect()
        })
    }

    /// One text value.
    pub fn value(&self, sql: &str) -> Option<String> {
        self.column(sql).into_iter().next().flatten()
    }
}

impl Drop for MyTestDb {
    fn drop(&mut self) {
        my_exec(mysql(), &format!("DROP DATABASE IF EXISTS `{}`", self.name));
    }
}

/// Runs SQL at `url`, panicking with the server's message on failure.
pub fn my_exec(url: &str, sql: &str) {
    let url = url.to_owned();
    let sql = sql.to_owned();
    block_on(async move {
        let mut conn = MySqlConnection::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
        sqlx::raw_sql(AssertSqlSafe(sql.clone()))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let _ = conn.close().await;
    })
}
