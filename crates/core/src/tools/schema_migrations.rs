//! A hand-made runner: `.sql` files run in name order (or `up/` and `down/` folders of
//! them) and recorded in `schema_migrations`, often wrapping themselves in BEGIN/COMMIT and
//! writing their own row; `seeds/` holds data every environment must have. The table's
//! shapes (golang-migrate's `version, dirty`; dbmate's and runners' text versions, with
//! when, by whom and how long where a runner kept them) are read here for every tool that
//! uses it.

use super::{HistoryRead, Tool, ToolDef};
use crate::adopt::{
    AdoptError, Foreign, ForeignRow, number, some_text, text, truthy, whole_number,
};
use crate::driver::Driver;
use crate::error::{Error, Result};
use crate::import::{Found, ImportError, Reading, runner};

pub(super) const TOOL: ToolDef = ToolDef {
    tool: Tool::SchemaMigrations,
    name: "schema-migrations",
    aliases: &["schema_migrations"],
    history_table: Some("schema_migrations"),
    imports: true,
    run_order: true,
    skeins_layout: false,
    own_table: None,
};

pub(super) fn read(
    dir: &std::path::Path,
    reading: &mut Reading,
) -> Result<Vec<Found>, ImportError> {
    runner::read_folder(dir, false, reading)
}

pub(super) async fn applied<D: Driver>(driver: &mut D, h: &HistoryRead<'_>) -> Result<Foreign> {
    let (table, quoted, as_text) = (h.table, h.quoted, h.as_text);
    let refuse = |why: String| h.refuse(why);
    let mut foreign = h.foreign();
    // golang-migrate's table has a `dirty` column; dbmate's and hand-made ones not.
    match driver
        .query_rows(&format!("SELECT version, dirty FROM {quoted}"))
        .await
    {
        Ok(rows) if h.tool == Tool::GolangMigrate || !rows.rows.is_empty() => {
            foreign.tool = Tool::GolangMigrate;
            // golang-migrate keeps one row; a table with more is read whole: a
            // dirty one anywhere refuses, and the newest version is where it is.
            let mut newest: Option<(i64, String)> = None;
            for row in &rows.rows {
                let version = text(&row[0]);
                if truthy(&row[1]) {
                    return Err(refuse(format!(
                        "version {version} is dirty (it failed part-way)"
                    )));
                }
                let number = whole_number(&version).ok_or_else(|| {
                    Error::from(AdoptError::NotANumber {
                        table: table.to_owned(),
                        id: version.clone(),
                    })
                })?;
                if newest.as_ref().is_none_or(|(n, _)| number > *n) {
                    newest = Some((number, version));
                }
            }
            foreign.up_to = newest.map(|(_, version)| version);
        }
        _ => {
            // Asked for golang-migrate, it is the other shape: say so.
            if foreign.tool == Tool::GolangMigrate {
                foreign.tool = Tool::SchemaMigrations;
            }
            // A hand-made runner may keep when, by whom and how long; dbmate not.
            let detailed = driver
                .query_rows(&format!(
                    "SELECT version, CAST(applied_at AS {as_text}), applied_by, execution_time_ms FROM {quoted}"
                ))
                .await;
            foreign.applied = match detailed {
                Ok(rows) => rows
                    .rows
                    .iter()
                    .map(|r| ForeignRow {
                        id: text(&r[0]),
                        applied_at: some_text(&r[1]),
                        applied_by: some_text(&r[2]),
                        execution_ms: number(&r[3]),
                    })
                    .collect(),
                Err(_) => driver
                    .query_rows(&format!("SELECT version FROM {quoted}"))
                    .await?
                    .rows
                    .iter()
                    .map(|r| ForeignRow::id(text(&r[0])))
                    .collect(),
            };
        }
    }
    Ok(foreign)
}
