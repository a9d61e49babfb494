//! The DDL writers: each turns a [`Change`] into the statements of one database, or says
//! it cannot make it (`None`), and the change is then left to a person.

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
    dialect.backend().change_statements(change)
}

/// `sql`, the SQL of `change`, as the statements `backend` runs, in `change`'s phase.
pub fn split_change(
    backend: &(impl crate::backend::Backend + ?Sized),
    change: &Change,
    sql: String,
) -> Option<Vec<Statement>> {
    let phase = if change.adds_foreign_key() {
        Phase::ForeignKeys
    } else if change.drops_late() {
        Phase::LateDrops
    } else {
        Phase::Main
    };
    Some(
        backend
            .split(&sql)
            .into_iter()
            .map(|s| Statement {
                phase,
                sql: s.sql.to_owned(),
            })
            .collect(),
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
