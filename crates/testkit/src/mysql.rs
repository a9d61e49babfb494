//! MariaDB (or MySQL) for tests: the server at `SKEIN_TEST_MYSQL_URL`, and databases with
//! unique names that are dropped when the test ends.

use crate::block_on;
use sqlx::mysql::MySqlConnection;
use sqlx::{AssertSqlSafe, Connection as _, Row as _};
use std::sync::OnceLock;
use std::time::Duration;

const DEFAULT_URL: &str = "mysql://root@127.0.0.1:3306/test";

/// A URL to the MySQL/MariaDB server the tests use, checked once per test binary.
pub fn mysql() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let url = std::env::var("SKEIN_TEST_MYSQL_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
        let probe = url.clone();
        let why = block_on(async move {
            match tokio::time::timeout(Duration::from_secs(5), MySqlConnection::connect(&probe)).await {
                Ok(Ok(conn)) => {
                    let _ = conn.close().await;
                    None
                }
                Ok(Err(e)) => Some(format!("it refused the tests: {e}")),
                Err(_) => Some("nothing answered within 5 s".to_owned()),
            }
        });
        if let Some(why) = why {
            panic!(
                "MariaDB at {url}: {why}.\nStart it (e.g. `start-stop-daemon --start --oknodo \
                 --background --exec /usr/sbin/mariadbd`) or point SKEIN_TEST_MYSQL_URL at a server \
                 where the user may create databases."
            );
        }
        url
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
        let name = crate::unique_name(tag);
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
