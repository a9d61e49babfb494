//! diesel: a folder per migration, `<timestamp>_<name>/up.sql` and `down.sql`.

use super::{Tool, ToolDef};
use crate::import::{
    Found, ImportError, Reading, digit_groups, entries, file_name, no_version, read as read_file,
};
use std::path::Path;

pub(super) const TOOL: ToolDef = ToolDef {
    tool: Tool::Diesel,
    name: "diesel",
    aliases: &[],
    history_table: None,
    imports: true,
    run_order: false,
    skeins_layout: false,
    own_table: None,
};

/// diesel: a folder per migration, `<timestamp>_<name>/up.sql` and `down.sql`.
pub(super) fn read(dir: &Path, reading: &mut Reading) -> Result<Vec<Found>, ImportError> {
    let skipped = &mut reading.skipped;
    let mut found = Vec::new();
    for path in entries(dir)? {
        let name = file_name(&path);
        if !path.is_dir() {
            skipped.push(format!("{name}: not a migration folder"));
            continue;
        }
        let (parts, description) = digit_groups(&name, &['-', '_']);
        if parts.is_empty() {
            return Err(no_version(&path, "2024-01-01-120000_create_users"));
        }
        let up_path = path.join("up.sql");
        let down_path = path.join("down.sql");
        let down = if down_path.is_file() {
            Some(read_file(&down_path)?)
        } else {
            None
        };
        let mut sources = vec![up_path.clone()];
        if down.is_some() {
            sources.push(down_path);
        }
        found.push(Found {
            id: name.clone(),
            parts,
            description,
            up: read_file(&up_path)?,
            down,
            no_transaction: false,
            down_no_transaction: false,
            sources,
        });
    }
    Ok(found)
}
