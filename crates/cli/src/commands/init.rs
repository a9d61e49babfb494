//! `init`: a commented skein.toml and an empty migration folder in the current folder.

use crate::cli::{Backend, InitArgs};
use crate::report::{Body, sections::InitReport};
use anyhow::Context as _;
use std::path::Path;

/// The database `init` configures.
const NAME: &str = "app";
const MIGRATIONS: &str = "migrations";

pub fn run(args: &InitArgs, url: Option<&str>) -> anyhow::Result<Body> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let config = cwd.join(skein_config::load::FILE_NAME);
    if config.exists() {
        anyhow::bail!(
            "{} exists already; `init` does not overwrite it (edit it, or remove it first)",
            config.display()
        );
    }
    // DATABASE_URL (from the environment or .env) names the database when --url does not:
    // the new file refers to it, so that the two never disagree.
    let from_environment = std::env::var(skein_config::load::DATABASE_URL)
        .ok()
        .filter(|url| !url.trim().is_empty());
    let backend = match (args.backend, url, &from_environment) {
        (Some(backend), _, _) => backend,
        (None, Some(url), _) => backend_of(url)?,
        (None, None, Some(url)) => backend_of(url).context(
            "DATABASE_URL is set to a URL skein cannot use; pass --backend, or fix DATABASE_URL",
        )?,
        (None, None, None) => Backend::Sqlite,
    };
    let url = match (url, &from_environment) {
        (Some(url), _) => Some(url),
        (None, Some(_)) => Some("${env:DATABASE_URL}"),
        (None, None) => None,
    };
    let text = config_text(backend, url);
    let migrations = cwd.join(MIGRATIONS);
    std::fs::create_dir_all(&migrations)
        .with_context(|| format!("cannot create {}", migrations.display()))?;
    write_new(&config, &text)?;
    Ok(Body::Init(InitReport {
        config: skein_config::load::FILE_NAME.to_owned(),
        migrations: MIGRATIONS.to_owned(),
        backend: name_of(backend).to_owned(),
    }))
}

/// The backend of `--url`, a SQLAlchemy-style `+driver` aside.
fn backend_of(url: &str) -> anyhow::Result<Backend> {
    use skein_schemes::Kind;
    let scheme = skein_schemes::scheme(url);
    Ok(match Kind::of_url(url) {
        Some(Kind::Postgres) => Backend::Postgres,
        Some(Kind::Sqlite) => Backend::Sqlite,
        Some(Kind::MySql) => Backend::Mysql,
        None => anyhow::bail!(
            "`{scheme}://` is not a backend skein knows ({})",
            skein_schemes::all_schemes()
                .map(|s| format!("{s}://"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

fn name_of(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "postgres",
        Backend::Sqlite => "sqlite",
        Backend::Mysql => "mysql",
    }
}

/// Creates `path` with `text`, failing if something is there already.
fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

fn config_text(backend: Backend, url: Option<&str>) -> String {
    let quoted = |url: &str| toml_edit::Value::from(url).to_string().trim().to_owned();
    let (url_line, note) = match (backend, url) {
        (_, Some("${env:DATABASE_URL}")) => (
            "url = \"${env:DATABASE_URL}\"".to_owned(),
            "# DATABASE_URL comes from the environment, or from .env in this folder.",
        ),
        (_, Some(url)) => (
            format!("url = {}", quoted(url)),
            "# Keep passwords out of this file: ${env:NAME} or a secret manager reference.",
        ),
        (Backend::Sqlite, None) => (
            format!("url = \"sqlite://{NAME}.db\""),
            "# A SQLite file beside this one; made on the first `skein up`.",
        ),
        (Backend::Postgres | Backend::Mysql, None) => (
            "url = \"${env:DATABASE_URL}\"".to_owned(),
            "# DATABASE_URL comes from the environment, or from .env in this folder.",
        ),
    };
    let example = match backend {
        Backend::Mysql => "mysql://app:${aws-sm:app/prod/db#password}@db.internal:3306/app",
        _ => "postgres://app:${aws-sm:app/prod/db#password}@db.internal:5432/app",
    };
    format!(
        r#"# skein's configuration. Every setting: the README's "Configuration" section.
#
# [default] applies everywhere; another profile (`--profile prod` or SKEIN_PROFILE=prod)
# overrides it, and SKEIN_... environment variables override both
# (e.g. SKEIN_DATABASES__{upper}__URL).

[default]
# history_table = "skein_history"  # where skein records what it applied
# lock_timeout = "60s"             # how long to wait for another skein's lock
# step_timeout = "10m"             # the longest one migration step may run

[default.databases.{NAME}]
{note}
{url_line}
migrations = "{MIGRATIONS}"        # `skein new "create users"` writes here

# Production: the password from a secret manager, and `db drop` / `db reset` refused.
# [prod]
# protected = true
#
# [prod.databases.{NAME}]
# url = "{example}"
"#,
        upper = NAME.to_uppercase(),
    )
}
