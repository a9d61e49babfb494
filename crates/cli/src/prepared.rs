//! One selected database, ready to work on: its configuration, its resolved URL and the
//! options its connections are opened with. Built once per database by
//! [`crate::context::Context::prepare`].

use skein_config::ResolvedDatabase;
use skein_core::driver::ConnectOptions;
use skein_core::{Connection, Migration};

pub struct Prepared<'a> {
    pub database: &'a ResolvedDatabase,
    /// The resolved URL, secrets filled in: never printed (see [`Prepared::shown_url`]).
    pub url: &'a str,
    pub options: ConnectOptions,
}

impl Prepared<'_> {
    /// Opens a connection that may change the database.
    pub async fn open(&self) -> Result<Connection, skein_core::Error> {
        Connection::open(self.url, self.options.clone()).await
    }

    /// Opens a connection that only reads (it takes no lock and creates nothing).
    pub async fn open_read_only(&self) -> Result<Connection, skein_core::Error> {
        let options = ConnectOptions {
            read_only: true,
            ..self.options.clone()
        };
        Connection::open(self.url, options).await
    }

    /// The database's migrations (a model's rendered from its template).
    pub fn migrations(&self) -> Result<Vec<Migration>, skein_core::Error> {
        crate::context::migrations(self.database)
    }

    /// The URL with its password hidden, for messages and script headers.
    pub fn shown_url(&self) -> String {
        skein_core::driver::redact_url(self.url)
    }
}
