//! Autogenerate: the up and down migrations that take the schema at head to the schema a
//! plain SQL file declares. Both schemas come from replays into scratch databases, so the
//! file is read by the server itself, not by a parser of ours.

use super::Schema;
use super::diff::{Difference, diff, statements};
use super::replay::replay;
use crate::dialect::Dialect;
use crate::driver::ConnectOptions;
use crate::error::Result;
use crate::migration::Migration;
use crate::source::{MemorySource, MigrationSource};
use serde::Serialize;
use std::path::Path;

/// What the declared schema needs.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Generated {
    pub head_fingerprint: String,
    pub declared_fingerprint: String,
    /// Head -> declared, statement by statement.
    pub up: Vec<String>,
    /// Declared -> head.
    pub down: Vec<String>,
    /// Differences SQL cannot express, each way.
    pub manual: Vec<Difference>,
    /// Every difference, head -> declared, for people.
    pub differences: Vec<Difference>,
}

impl Generated {
    pub fn is_empty(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Compares `migrations` at head with the schema `file` declares, next to `url`.
pub async fn generate(
    url: &str,
    migrations: &[Migration],
    file: &Path,
    sql: &str,
    options: &ConnectOptions,
) -> Result<Generated> {
    if Dialect::of_url(url) == Some(Dialect::MySql) {
        return Err(crate::driver::mysql_ddl_unsupported("new --from-schema"));
    }
    let head = replay(
        url,
        migrations,
        migrations.last().map(|m| m.version),
        options,
    )
    .await?;
    let mut declared_set = MemorySource::new([("1_declared_schema.sql", sql)]).load()?;
    for migration in &mut declared_set {
        migration.up.path = file.to_owned();
    }
    let declared = replay(url, &declared_set, Some(1), options).await?;
    let dialect = Dialect::of_url(url).unwrap_or(Dialect::Postgres);
    Ok(build(&head, &declared, dialect))
}

fn build(head: &Schema, declared: &Schema, dialect: Dialect) -> Generated {
    let differences = diff(declared, head, dialect);
    let back = diff(head, declared, dialect);
    let manual = differences
        .iter()
        .chain(&back)
        .filter(|d| d.sql.is_none())
        .cloned()
        .collect();
    Generated {
        head_fingerprint: head.fingerprint(),
        declared_fingerprint: declared.fingerprint(),
        up: statements(&differences),
        down: statements(&back),
        manual,
        differences,
    }
}
