//! Flyway: `V<version>__<description>.sql`, undo files `U<version>__...` and repeatable
//! `R__<description>.sql` files; its history in `flyway_schema_history`, a row per script
//! run (repeatable ones without a version), a baseline counting for every version up to it.

use super::{HistoryRead, Tool, ToolDef};
use crate::adopt::{Foreign, ForeignRow, number, some_text, text, truthy};
use crate::driver::Driver;
use crate::error::Result;
use crate::import::{
    Found, ImportError, Reading, entries, file_name, no_version, read as read_file, repeatable,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub(super) const TOOL: ToolDef = ToolDef {
    tool: Tool::Flyway,
    name: "flyway",
    aliases: &[],
    history_table: Some("flyway_schema_history"),
    imports: true,
    run_order: false,
    skeins_layout: false,
    own_table: None,
};

/// Flyway: `V<version>__<description>.sql` (version parts split by `.` or `_`), undo
/// files `U<version>__...`; repeatable `R__<description>.sql` files become skein's
/// repeatable migrations, named by their description (lower case, `_` for spaces).
pub(super) fn read(dir: &Path, reading: &mut Reading) -> Result<Vec<Found>, ImportError> {
    let (skipped, repeatables) = (&mut reading.skipped, &mut reading.repeatables);
    let mut by_version: BTreeMap<Vec<String>, Found> = BTreeMap::new();
    let mut undo: Vec<(Vec<String>, PathBuf)> = Vec::new();
    for path in entries(dir)? {
        let name = file_name(&path);
        let Some(stem) = name.strip_suffix(".sql") else {
            skipped.push(format!("{name}: not a .sql file"));
            continue;
        };
        if let Some(description) = stem.strip_prefix("R__") {
            match repeatable(stem, description, read_file(&path)?, path) {
                Some(imported) => repeatables.push(imported),
                None => skipped.push(format!("{name}: a repeatable migration without a name")),
            }
            continue;
        }
        // V<version>__<description> or U<version>__...; anything else (callbacks such as
        // afterMigrate.sql) is not a migration.
        let mut chars = stem.chars();
        let kind = chars.next().map(String::from).unwrap_or_default();
        let rest = chars.as_str();
        let parsed = rest.split_once("__").and_then(|(version, description)| {
            let parts: Vec<String> = version.split(['.', '_']).map(str::to_owned).collect();
            let numeric = parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            (numeric && (kind == "V" || kind == "U")).then_some((parts, description))
        });
        let Some((parts, description)) = parsed else {
            skipped.push(format!(
                "{name}: not a versioned (V) or undo (U) migration (a callback?)"
            ));
            continue;
        };
        match kind.as_str() {
            "V" => {
                if let Some(other) = by_version.get(&parts) {
                    return Err(ImportError::SameVersion {
                        first: other.sources[0].clone(),
                        second: path,
                    });
                }
                let found = Found {
                    id: stem.to_owned(),
                    parts: parts.clone(),
                    description: description.to_owned(),
                    up: read_file(&path)?,
                    down: None,
                    no_transaction: false,
                    down_no_transaction: false,
                    sources: vec![path],
                };
                by_version.insert(parts, found);
            }
            "U" => undo.push((parts, path)),
            _ => return Err(no_version(&path, "V1_2__create_users.sql")),
        }
    }
    for (parts, path) in undo {
        let Some(found) = by_version.get_mut(&parts) else {
            return Err(ImportError::File {
                path,
                problem: "an undo file with no versioned file of its version".to_owned(),
            });
        };
        found.down = Some(read_file(&path)?);
        found.sources.push(path);
    }
    Ok(by_version.into_values().collect())
}

pub(super) async fn applied<D: Driver>(driver: &mut D, h: &HistoryRead<'_>) -> Result<Foreign> {
    let (quoted, as_text) = (h.quoted, h.as_text);
    let refuse = |why: String| h.refuse(why);
    let mut foreign = h.foreign();
    let rows = driver
        .query_rows(&format!(
            "SELECT script, success, installed_by, CAST(installed_on AS {as_text}), execution_time, version, type FROM {quoted} WHERE version IS NOT NULL ORDER BY installed_rank"
        ))
        .await?;
    for row in rows.rows {
        let script = text(&row[0]);
        if !truthy(&row[1]) {
            return Err(refuse(format!("{script} failed")));
        }
        // `flyway baseline`: no script, everything up to its version counts.
        if text(&row[6]).eq_ignore_ascii_case("BASELINE") || script.starts_with("<<") {
            foreign.baseline = Some(text(&row[5]));
            continue;
        }
        foreign.applied.push(ForeignRow {
            id: script.trim_end_matches(".sql").to_owned(),
            applied_by: some_text(&row[2]),
            applied_at: some_text(&row[3]),
            execution_ms: number(&row[4]),
        });
    }
    Ok(foreign)
}
