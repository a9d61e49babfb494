//! Test support, all real servers: PostgreSQL (the one at `SKEIN_TEST_POSTGRES_URL`, or a
//! throwaway cluster), a password-checking PostgreSQL cluster, MariaDB (the one at
//! `SKEIN_TEST_MYSQL_URL`), `moto_server` for AWS
//! Secrets Manager, a GCP token and Secret Manager stub, and other migration tools
//! (`dbmate`, `alembic`), the programs installed into a cache on first use. Everything a
//! test starts is stopped when the test process exits.

mod gcp;
mod moto;
mod mysql;
mod postgres;
mod proxy;
mod tools;

pub use gcp::{GcpSecret, GcpStub, silent_endpoint};
pub use moto::{Moto, moto};
pub use mysql::{MyTestDb, my_exec, mysql};
pub use postgres::{
    Cluster, PgServer, SCRAM_PASSWORD, TestDb, exec, password_server, pg_program, postgres,
    with_database,
};
pub use proxy::FreezingProxy;
pub use tools::{alembic, chromium, dbmate, moto_server, vnu_jar};

use std::future::Future;
use std::process::{Command, Stdio};

/// `skein_test_<tag>_<pid>_<n>`: a database name no other test (or test process) uses.
pub(crate) fn unique_name(tag: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("skein_test_{tag}_{}_{n}", std::process::id())
}

/// Runs a future to completion on a runtime of its own, from sync or async code alike.
pub fn block_on<F>(future: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a test runtime starts")
                    .block_on(future)
            })
            .join()
            .expect("the test runtime thread does not panic")
    })
}

/// Runs `stop` (a shell command) once this test process has exited, however it ends.
pub(crate) fn when_this_process_exits(stop: &str) -> std::io::Result<()> {
    let script = format!(
        "while kill -0 {} 2>/dev/null; do sleep 1; done; {stop}",
        std::process::id()
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|_| ())
}

/// Waits until `check` holds, polling, and fails the test naming `what` after `limit`.
pub fn wait_until(what: &str, limit: std::time::Duration, check: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within {limit:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("a local address").port()
}

/// Waits until something accepts connections on `port`.
pub(crate) fn wait_for_port(port: u16, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} did not start on port {port}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
