//! Autogenerate: the up and down migrations that take the schema at head to the schema a
//! plain SQL file declares. Both schemas come from replays into scratch databases, so the
//! file is read by the server itself, not by a parser of ours.

use super::Schema;
use super::diff::{Difference, diff};
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
    pub up: Vec<GeneratedStatement>,
    /// Declared -> head.
    pub down: Vec<GeneratedStatement>,
    /// Differences SQL cannot express, each way.
    pub manual: Vec<Difference>,
    /// Every difference, head -> declared, for people.
    pub differences: Vec<Difference>,
}

/// One statement of a generated migration.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct GeneratedStatement {
    pub sql: String,
    /// What running it loses, when it drops or narrows something: the difference it is
    /// for, in words.
    pub loses: Option<String>,
}

impl Generated {
    pub fn is_empty(&self) -> bool {
        self.differences.is_empty()
    }

    /// What the up migration loses: the destructive differences it makes, in words.
    pub fn up_loses(&self) -> Vec<&str> {
        let mut loses: Vec<&str> = self.up.iter().filter_map(|s| s.loses.as_deref()).collect();
        loses.dedup();
        loses
    }
}

/// The statements that make `differences`, each saying what it loses.
fn generated(differences: &[Difference]) -> Vec<GeneratedStatement> {
    super::diff::ordered(differences)
        .into_iter()
        .map(|(sql, difference)| GeneratedStatement {
            sql,
            loses: difference
                .destructive
                .then(|| difference.description.clone()),
        })
        .collect()
}

/// Compares `migrations` at head with the schema `file` declares, next to `url`.
pub async fn generate(
    url: &str,
    migrations: &[Migration],
    file: &Path,
    sql: &str,
    options: &ConnectOptions,
) -> Result<Generated> {
    let head = replay(url, migrations, crate::migration::head(migrations), options).await?;
    let mut declared_set = MemorySource::new([("1_declared_schema.sql", sql)]).load()?;
    for migration in &mut declared_set {
        migration.up.path = file.to_owned();
    }
    let declared = replay(url, &declared_set, Some(1), options).await?;
    let dialect = Dialect::of_url(url).unwrap_or_default();
    Ok(build(&head, &declared, dialect))
}

fn build(head: &Schema, declared: &Schema, dialect: Dialect) -> Generated {
    let differences = diff(declared, head, dialect);
    let back = diff(head, declared, dialect);
    let manual = differences
        .iter()
        .chain(&back)
        .filter(|d| d.sql.is_none() && !d.implied)
        .cloned()
        .collect();
    Generated {
        head_fingerprint: head.fingerprint(),
        declared_fingerprint: declared.fingerprint(),
        up: generated(&differences),
        down: generated(&back),
        manual,
        differences,
    }
}
