//! SQLite's DDL. Its ALTER TABLE adds, renames and drops columns only: every other change
//! to a table is a rebuild (the table made again as it should be, the rows copied).

use crate::dialect::Dialect;
use crate::schema::change::Change;
use crate::schema::render::{quote_identifier, quote_name, to_sql};
use crate::schema::{Schema, Table};
use std::collections::BTreeMap;

pub(crate) fn sql(change: &Change) -> Option<String> {
    if let Some(sql) = crate::schema::ddl::common(change) {
        return Some(sql);
    }
    Some(match change {
        Change::CreateTable { name, table, .. } => to_sql(&one_table(name, table), Dialect::Sqlite)
            .trim()
            .to_owned(),
        Change::DropIndex { index, .. } => format!("DROP INDEX {};", quote_identifier(&index.name)),
        Change::DropTrigger { name, .. } => format!("DROP TRIGGER {};", quote_identifier(name)),
        // SQLite keeps a view's whole statement.
        Change::CreateView { view, .. } => format!("{};", view.definition.trim_end_matches(';')),
        Change::RebuildTable {
            name,
            expected,
            live,
        } => rebuild(name, expected, live),
        _ => return None,
    })
}

fn one_table(name: &str, table: &Table) -> Schema {
    Schema {
        tables: BTreeMap::from([(name.to_owned(), table.clone())]),
        ..Schema::default()
    }
}

/// Creates the table as it should be under a temporary name, copies the columns both
/// have, drops the old one, renames, and recreates its indexes and triggers. Run with
/// foreign keys off (see `converge`), so that dropping the old table deletes no rows of
/// the tables that refer to it.
fn rebuild(name: &str, expected: &Table, live: &Table) -> String {
    let temporary = format!("skein_rebuild_{name}");
    let shape = Table {
        indexes: BTreeMap::new(),
        triggers: BTreeMap::new(),
        ..expected.clone()
    };
    let create = to_sql(&one_table(&temporary, &shape), Dialect::Sqlite);
    // The columns both have are copied; a new NOT NULL column without a default gets
    // the fill value the plan names.
    let (mut into, mut from) = (Vec::new(), Vec::new());
    for (column, definition) in expected.ordered_columns() {
        let value = match live.columns.contains_key(column) {
            true => Some(quote_identifier(column)),
            false => crate::schema::diff::fill_for(definition, Dialect::Sqlite),
        };
        if let Some(value) = value {
            into.push(quote_identifier(column));
            from.push(value);
        }
    }
    let mut sql = vec![create.trim().to_owned()];
    sql.push(format!(
        "INSERT INTO {} ({}) SELECT {} FROM {};",
        quote_identifier(&temporary),
        into.join(", "),
        from.join(", "),
        quote_name(name)
    ));
    sql.push(format!("DROP TABLE {};", quote_name(name)));
    sql.push(format!(
        "ALTER TABLE {} RENAME TO {};",
        quote_identifier(&temporary),
        quote_identifier(name)
    ));
    sql.extend(expected.indexes.values().map(|i| format!("{};", i.sql)));
    sql.extend(
        expected
            .triggers
            .values()
            .map(|t| format!("{};", t.definition.trim_end_matches(';'))),
    );
    sql.join("\n")
}
