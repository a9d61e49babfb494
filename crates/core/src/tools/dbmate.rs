//! dbmate: one `<version>_<name>.sql` file per migration with `-- migrate:up` and
//! `-- migrate:down` sections; its history in `schema_migrations(version varchar)`, made
//! before the first migration (read as [`super::schema_migrations`]).

use super::{Tool, ToolDef};
use crate::import::{Found, ImportError, Reading, Sections, sectioned};

pub(super) const TOOL: ToolDef = ToolDef {
    tool: Tool::Dbmate,
    name: "dbmate",
    aliases: &[],
    history_table: Some("schema_migrations"),
    imports: true,
    run_order: false,
    skeins_layout: false,
    own_table: Some((
        "schema_migrations",
        "CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(128) NOT NULL PRIMARY KEY);",
    )),
};

const SECTIONS: Sections = Sections {
    up: "migrate:up",
    down: "migrate:down",
    annotations: &[],
    example: "20240101120000_create_users.sql",
};

pub(super) fn read(
    dir: &std::path::Path,
    reading: &mut Reading,
) -> Result<Vec<Found>, ImportError> {
    sectioned(dir, &SECTIONS, reading)
}
