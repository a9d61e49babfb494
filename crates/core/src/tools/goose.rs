//! goose: one `<version>_<name>.sql` file per migration with `-- +goose Up` and
//! `-- +goose Down` sections (ENVSUB sections become templates); its history in
//! `goose_db_version`, a row per apply or rollback.

use super::{HistoryRead, Tool, ToolDef};
use crate::adopt::{AdoptError, Foreign, ForeignRow, some_text, text, truthy, whole_number};
use crate::driver::Driver;
use crate::error::{Error, Result};
use crate::import::{Found, ImportError, Reading, Sections, sectioned};
use std::collections::BTreeMap;

pub(super) const TOOL: ToolDef = ToolDef {
    tool: Tool::Goose,
    name: "goose",
    aliases: &[],
    history_table: Some("goose_db_version"),
    imports: true,
    run_order: false,
    skeins_layout: false,
    own_table: None,
};

const SECTIONS: Sections = Sections {
    up: "+goose up",
    down: "+goose down",
    annotations: &[
        "+goose statementbegin",
        "+goose statementend",
        "+goose no transaction",
        "+goose envsub",
    ],
    example: "00001_create_users.sql",
};

pub(super) fn read(
    dir: &std::path::Path,
    reading: &mut Reading,
) -> Result<Vec<Found>, ImportError> {
    sectioned(dir, &SECTIONS, reading)
}

pub(super) async fn applied<D: Driver>(driver: &mut D, h: &HistoryRead<'_>) -> Result<Foreign> {
    let (table, quoted, as_text) = (h.table, h.quoted, h.as_text);
    let mut foreign = h.foreign();
    let rows = driver
        .query_rows(&format!(
            "SELECT version_id, is_applied, CAST(tstamp AS {as_text}) FROM {quoted} ORDER BY id"
        ))
        .await?;
    // A row per apply or rollback: the last one of a version says where it stands.
    let mut state: BTreeMap<i64, (bool, Option<String>)> = BTreeMap::new();
    for row in &rows.rows {
        let id = text(&row[0]);
        let version = whole_number(&id).ok_or_else(|| {
            Error::from(AdoptError::NotANumber {
                table: table.to_owned(),
                id: id.clone(),
            })
        })?;
        state.insert(version, (truthy(&row[1]), some_text(&row[2])));
    }
    foreign.applied = state
        .into_iter()
        .filter(|&(v, (applied, _))| applied && v > 0)
        .map(|(v, (_, at))| ForeignRow {
            applied_at: at,
            ..ForeignRow::id(v.to_string())
        })
        .collect();
    Ok(foreign)
}
