//! The migration tools skein takes over from, one module each: how the tool lays out its
//! migrations (read by `import`) and how its history table says what it applied (read by
//! `adopt`). [`TOOLS`] lists them once; `import` and `adopt` both go through it.

mod alembic;
mod dbmate;
mod diesel;
mod flyway;
mod golang_migrate;
mod goose;
mod schema_migrations;
mod sqlx;
mod up_down;

use crate::adopt::Foreign;
use crate::driver::Driver;
use crate::error::{Error, Result};
use crate::import::{Found, ImportError, Reading};
use std::path::Path;

/// A tool skein imports from or adopts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    Sqlx,
    GolangMigrate,
    Dbmate,
    Goose,
    Flyway,
    Diesel,
    /// A hand-made runner's `up/` and `down/` folders.
    UpDown,
    /// A hand-made runner's folder of `.sql` files recorded in `schema_migrations`.
    SchemaMigrations,
    Alembic,
}

/// What skein knows of one tool.
pub struct ToolDef {
    pub tool: Tool,
    /// As `--from` takes it.
    pub name: &'static str,
    /// Other names `--from` takes.
    pub aliases: &'static [&'static str],
    /// The table its history is kept in unless told otherwise; `None` when `adopt` does
    /// not read it.
    pub history_table: Option<&'static str>,
    /// `import` reads its folders here (Alembic's revisions are Python, which the command
    /// line runs).
    pub imports: bool,
    /// Its versions are numbered in the order it ran its files (a hand-made runner's,
    /// whose numbers need not rise), not read from each name.
    pub run_order: bool,
    /// Its folders are in skein's own layout when their files need no rewriting.
    pub skeins_layout: bool,
    /// The table the tool makes for itself before any migration runs, and the statement
    /// that makes it as the tool does (migrations may alter it).
    pub own_table: Option<(&'static str, &'static str)>,
}

/// Every tool, once, in [`Tool`]'s order.
pub const TOOLS: [&ToolDef; 9] = [
    &sqlx::TOOL,
    &golang_migrate::TOOL,
    &dbmate::TOOL,
    &goose::TOOL,
    &flyway::TOOL,
    &diesel::TOOL,
    &up_down::TOOL,
    &schema_migrations::TOOL,
    &alembic::TOOL,
];

impl Tool {
    pub fn def(self) -> &'static ToolDef {
        TOOLS[self as usize]
    }

    /// The tool `--from NAME` names.
    pub fn parse(name: &str) -> Option<Tool> {
        TOOLS
            .iter()
            .find(|t| t.name == name || t.aliases.contains(&name))
            .map(|t| t.tool)
    }

    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// The names of the tools `import` reads folders of.
    pub fn importable() -> Vec<&'static str> {
        TOOLS.iter().filter(|t| t.imports).map(|t| t.name).collect()
    }

    /// The names of the tools `adopt` reads the history of.
    pub fn adoptable() -> Vec<&'static str> {
        TOOLS
            .iter()
            .filter(|t| t.history_table.is_some())
            .map(|t| t.name)
            .collect()
    }

    /// The table the tool keeps its history in unless told otherwise.
    pub fn default_table(self) -> &'static str {
        self.def().history_table.unwrap_or("schema_migrations")
    }

    /// The migrations of the tool's folder `dir`, as it has them.
    pub(crate) fn read_folder(
        self,
        dir: &Path,
        reading: &mut Reading,
    ) -> std::result::Result<Vec<Found>, ImportError> {
        match self {
            Tool::Sqlx => sqlx::read(dir, reading),
            Tool::GolangMigrate => golang_migrate::read(dir, reading),
            Tool::Dbmate => dbmate::read(dir, reading),
            Tool::Goose => goose::read(dir, reading),
            Tool::Flyway => flyway::read(dir, reading),
            Tool::Diesel => diesel::read(dir, reading),
            Tool::UpDown => up_down::read(dir, reading),
            Tool::SchemaMigrations => schema_migrations::read(dir, reading),
            Tool::Alembic => Err(ImportError::File {
                path: dir.to_owned(),
                problem: "Alembic's revisions are imported by `skein import --from alembic`"
                    .to_owned(),
            }),
        }
    }

    /// What the tool's history table says it applied.
    pub(crate) async fn applied<D: Driver>(
        self,
        driver: &mut D,
        h: &HistoryRead<'_>,
    ) -> Result<Foreign> {
        match self {
            Tool::Sqlx => sqlx::applied(driver, h).await,
            Tool::GolangMigrate | Tool::Dbmate | Tool::UpDown | Tool::SchemaMigrations => {
                schema_migrations::applied(driver, h).await
            }
            Tool::Goose => goose::applied(driver, h).await,
            Tool::Flyway => flyway::applied(driver, h).await,
            Tool::Alembic => alembic::applied(driver, h).await,
            Tool::Diesel => Err(Error::from(crate::adopt::AdoptError::NotFound)),
        }
    }
}

/// A history table being read.
pub(crate) struct HistoryRead<'a> {
    pub tool: Tool,
    pub table: &'a str,
    /// The name quoted for SQL (`schema.table` as two names).
    pub quoted: &'a str,
    /// The backend's type for a cast to text.
    pub as_text: &'static str,
}

impl HistoryRead<'_> {
    /// The table records an unfinished or unreadable state: adopt refuses, saying why.
    pub fn refuse(&self, why: String) -> Error {
        Error::from(crate::adopt::AdoptError::Unfinished {
            table: self.table.to_owned(),
            tool: self.tool.name(),
            why,
        })
    }

    /// Nothing read yet.
    pub fn foreign(&self) -> Foreign {
        Foreign {
            tool: self.tool,
            table: self.table.to_owned(),
            applied: Vec::new(),
            up_to: None,
            baseline: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_and_the_names_agree() {
        for (i, tool) in TOOLS.iter().enumerate() {
            assert_eq!(tool.tool as usize, i, "{} is out of place", tool.name);
            assert_eq!(Tool::parse(tool.name), Some(tool.tool));
            for alias in tool.aliases {
                assert_eq!(Tool::parse(alias), Some(tool.tool));
            }
        }
        assert_eq!(Tool::parse("nope"), None);
        assert!(!Tool::importable().contains(&"alembic"));
        assert!(!Tool::adoptable().contains(&"diesel"));
    }
}
