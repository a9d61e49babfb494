//! The DDL writers: each turns a [`Change`] into the statements of one database, or says
//! it cannot make it (`None`), and the change is then left to a person.

use crate::backend::mysql::ddl as mysql;
use crate::backend::postgres::ddl as postgres;
use crate::backend::sqlite::ddl as sqlite;

use super::change::Change;
use super::render::{column_sql, quote_identifier, quote_name};
use crate::dialect::Dialect;

/// When a statement runs among those of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Main,
    /// Once every table a foreign key may join exists.
    ForeignKeys,
    /// Drops of types, sequences and extensions, once nothing uses them.
    LateDrops,
}

/// One statement of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub phase: Phase,
    pub sql: String,
}

/// The statements that make `change` on `dialect`; `None` when this database's writer
/// cannot make it.
pub fn statements(change: &Change, dialect: Dialect) -> Option<Vec<Statement>> {
    match (dialect, change) {
        (
            Dialect::Postgres,
            Change::CreateTable {
                name,
                table,
                sequences,
            },
        ) => return Some(postgres::create_table(name, table, sequences)),
        (Dialect::MySql, Change::CreateTable { name, table, .. }) => {
            return mysql::create_table(name, table);
        }
        _ => {}
    }
    let sql = match dialect {
        Dialect::Postgres => postgres::sql(change),
        Dialect::Sqlite => sqlite::sql(change),
        Dialect::MySql => mysql::sql(change),
    }?;
    let phase = if change.adds_foreign_key() {
        Phase::ForeignKeys
    } else if change.drops_late() {
        Phase::LateDrops
    } else {
        Phase::Main
    };
    let split = dialect.backend().split(&sql);
    Some(
        split
            .into_iter()
            .map(|s| Statement {
                phase,
                sql: s.sql.to_owned(),
            })
            .collect(),
    )
}

/// The whole schema as the SQL that creates it, by the writer's own statements: what
/// `inspect --format sql` prints on MySQL. `None` when a table has what the writer cannot
/// restate.
pub fn dump_mysql(schema: &super::Schema) -> Option<String> {
    let mut statements = Vec::new();
    for (name, table) in &schema.tables {
        statements.extend(mysql::create_table(name, table)?);
    }
    for (name, view) in &schema.views {
        let change = Change::CreateView {
            name: name.clone(),
            view: view.clone(),
        };
        statements.extend(self::statements(&change, Dialect::MySql)?);
    }
    statements.sort_by_key(|s| s.phase);
    Some(
        statements
            .iter()
            .map(|s| format!("{};\n", s.sql))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// The statements both PostgreSQL and SQLite write the same way.
pub(crate) fn common(change: &Change) -> Option<String> {
    Some(match change {
        Change::DropTable { name } => format!("DROP TABLE {};", quote_name(name)),
        Change::AddColumn {
            table,
            column,
            definition,
            fill,
        } => {
            let mut added = definition.clone();
            if let Some(fill) = fill {
                added.default = Some(fill.clone());
            }
            format!(
                "ALTER TABLE {} ADD COLUMN {};",
                quote_name(table),
                column_sql(column, &added)
            )
        }
        Change::DropColumn { table, column } => format!(
            "ALTER TABLE {} DROP COLUMN {};",
            quote_name(table),
            quote_identifier(column)
        ),
        Change::CreateIndex { index } => format!("{};", index.sql),
        Change::CreateTrigger { definition } => {
            format!("{};", definition.trim_end_matches(';'))
        }
        Change::DropView { name } => format!("DROP VIEW {};", quote_name(name)),
        _ => return None,
    })
}
