//! golang-migrate: `<version>_<title>.up.sql` / `.down.sql`, a file possibly holding its
//! own BEGIN/COMMIT (it runs files as written); its history is one row of
//! `schema_migrations(version, dirty)`, read with the other `schema_migrations` shapes.

use super::{Tool, ToolDef};
use crate::import::{Found, ImportError, Reading, paired};

pub(super) const TOOL: ToolDef = ToolDef {
    tool: Tool::GolangMigrate,
    name: "golang-migrate",
    aliases: &["migrate"],
    history_table: Some("schema_migrations"),
    imports: true,
    run_order: false,
    skeins_layout: true,
    // It makes its table before the first migration runs, and projects alter it.
    own_table: Some((
        "schema_migrations",
        "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);",
    )),
};

pub(super) fn read(
    dir: &std::path::Path,
    reading: &mut Reading,
) -> Result<Vec<Found>, ImportError> {
    paired(dir, reading)
}
