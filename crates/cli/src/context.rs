//! What every command needs: the loaded workspace, output settings, and the means to open
//! one database with its migrations.

use crate::fleet::Fleet;
use crate::options::{Format, Options};
use crate::preflight::Needs;
use anyhow::Context as _;
use skein_config::{DatabaseUrls, LoadOptions, ResolvedDatabase, Workspace};
use skein_core::Migration;
use skein_core::driver::ConnectOptions;
use skein_core::history::HistoryTable;
use skein_core::source::template::ModelSource;
use skein_core::source::{FolderSource, MigrationSource};
use skein_core::stop::Stop;

pub struct Context {
    pub workspace: Workspace,
    /// The command line's settings.
    pub options: Options,
    /// `user@host skein/<version>`, recorded in the history.
    pub applied_by: String,
    /// Requested when a signal asks the run to stop.
    pub stop: Stop,
    /// How progress is shown on stderr.
    pub progress: crate::progress::Progress,
    /// `up`: the lint to run on the pending migrations first (`[lint] on_up`).
    pub lint_on_up: Option<crate::commands::lint::Policy>,
}

impl Context {
    pub fn load(options: Options) -> anyhow::Result<Self> {
        let cwd = std::env::current_dir().context("cannot read the current folder")?;
        let workspace = skein_config::load(&LoadOptions {
            config: options.config.clone(),
            profile: options.profile.clone(),
            cwd,
            url: options.url.clone(),
            migrations: options.migrations.clone(),
        })?;
        for warning in &workspace.warnings {
            crate::redact::err(&format!("warning: {warning}"));
        }
        for variable in &workspace.ignored_variables {
            tracing::warn!("{variable}");
        }
        Ok(Context {
            workspace,
            applied_by: applied_by(),
            stop: crate::signals::install(),
            lint_on_up: None,
            progress: crate::progress::Progress::new(
                !options.quiet && options.format == Format::Human,
            ),
            options,
        })
    }

    /// How the command runs over the selected databases, whose URLs are `urls`.
    pub fn fleet(&self, urls: &DatabaseUrls) -> Fleet {
        let options = &self.options.fleet;
        Fleet {
            per_host: self.workspace.settings.max_per_host.as_ref().map(|limit| {
                let hosts = urls
                    .urls
                    .iter()
                    .filter_map(|(name, url)| {
                        crate::fleet::server_of(url.expose()).map(|host| (name.clone(), host))
                    })
                    .collect();
                (limit.get().max(1), hosts)
            }),
            concurrency: options
                .concurrency
                .unwrap_or(self.workspace.settings.concurrency.get())
                .max(1),
            max_failures: options.max_failures,
            canaries: std::collections::BTreeSet::new(),
            follow_dependencies: true,
            stop: self.stop.clone(),
            progress: self.progress.fleet(),
        }
    }

    /// Like [`Context::fleet`], for commands whose work on one database does not need
    /// the databases it depends on done first (reads, history edits, converge).
    pub fn unordered_fleet(&self, urls: &DatabaseUrls) -> Fleet {
        Fleet {
            follow_dependencies: false,
            ..self.fleet(urls)
        }
    }

    /// Like [`Context::select`], for commands that change databases in ways that must be
    /// asked for by name: the selection may not be empty, unless only one database is
    /// configured.
    pub fn select_explicit(&self, command: &str) -> anyhow::Result<Vec<&ResolvedDatabase>> {
        let selection = &self.options.selection;
        if selection.databases.is_empty()
            && selection.groups.is_empty()
            && self.workspace.databases.len() != 1
        {
            anyhow::bail!(
                "`{command}` needs the databases named: --db NAME or --group NAME (repeatable)"
            );
        }
        self.select()
    }

    /// The databases the selection names (every one when it names none), narrowed to a
    /// shard when asked.
    pub fn select(&self) -> anyhow::Result<Vec<&ResolvedDatabase>> {
        let databases = self.workspace.select(&self.options.selection)?;
        Ok(match self.options.fleet.shard {
            Some(shard) => crate::fleet::shard(databases, &self.workspace.databases, shard),
            None => databases,
        })
    }

    /// The one database a one-database command works on: the one the selection names, or
    /// with no selection, the only one configured.
    pub fn select_one(&self, command: &str) -> anyhow::Result<&ResolvedDatabase> {
        let selected = self.select()?;
        match selected.as_slice() {
            [one] => Ok(one),
            many => {
                let names: Vec<&str> = many.iter().map(|db| db.name.as_str()).collect();
                let shown = if names.len() > 10 {
                    format!("{}, ... ({} in all)", names[..10].join(", "), names.len())
                } else {
                    names.join(", ")
                };
                Err(crate::preflight::UsageProblem {
                    argument: Some("--db"),
                    message: format!(
                        "`{command}` works on one database and the selection holds {}: name it with --db NAME ({shown})",
                        names.len()
                    ),
                }
                .into())
            }
        }
    }

    /// Connection options for `db`, with `--lock-timeout` over the configured one.
    pub fn connect_options(
        &self,
        db: &ResolvedDatabase,
    ) -> Result<ConnectOptions, skein_core::Error> {
        let history_table = HistoryTable::parse(&db.history_table)?;
        Ok(ConnectOptions {
            history_table,
            lock_timeout: self
                .options
                .timeouts
                .lock
                .unwrap_or(self.workspace.lock_timeout),
            connect_timeout: self.connect_timeout(),
            read_only: false,
            stop: self.stop.clone(),
            init_sql: db.init_sql.clone(),
            sqlite_foreign_keys: db.sqlite_foreign_keys,
            client: self.applied_by.clone(),
            ignore_tables: db.ignore_tables.clone(),
        })
    }

    /// `--connect-timeout`, or 30 s.
    pub fn connect_timeout(&self) -> std::time::Duration {
        self.options
            .timeouts
            .connect
            .unwrap_or(std::time::Duration::from_secs(30))
    }

    /// `db`, ready to open: its resolved URL (from `urls`) and its connection options.
    pub fn prepare<'a>(
        &self,
        db: &'a ResolvedDatabase,
        urls: &'a DatabaseUrls,
    ) -> Result<crate::prepared::Prepared<'a>, skein_core::Error> {
        let url = urls
            .urls
            .get(&db.name)
            .map(|url| url.expose())
            .ok_or_else(|| skein_core::Error::UrlNotResolved {
                database: db.name.clone(),
            })?;
        Ok(crate::prepared::Prepared {
            database: db,
            url,
            options: self.connect_options(db)?,
        })
    }

    /// Resolves the URLs of `databases`, fetching each secret once; the secret values and
    /// passwords are registered so that nothing printed can show them. Then checks the
    /// configuration of every one, migration folders included, before any is touched.
    pub async fn urls(&self, databases: &[&ResolvedDatabase]) -> anyhow::Result<DatabaseUrls> {
        self.checked_urls(databases, Needs::Migrations).await
    }

    /// Like [`Context::urls`], for commands that connect but read no migrations.
    pub async fn connection_urls(
        &self,
        databases: &[&ResolvedDatabase],
    ) -> anyhow::Result<DatabaseUrls> {
        self.checked_urls(databases, Needs::Connection).await
    }

    async fn checked_urls(
        &self,
        databases: &[&ResolvedDatabase],
        needs: Needs,
    ) -> anyhow::Result<DatabaseUrls> {
        let urls = self.workspace.urls(databases).await?;
        register_secrets(&urls);
        crate::preflight::check(&self.workspace, databases, &urls, needs)?;
        crate::preflight::check_distinct(&self.workspace, databases, &urls).await?;
        Ok(urls)
    }
}

/// Registers the secrets and passwords of resolved URLs so that nothing printed shows them.
pub fn register_secrets(urls: &DatabaseUrls) {
    crate::redact::register(urls.secrets.iter().map(|s| s.expose().to_owned()));
    for url in urls.urls.values() {
        crate::redact::register_url_secrets(url.expose());
    }
}

/// Reads `db`'s migrations: its folder's, or for a model with a template, the template's
/// rendered for it merged with its own folder's.
/// Paths are taken relative to the current folder when they are below it, so that
/// messages name files as the user would type them.
pub fn migrations(db: &ResolvedDatabase) -> Result<Vec<Migration>, skein_core::Error> {
    let folder = relative(&db.migrations);
    let Some(template) = &db.template else {
        return Ok(FolderSource::new(folder).load_rendered(&db.name, &db.vars, dialect_of(db))?);
    };
    let template = templates::get(&relative(template))?;
    Ok(ModelSource {
        template: &template,
        model: &db.name,
        vars: &db.vars,
        dialect: dialect_of(db),
        folder: Some(&folder),
    }
    .load()?)
}

/// The backend of `db`, from its URL's scheme or its `driver`, when the configuration
/// says it (a URL that is one `${...}` reference does not).
pub fn dialect_of(db: &ResolvedDatabase) -> Option<skein_core::dialect::Dialect> {
    use skein_config::connection::ConnectionTemplate;
    match db.connection.as_ref()? {
        ConnectionTemplate::Url(url) => skein_schemes::Kind::of_url(url)
            .map(|kind| skein_core::backend::of_kind(kind).dialect()),
        // Parts without a `driver` are the default kind's (PostgreSQL).
        ConnectionTemplate::Parts(parts) => skein_schemes::Kind::of_scheme(
            parts
                .driver
                .as_deref()
                .unwrap_or(skein_schemes::Kind::default().scheme()),
        )
        .map(|kind| skein_core::backend::of_kind(kind).dialect()),
    }
}

/// `path` relative to the current folder when it is below it.
pub fn relative(path: &std::path::Path) -> std::path::PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| {
            path.strip_prefix(cwd)
                .ok()
                .map(std::path::Path::to_path_buf)
        })
        .filter(|relative| !relative.as_os_str().is_empty())
        .unwrap_or_else(|| path.to_owned())
}

/// Model templates, each read from disk once per run however many models render it.
mod templates {
    use skein_core::source::template::Template;
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex, OnceLock};

    pub fn get(dir: &Path) -> Result<Arc<Template>, skein_core::error::SourceError> {
        static READ: OnceLock<Mutex<HashMap<PathBuf, Arc<Template>>>> = OnceLock::new();
        let mut read = READ
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(template) = read.get(dir) {
            return Ok(template.clone());
        }
        let template = Arc::new(Template::load(dir)?);
        read.insert(dir.to_owned(), template.clone());
        Ok(template)
    }
}

/// `user@host skein/<version>`: the account the process runs as (the environment's
/// USER or LOGNAME when the system has no name for it, as in a container run with a bare
/// uid) and the machine's name.
fn applied_by() -> String {
    let named = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
    let user = named(whoami::username().ok())
        .or_else(|| named(std::env::var("USER").ok()))
        .or_else(|| named(std::env::var("LOGNAME").ok()))
        .unwrap_or_else(|| "unknown".to_owned());
    let host = named(whoami::hostname().ok())
        .or_else(|| named(std::env::var("HOSTNAME").ok()))
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{user}@{host} skein/{}", env!("CARGO_PKG_VERSION"))
}
