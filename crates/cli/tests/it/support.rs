//! A workspace in a temporary folder and a way to run `skein` in it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    /// A workspace with `skein.toml` and migration files (`folder/name`, contents).
    pub fn new(config: &str, files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("skein.toml"), config).unwrap();
        let workspace = Workspace { dir };
        for (path, content) in files {
            workspace.write(path, content);
        }
        workspace
    }

    /// One PostgreSQL database `app` at `url`, migrations in `migrations/`.
    pub fn postgres(url: &str, files: &[(&str, &str)]) -> Self {
        let config =
            format!("[default.databases.app]\nmigrations = \"migrations\"\nurl = \"{url}\"\n");
        let files: Vec<(String, &str)> = files
            .iter()
            .map(|(n, c)| (format!("migrations/{n}"), *c))
            .collect();
        let files: Vec<(&str, &str)> = files.iter().map(|(n, c)| (n.as_str(), *c)).collect();
        Workspace::new(&config, &files)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, path: &str, content: &str) {
        let path = self.dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(skein());
        command
            .current_dir(self.dir.path())
            .args(args)
            .env_remove("SKEIN_PROFILE");
        command
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run(self.command(args).output().unwrap())
    }
}

pub fn skein() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_skein"))
}

/// A finished run of skein.
pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.0.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout()))
    }
    /// Asserts the exit code, showing the output when it differs.
    pub fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code(),
            code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}

/// Each database's name and status in a JSON report, in the report's order.
pub fn statuses_in_order(report: &serde_json::Value) -> Vec<(String, String)> {
    report["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_owned(),
                d["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The `version` of each entry of the first database's `field` (`steps`, `edits`).
pub fn versions_in(report: &serde_json::Value, field: &str) -> Vec<i64> {
    report["databases"][0][field]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["version"].as_i64().unwrap())
        .collect()
}

/// The state of each migration in a `history --format json` report.
pub fn migration_states(history: &serde_json::Value) -> Vec<String> {
    history["databases"][0]["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap().to_owned())
        .collect()
}

/// Each database's status in a JSON report, by name.
pub fn statuses_of(report: &serde_json::Value) -> std::collections::BTreeMap<String, String> {
    report["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_owned(),
                d["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The fingerprint `inspect` gives database `db` of `workspace`.
pub fn fingerprint(workspace: &Workspace, db: &str) -> String {
    workspace
        .run(&["inspect", "--db", db, "--format", "json"])
        .expect(0)
        .json()["databases"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The text of the file in `folder` whose name ends with `suffix` (a migration `new`
/// wrote, named by the clock).
pub fn written(folder: &Path, suffix: &str) -> String {
    let path = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(suffix))
        .unwrap_or_else(|| panic!("no file ending with {suffix} in {}", folder.display()));
    std::fs::read_to_string(path).unwrap()
}

/// Runs SQL on the SQLite file at `path`; the error, if it fails.
pub fn sqlite(path: &Path, sql: &str) -> Result<(), String> {
    let url = format!("sqlite://{}", path.display());
    let sql = sql.to_owned();
    skein_testkit::block_on(async move {
        use sqlx::Connection as _;
        let mut conn = sqlx::sqlite::SqliteConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

/// The first column of the first row `sql` gives on the SQLite file at `path` (text).
pub fn sqlite_text(path: &Path, sql: &str) -> String {
    let url = format!("sqlite://{}", path.display());
    let sql = sql.to_owned();
    skein_testkit::block_on(async move {
        use sqlx::Connection as _;
        let mut conn = sqlx::sqlite::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query_scalar::<_, Option<String>>(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut conn)
            .await
            .unwrap()
            .unwrap_or_default()
    })
}
