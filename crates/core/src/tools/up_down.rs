//! A hand-made runner with `up/<version>_<name>.sql` and `down/...` folders, recorded in
//! `schema_migrations` (as [`super::schema_migrations`]).

use super::{Tool, ToolDef};
use crate::import::{Found, ImportError, Reading, runner};

pub(super) const TOOL: ToolDef = ToolDef {
    tool: Tool::UpDown,
    name: "up-down",
    aliases: &[],
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
    runner::read_folder(dir, true, reading)
}
