//! Taking over a database another tool migrated: find that tool's history table, map what
//! it applied onto skein's migrations, check that the live schema is what those
//! migrations give, and record them as `baseline` rows. Nothing is run, and the other
//! tool's table is left as it is.

use crate::driver::rows::Cell;
use crate::driver::{Driver, HistoryChange};
use crate::engine::HistoryEdit;
use crate::error::Result;
use crate::history::{HistoryTable, MigrationKind};
use crate::migration::{Migration, Version};
use std::collections::{BTreeMap, BTreeSet};

/// Other tools' history tables, by the name each tool gives it. Inspection leaves them
/// out: they are the tools' bookkeeping, not the schema migrations describe.
pub const FOREIGN_HISTORY_TABLES: [&str; 5] = [
    "_sqlx_migrations",
    "schema_migrations",
    "goose_db_version",
    "flyway_schema_history",
    "alembic_version",
];

/// Why a database cannot be adopted as it is.
#[derive(Debug, thiserror::Error)]
pub enum AdoptError {
    #[error("no other tool's history table found (looked for {}); name it with --from TOOL or --table NAME", FOREIGN_HISTORY_TABLES.join(", "))]
    NotFound,
    #[error("--table {table}: this database has no such table")]
    NoSuchTable { table: String },
    #[error("{table} ({tool}): {why}; fix it with that tool first, then adopt")]
    Unfinished {
        table: String,
        tool: &'static str,
        why: String,
    },
    #[error(
        "{table} records `{id}` as applied, but no migration here is that one (import the tool's folder with `skein import`, which writes the mapping of its ids into skein-import.toml; --force leaves such ids out)"
    )]
    UnknownId { table: String, id: String },
    #[error(
        "{table} records version `{id}`, which is not a whole number, and no import map names it; check the row (or import the tool's folder with `skein import`, whose skein-import.toml maps its ids)"
    )]
    NotANumber { table: String, id: String },
    #[error(
        "several other tools' history tables are here ({}): name the one to adopt with --from TOOL (or --table NAME); the others are left as they are",
        tables.join(", ")
    )]
    Several { tables: Vec<String> },
    #[error("this database has skein history already; there is nothing to adopt")]
    HasHistory,
    #[error("{}: cannot parse it: {message}", path.display())]
    Mapping {
        path: std::path::PathBuf,
        message: String,
    },
}

pub use crate::tools::Tool;

/// The first of the other tools' history tables the database has, if any: one catalog
/// query, nothing read from the table itself.
pub async fn foreign_table<D: Driver>(driver: &mut D) -> Option<&'static str> {
    foreign_tables(driver).await.into_iter().next()
}

/// The other tools' history tables the database has, in [`FOREIGN_HISTORY_TABLES`]'s
/// order: one catalog query.
pub async fn foreign_tables<D: Driver>(driver: &mut D) -> Vec<&'static str> {
    let sql = driver.dialect().tables_named(&FOREIGN_HISTORY_TABLES);
    let Ok(found) = driver.query_rows(&sql).await else {
        return Vec::new();
    };
    let names: Vec<String> = found
        .rows
        .iter()
        .filter_map(|row| match row.first() {
            Some(crate::driver::rows::Cell::String(name)) => Some(name.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    FOREIGN_HISTORY_TABLES
        .into_iter()
        .filter(|table| names.iter().any(|n| n == table))
        .collect()
}

/// One migration another tool applied: its id (a version number, or a name such as
/// `20260129_0001_x` or a Flyway script) and, where the tool kept them, when, by whom and
/// how long it took.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForeignRow {
    pub id: String,
    pub applied_at: Option<String>,
    pub applied_by: Option<String>,
    pub execution_ms: Option<i64>,
}

impl ForeignRow {
    pub(crate) fn id(id: String) -> Self {
        ForeignRow {
            id,
            ..ForeignRow::default()
        }
    }
}

/// What another tool's table says was applied.
#[derive(Debug, Clone)]
pub struct Foreign {
    pub tool: Tool,
    pub table: String,
    /// What the tool recorded as applied, in its order.
    pub applied: Vec<ForeignRow>,
    /// golang-migrate's single row: everything up to this version is applied.
    pub up_to: Option<String>,
    /// A Flyway baseline: every migration up to this version (`1.2`) counts as applied.
    pub baseline: Option<String>,
}

/// Finds the other tool's history table (`tool` and `table` say which, when given) and
/// reads what it applied. A dirty or failed entry is an error naming it.
pub async fn find<D: Driver>(
    driver: &mut D,
    tool: Option<Tool>,
    table: Option<&str>,
) -> Result<Option<Foreign>> {
    let candidates: Vec<(Tool, String)> = match (tool, table) {
        (Some(tool), table) => vec![(tool, table.unwrap_or(tool.default_table()).to_owned())],
        (None, Some(table)) => vec![(Tool::SchemaMigrations, table.to_owned())],
        (None, None) => [
            Tool::Sqlx,
            Tool::Goose,
            Tool::Flyway,
            Tool::Alembic,
            Tool::GolangMigrate,
        ]
        .into_iter()
        .map(|t| (t, t.default_table().to_owned()))
        .collect(),
    };
    let named = table.is_some();
    if tool.is_none() && !named {
        let present = foreign_tables(driver).await;
        if present.len() > 1 {
            return Err(AdoptError::Several {
                tables: present.into_iter().map(str::to_owned).collect(),
            }
            .into());
        }
    }
    for (tool, table) in candidates {
        // `schema.table` is two names.
        let quoted = table
            .split('.')
            .map(|part| driver.dialect().quote_identifier(part))
            .collect::<Vec<_>>()
            .join(".");
        if driver
            .query_rows(&format!("SELECT 1 FROM {quoted} WHERE 1 = 0"))
            .await
            .is_err()
        {
            if named {
                return Err(AdoptError::NoSuchTable {
                    table: table.to_owned(),
                }
                .into());
            }
            continue;
        }
        return read(driver, tool, &table, &quoted).await.map(Some);
    }
    Ok(None)
}

async fn read<D: Driver>(driver: &mut D, tool: Tool, table: &str, quoted: &str) -> Result<Foreign> {
    let as_text = driver.dialect().backend().text_cast();
    let history = crate::tools::HistoryRead {
        tool,
        table,
        quoted,
        as_text,
    };
    tool.applied(driver, &history).await
}

pub(crate) fn text(cell: &Cell) -> String {
    match cell {
        Cell::String(s) => s.clone(),
        Cell::Null => String::new(),
        other => other.to_string(),
    }
}

pub(crate) fn some_text(cell: &Cell) -> Option<String> {
    Some(text(cell)).filter(|t| !t.is_empty())
}

pub(crate) fn number(cell: &Cell) -> Option<i64> {
    match cell {
        Cell::Number(n) => n.as_i64(),
        Cell::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A version written as a whole number (leading zeros allowed), and nothing else: `1.5`
/// or `15abc` is not read as 15.
pub(crate) fn whole_number(id: &str) -> Option<i64> {
    let id = id.trim();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = id.trim_start_matches('0');
    match digits {
        "" => Some(0),
        digits => digits.parse().ok(),
    }
}

pub(crate) fn truthy(cell: &Cell) -> bool {
    match cell {
        Cell::Bool(b) => *b,
        Cell::Number(n) => n.as_i64().is_some_and(|n| n != 0),
        Cell::String(s) => matches!(s.as_str(), "t" | "true" | "1" | "TRUE"),
        _ => false,
    }
}

/// The skein versions the other tool applied, each with what the tool kept of it. Each
/// recorded id is looked up in `mapping` (the `skein-import.toml` of the folder), then
/// read as a whole number (leading zeros dropped); an id that is neither (`1.5`, text) is
/// an error naming it, never read as another number. An applied id with no migration here
/// is an error naming it.
/// With `skip_unknown`, an applied id with no migration here (a goose Go migration, say)
/// is left out and returned in the second list instead of being an error.
pub fn applied_versions(
    foreign: &Foreign,
    migrations: &[Migration],
    mapping: &BTreeMap<String, Version>,
    skip_unknown: bool,
) -> Result<(BTreeMap<Version, ForeignRow>, Vec<String>)> {
    // Another tool applies versioned migrations only.
    let known: BTreeSet<Version> = migrations
        .iter()
        .filter(|m| !m.repeatable)
        .map(|m| m.version)
        .collect();
    // Alembic's ids are hashes: only the mapping `skein import` wrote can place them.
    let by_number = foreign.tool != Tool::Alembic;
    let version_of = |id: &str| -> Result<Version> {
        let version = mapping
            .get(id)
            .copied()
            .or_else(|| by_number.then(|| whole_number(id)).flatten());
        if version.is_none() && by_number && !id.trim().is_empty() && whole_number(id).is_none() {
            return Err(AdoptError::NotANumber {
                table: foreign.table.clone(),
                id: id.to_string(),
            }
            .into());
        }
        match version {
            Some(v) if known.contains(&v) => Ok(v),
            _ => Err(AdoptError::UnknownId {
                table: foreign.table.clone(),
                id: id.to_string(),
            }
            .into()),
        }
    };
    let mut versions: BTreeMap<Version, ForeignRow> = BTreeMap::new();
    if let Some(baseline) = &foreign.baseline {
        // Flyway ids are `V<version>__<description>`: compare their versions' parts.
        let parts = |text: &str| -> Vec<u64> {
            text.split(['.', '_'])
                .map(|p| p.parse().unwrap_or(0))
                .collect()
        };
        let limit = parts(baseline);
        for (id, &version) in mapping {
            let Some(rest) = id.strip_prefix('V') else {
                continue;
            };
            let Some((text, _)) = rest.split_once("__") else {
                continue;
            };
            let mut mine = parts(text);
            let mut upto = limit.clone();
            let width = mine.len().max(upto.len());
            mine.resize(width, 0);
            upto.resize(width, 0);
            if mine <= upto && known.contains(&version) {
                versions.insert(version, ForeignRow::id(id.clone()));
            }
        }
    }
    if let Some(up_to) = &foreign.up_to {
        let up_to = version_of(up_to)?;
        let below = known
            .into_iter()
            .filter(|&v| v <= up_to)
            .map(|v| (v, ForeignRow::default()));
        return Ok((below.collect(), Vec::new()));
    }
    let mut unknown = Vec::new();
    for row in &foreign.applied {
        match version_of(&row.id) {
            Ok(version) => {
                versions.insert(version, row.clone());
            }
            Err(_) if skip_unknown => unknown.push(row.id.clone()),
            Err(e) => return Err(e),
        }
    }
    Ok((versions, unknown))
}

/// Records `versions` as `baseline` rows (a repeatable migration's as `repeatable`), under
/// the lock, if the database has no skein history yet.
pub async fn record<D: Driver>(
    driver: &mut D,
    migrations: &[Migration],
    versions: &BTreeMap<Version, ForeignRow>,
    table: &HistoryTable,
    adopted_by: &str,
) -> Result<Vec<HistoryEdit>> {
    driver.lock().await?;
    let result = async {
        driver.ensure_history().await?;
        if !driver.read_history().await?.is_empty() {
            return Err(AdoptError::HasHistory.into());
        }
        let mut changes = Vec::new();
        let mut edits = Vec::new();
        for migration in migrations.iter() {
            let Some(origin) = versions.get(&migration.version) else {
                continue;
            };
            let applied_by = match &origin.applied_by {
                Some(by) => format!("{by} ({adopted_by})"),
                None => adopted_by.to_owned(),
            };
            changes.push(HistoryChange::Insert {
                version: migration.version,
                description: migration.description.clone(),
                checksum: migration.checksum.as_str().to_owned(),
                kind: if migration.repeatable {
                    MigrationKind::Repeatable
                } else {
                    MigrationKind::Baseline
                },
                applied_by,
            });
            edits.push(HistoryEdit {
                version: migration.version,
                description: migration.description.clone(),
                action: crate::engine::EditAction::Baseline,
            });
        }
        driver.change_history(&changes).await?;
        keep_times(driver, versions, table).await;
        Ok(edits)
    }
    .await;
    driver.unlock().await;
    result
}

/// Gives the baseline rows the other tool's times, where it kept them and the server can
/// read them; a time it cannot read leaves the adoption's own.
async fn keep_times<D: Driver>(
    driver: &mut D,
    versions: &BTreeMap<Version, ForeignRow>,
    table: &HistoryTable,
) {
    let dialect = driver.dialect();
    let table = table.quoted(dialect);
    for (version, origin) in versions {
        let mut sets = Vec::new();
        if let Some(at) = &origin.applied_at {
            sets.push(format!("applied_at = {}", dialect.timestamp_literal(at)));
        }
        if let Some(ms) = origin.execution_ms {
            sets.push(format!("execution_ms = {ms}"));
        }
        if sets.is_empty() {
            continue;
        }
        let sql = format!(
            "UPDATE {table} SET {} WHERE version = {version}",
            sets.join(", ")
        );
        if let Err(e) = driver.execute_sql(&sql).await {
            tracing::debug!("keeping the other tool's time of version {version}: {e}");
        }
    }
}
