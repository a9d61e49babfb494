//! Alembic: Python revisions, imported by the command line (which runs them); its history
//! is `alembic_version`, one row per head.

use super::{HistoryRead, Tool, ToolDef};
use crate::adopt::{Foreign, text};
use crate::driver::Driver;
use crate::driver::rows::Rows;
use crate::error::Result;

pub(super) const TOOL: ToolDef = ToolDef {
    tool: Tool::Alembic,
    name: "alembic",
    aliases: &[],
    history_table: Some("alembic_version"),
    imports: false,
    run_order: false,
    skeins_layout: false,
    own_table: None,
};

pub(super) async fn applied<D: Driver>(driver: &mut D, h: &HistoryRead<'_>) -> Result<Foreign> {
    let quoted = h.quoted;
    let refuse = |why: String| h.refuse(why);
    let mut foreign = h.foreign();
    let rows: Rows = driver
        .query_rows(&format!("SELECT version_num FROM {quoted}"))
        .await?;
    // One row per head: several mean branches that were never merged, and what is
    // applied is each head's ancestry, which the versions alone cannot tell.
    let mut heads: Vec<String> = rows.rows.iter().map(|r| text(&r[0])).collect();
    heads.sort();
    if heads.len() > 1 {
        return Err(refuse(format!(
            "it records {} heads ({}), branches that were never merged; merge them with `alembic merge heads` and `alembic upgrade head`, then adopt",
            heads.len(),
            heads.join(", ")
        )));
    }
    foreign.up_to = heads.pop();
    Ok(foreign)
}
