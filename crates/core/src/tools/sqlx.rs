//! sqlx-cli: `<version>_<name>.up.sql` / `.down.sql` / `.sql` (skein's own layout), its
//! history in `_sqlx_migrations` (a row per version, with `success` and nanoseconds).

use super::{HistoryRead, Tool, ToolDef};
use crate::adopt::{Foreign, ForeignRow, number, some_text, text, truthy};
use crate::driver::Driver;
use crate::error::Result;
use crate::import::{Found, ImportError, Reading, paired};

pub(super) const TOOL: ToolDef = ToolDef {
    tool: Tool::Sqlx,
    name: "sqlx",
    aliases: &[],
    history_table: Some("_sqlx_migrations"),
    imports: true,
    run_order: false,
    skeins_layout: true,
    own_table: None,
};

pub(super) fn read(
    dir: &std::path::Path,
    reading: &mut Reading,
) -> Result<Vec<Found>, ImportError> {
    paired(dir, reading)
}

pub(super) async fn applied<D: Driver>(driver: &mut D, h: &HistoryRead<'_>) -> Result<Foreign> {
    let (quoted, as_text) = (h.quoted, h.as_text);
    let refuse = |why: String| h.refuse(why);
    let mut foreign = h.foreign();
    let rows = driver
        .query_rows(&format!(
            "SELECT version, success, CAST(installed_on AS {as_text}), execution_time FROM {quoted} ORDER BY version"
        ))
        .await?;
    for row in rows.rows {
        if !truthy(&row[1]) {
            return Err(refuse(format!("version {} failed", text(&row[0]))));
        }
        foreign.applied.push(ForeignRow {
            id: text(&row[0]),
            applied_at: some_text(&row[2]),
            applied_by: None,
            // sqlx keeps nanoseconds.
            execution_ms: number(&row[3]).map(|ns| ns / 1_000_000),
        });
    }
    Ok(foreign)
}
