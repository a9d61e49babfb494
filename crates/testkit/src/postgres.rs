//! PostgreSQL for tests: the shared server (or a throwaway cluster), a password-checking
//! cluster, and databases with unique names that are dropped when the test ends.

use crate::{block_on, free_port, when_this_process_exits};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The superuser password of [`password_server`]: every character that needs care in a URL.
pub const SCRAM_PASSWORD: &str = "p@ss:w/rd %#?&=s3cr3t";

/// The PostgreSQL server the tests use.
pub struct PgServer {
    /// A URL to the server's maintenance database, for CREATE/DROP DATABASE.
    pub admin_url: String,
}

impl PgServer {
    /// `host:port` of the server.
    pub fn authority(&self) -> String {
        let rest = self
            .admin_url
            .split_once("://")
            .map_or(self.admin_url.as_str(), |(_, r)| r);
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        rest.split('/').next().unwrap_or(rest).to_owned()
    }
}

/// The server, found or started once per test binary.
pub fn postgres() -> &'static PgServer {
    static SERVER: OnceLock<PgServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let url = std::env::var("SKEIN_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
        if answers(&url) {
            return PgServer { admin_url: url };
        }
        match start_throwaway_cluster(None) {
            Ok(admin_url) => PgServer { admin_url },
            Err(why) => panic!(
                "no PostgreSQL answers at {url} and no throwaway cluster could be started ({why}).\n\
                 Start one (e.g. `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`) \
                 or point SKEIN_TEST_POSTGRES_URL at a server where the user may create databases."
            ),
        }
    })
}

/// A throwaway cluster that checks passwords (scram-sha-256): user `postgres`, password
/// [`SCRAM_PASSWORD`]. Started once per test binary.
pub fn password_server() -> &'static PgServer {
    static SERVER: OnceLock<PgServer> = OnceLock::new();
    SERVER.get_or_init(|| match start_throwaway_cluster(Some(SCRAM_PASSWORD)) {
        Ok(admin_url) => PgServer { admin_url },
        Err(why) => panic!(
            "cannot start a password-checking PostgreSQL cluster ({why}); the tests need the \
             PostgreSQL server packages (initdb, pg_ctl) on PATH or under /usr/lib/postgresql"
        ),
    })
}

fn answers(url: &str) -> bool {
    let url = url.to_owned();
    block_on(async move {
        match tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(&url)).await {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                true
            }
            _ => false,
        }
    })
}

/// A database made for one test; dropped (with its connections) when this value drops.
pub struct TestDb {
    pub name: String,
    pub url: String,
    admin_url: String,
}

impl TestDb {
    /// A fresh, empty database named `skein_test_<tag>_<pid>_<n>` on the shared server.
    pub fn new(tag: &str) -> Self {
        TestDb::on(postgres(), tag)
    }

    /// A fresh, empty database on `server`.
    pub fn on(server: &PgServer, tag: &str) -> Self {
        let name = crate::unique_name(tag);
        let admin_url = server.admin_url.clone();
        exec(&admin_url, &format!("DROP DATABASE IF EXISTS \"{name}\""));
        exec(&admin_url, &format!("CREATE DATABASE \"{name}\""));
        let url = with_database(&admin_url, &name);
        TestDb {
            name,
            url,
            admin_url,
        }
    }

    /// Runs SQL (several statements allowed) in this database.
    pub fn exec(&self, sql: &str) {
        exec(&self.url, sql);
    }

    /// The first column of every row of `sql`, as text.
    pub fn column(&self, sql: &str) -> Vec<Option<String>> {
        let url = self.url.clone();
        let sql = sql.to_owned();
        block_on(async move {
            let mut conn = PgConnection::connect(&url)
                .await
                .expect("connect to the test database");
            let rows: Vec<(Option<String>,)> = sqlx::query_as(AssertSqlSafe(sql))
                .fetch_all(&mut conn)
                .await
                .expect("query the test database");
            let _ = conn.close().await;
            rows.into_iter().map(|(v,)| v).collect()
        })
    }

    /// One text value.
    pub fn value(&self, sql: &str) -> Option<String> {
        self.column(sql).into_iter().next().flatten()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        exec(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        );
    }
}

/// Runs SQL at `url`, panicking with the server's message on failure.
pub fn exec(url: &str, sql: &str) {
    let url = url.to_owned();
    let sql = sql.to_owned();
    block_on(async move {
        let mut conn = PgConnection::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
        sqlx::raw_sql(AssertSqlSafe(sql.clone()))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let _ = conn.close().await;
    })
}

/// `url` with its database replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{database}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// A PostgreSQL program (`initdb`, `pg_ctl`, `psql`, `pg_dump`) from PATH or the Debian layout.
pub fn pg_program(name: &str) -> Option<PathBuf> {
    let from_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    from_path.or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin").join(name)))
            .filter(|p| p.is_file())
            .collect();
        versions.sort();
        versions.pop()
    })
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL program, as the `postgres` user when we are root (initdb refuses root).
fn run_pg(program: &Path, args: &[&str], as_postgres: bool) -> Result<(), String> {
    let mut command = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    let output = command
        .args(args)
        .output()
        .map_err(|e| format!("{}: {e}", program.display()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} failed: {}",
            program.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// Makes a cluster in a temporary folder on a free port (trust auth, or scram-sha-256 with
/// `password` for `postgres`) and arranges for it to stop when this process exits.
/// Returns its admin URL.
fn start_throwaway_cluster(password: Option<&str>) -> Result<String, String> {
    Cluster::start_new(password, "").map(|cluster| cluster.admin_url)
}

/// A throwaway cluster of one test's own, which it may crash and start again.
pub struct Cluster {
    pub admin_url: String,
    pg_ctl: PathBuf,
    data: String,
    options: String,
    log: String,
    as_postgres: bool,
}

impl Cluster {
    /// Stops the server at once, as a crash of its processes would: what they had not
    /// written out (WAL still in shared memory) is lost, and the next start recovers.
    pub fn crash(&self) -> Result<(), String> {
        run_pg(
            &self.pg_ctl,
            &["-D", &self.data, "-m", "immediate", "stop"],
            self.as_postgres,
        )
    }

    /// Starts the server again (after [`Cluster::crash`]), recovering from its WAL.
    pub fn start(&self) -> Result<(), String> {
        run_pg(
            &self.pg_ctl,
            &[
                "-D",
                &self.data,
                "-o",
                &self.options,
                "-l",
                &self.log,
                "-w",
                "start",
            ],
            self.as_postgres,
        )
    }

    /// Makes and starts a cluster (see [`start_throwaway_cluster`]); `settings` are more
    /// server options (`-c name=value ...`).
    pub fn start_new(password: Option<&str>, settings: &str) -> Result<Cluster, String> {
        let initdb =
            pg_program("initdb").ok_or("initdb not found on PATH or under /usr/lib/postgresql")?;
        let pg_ctl = pg_program("pg_ctl").ok_or("pg_ctl not found")?;
        let as_postgres = running_as_root();
        let dir = tempfile::Builder::new()
            .prefix("skein-pg-")
            .tempdir()
            .map_err(|e| e.to_string())?
            .keep();
        let data = dir.join("data");
        let data_str = data.to_string_lossy().into_owned();
        let mut init_args = vec![
            "-D".to_owned(),
            data_str.clone(),
            "-U".to_owned(),
            "postgres".to_owned(),
            "--no-sync".to_owned(),
        ];
        match password {
            Some(password) => {
                let pwfile = dir.join("pwfile");
                std::fs::write(&pwfile, password).map_err(|e| e.to_string())?;
                init_args.extend([
                    "--auth=scram-sha-256".to_owned(),
                    format!("--pwfile={}", pwfile.display()),
                ]);
            }
            None => init_args.extend(["-A".to_owned(), "trust".to_owned()]),
        }
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(&dir)
                .status()
                .map_err(|e| e.to_string())?;
            if !status.success() {
                return Err("cannot chown the cluster folder to postgres".to_owned());
            }
        }
        let init_args: Vec<&str> = init_args.iter().map(String::as_str).collect();
        run_pg(&initdb, &init_args, as_postgres)?;
        let port = free_port();
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c max_connections=300 {settings}",
            dir.display()
        );
        let log = dir.join("server.log").to_string_lossy().into_owned();
        run_pg(
            &pg_ctl,
            &["-D", &data_str, "-o", &options, "-l", &log, "-w", "start"],
            as_postgres,
        )?;
        let stop = format!(
            "{runner}{pg_ctl} -D {data} -m immediate stop; rm -rf {dir}",
            runner = if as_postgres {
                "runuser -u postgres -- "
            } else {
                ""
            },
            pg_ctl = pg_ctl.display(),
            data = data_str,
            dir = dir.display(),
        );
        when_this_process_exits(&stop).map_err(|e| e.to_string())?;
        let userinfo = match password {
            Some(password) => format!(
                "postgres:{}",
                percent_encoding::utf8_percent_encode(password, percent_encoding::NON_ALPHANUMERIC)
            ),
            None => "postgres".to_owned(),
        };
        let url = format!("postgres://{userinfo}@127.0.0.1:{port}/postgres");
        eprintln!("skein-testkit: started a throwaway PostgreSQL cluster on port {port}");
        Ok(Cluster {
            admin_url: url,
            pg_ctl,
            data: data_str,
            options,
            log,
            as_postgres,
        })
    }
}
