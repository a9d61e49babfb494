//! SQLite's schema into the model, through `sqlite_master` and the `pragma_*` table
//! functions (one query per kind of object). CHECK constraints live only in a table's
//! SQL text: they are read from it with the statement splitter's tokenizer.

use crate::error::{Error, Result};
use crate::history::HistoryTable;
use crate::schema::{
    Column, Constraint, ConstraintKind, Index, Schema, Table, Trigger, View, collapse_whitespace,
};
use sqlx::Row as _;
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use std::collections::BTreeMap;

const TABLES: &str = "m.type = 'table' AND m.name NOT LIKE 'sqlite_%'";

/// Reads the whole schema of the connected database.
pub async fn inspect(conn: &mut SqliteConnection, history: &HistoryTable) -> Result<Schema> {
    let mut schema = Schema::default();
    let skip = |name: &str| name == history.name;
    for row in rows(
        conn,
        format!("SELECT m.name, m.sql FROM sqlite_master m WHERE {TABLES}"),
        "tables",
    )
    .await?
    {
        let name: String = get(&row, 0)?;
        if !skip(&name) {
            let sql: String = get::<Option<String>>(&row, 1)?.unwrap_or_default();
            schema.tables.insert(name, with_checks(&sql));
        }
    }
    columns(conn, &mut schema).await?;
    foreign_keys(conn, &mut schema).await?;
    indexes(conn, &mut schema).await?;
    let objects = "SELECT m.type, m.tbl_name, m.name, m.sql FROM sqlite_master m WHERE m.type IN ('view', 'trigger')";
    for row in rows(conn, objects.to_owned(), "views and triggers").await? {
        let kind: String = get(&row, 0)?;
        let sql: String = get::<Option<String>>(&row, 3)?.unwrap_or_default();
        if kind == "view" {
            schema.views.insert(
                get(&row, 2)?,
                View {
                    materialized: false,
                    definition: collapse_whitespace(&sql),
                },
            );
        } else if let Some(table) = schema.tables.get_mut(&get::<String>(&row, 1)?) {
            table.triggers.insert(
                get(&row, 2)?,
                Trigger {
                    definition: collapse_whitespace(&sql),
                },
            );
        }
    }
    Ok(schema)
}

/// A table with the CHECK constraints of its `CREATE TABLE` text.
fn with_checks(create_table: &str) -> Table {
    let mut table = Table::default();
    for check in crate::split::check_clauses(create_table) {
        let definition = format!("CHECK ({})", check.expression);
        table.constraints.insert(
            definition.clone(),
            Constraint {
                kind: ConstraintKind::Check,
                definition,
                name: check.name.unwrap_or_default(),
                columns: Vec::new(),
            },
        );
    }
    table
}

async fn rows(conn: &mut SqliteConnection, sql: String, what: &str) -> Result<Vec<SqliteRow>> {
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .map_err(Error::database(format!(
            "reading the {what} from sqlite_master"
        )))
}

fn get<'r, T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>>(
    row: &'r SqliteRow,
    i: usize,
) -> Result<T> {
    row.try_get(i)
        .map_err(Error::database("reading sqlite_master"))
}

async fn columns(conn: &mut SqliteConnection, schema: &mut Schema) -> Result<()> {
    let sql = format!(
        "SELECT m.name, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk, p.cid \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE {TABLES} ORDER BY m.name, p.pk"
    );
    let mut primary_keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut positions: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for row in rows(conn, sql, "columns").await? {
        let table_name: String = get(&row, 0)?;
        let Some(table) = schema.tables.get_mut(&table_name) else {
            continue;
        };
        let column: String = get(&row, 1)?;
        positions
            .entry(table_name.clone())
            .or_default()
            .push((get::<i64>(&row, 6)?, column.clone()));
        if get::<i64>(&row, 5)? > 0 {
            primary_keys
                .entry(table_name)
                .or_default()
                .push(column.clone());
        }
        table.columns.insert(
            column,
            Column {
                data_type: get::<String>(&row, 2)?.to_lowercase(),
                nullable: get::<i64>(&row, 3)? == 0,
                default: get(&row, 4)?,
                identity: None,
                generated: None,
                comment: None,
            },
        );
    }
    for (table, mut columns) in positions {
        if let Some(table) = schema.tables.get_mut(&table) {
            columns.sort();
            table.column_order = columns.into_iter().map(|(_, name)| name).collect();
        }
    }
    for (table, columns) in primary_keys {
        if let Some(table) = schema.tables.get_mut(&table) {
            let definition = format!("PRIMARY KEY ({})", columns.join(", "));
            table.constraints.insert(
                definition.clone(),
                Constraint {
                    kind: ConstraintKind::PrimaryKey,
                    definition,
                    name: String::new(),
                    columns: columns.clone(),
                },
            );
        }
    }
    Ok(())
}

async fn foreign_keys(conn: &mut SqliteConnection, schema: &mut Schema) -> Result<()> {
    let sql = format!(
        "SELECT m.name, f.id, f.\"table\", f.\"from\", f.\"to\", f.on_update, f.on_delete \
         FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE {TABLES} ORDER BY m.name, f.id, f.seq"
    );
    // (table, id) -> (referenced table, from columns, to columns, on update, on delete)
    type Key = (String, Vec<String>, Vec<String>, String, String);
    let mut keys: BTreeMap<(String, i64), Key> = BTreeMap::new();
    for row in rows(conn, sql, "foreign keys").await? {
        let entry = keys.entry((get(&row, 0)?, get(&row, 1)?)).or_default();
        entry.0 = get(&row, 2)?;
        entry.1.push(get(&row, 3)?);
        entry
            .2
            .push(get::<Option<String>>(&row, 4)?.unwrap_or_default());
        entry.3 = get(&row, 5)?;
        entry.4 = get(&row, 6)?;
    }
    for ((table, _), (target, from, to, on_update, on_delete)) in keys {
        let Some(table) = schema.tables.get_mut(&table) else {
            continue;
        };
        let definition = format!(
            "FOREIGN KEY ({}) REFERENCES {target}({}) ON UPDATE {on_update} ON DELETE {on_delete}",
            from.join(", "),
            to.join(", ")
        );
        table.constraints.insert(
            definition.clone(),
            Constraint {
                kind: ConstraintKind::ForeignKey,
                definition,
                name: String::new(),
                columns: from,
            },
        );
    }
    Ok(())
}

/// `a, b` (what `group_concat` gave) -> `[a, b]`.
fn split_columns(columns: &str) -> Vec<String> {
    columns
        .split(", ")
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

async fn indexes(conn: &mut SqliteConnection, schema: &mut Schema) -> Result<()> {
    // Indexes a person wrote have SQL; UNIQUE constraints' indexes do not (origin 'u').
    let sql = format!(
        "SELECT m.name, l.name, l.\"unique\", l.origin, i.sql, \
         (SELECT group_concat(c.name, ', ') FROM pragma_index_info(l.name) c) \
         FROM sqlite_master m JOIN pragma_index_list(m.name) l \
         LEFT JOIN sqlite_master i ON i.type = 'index' AND i.name = l.name WHERE {TABLES}"
    );
    for row in rows(conn, sql, "indexes").await? {
        let Some(table) = schema.tables.get_mut(&get::<String>(&row, 0)?) else {
            continue;
        };
        let origin: String = get(&row, 3)?;
        let columns: String = get::<Option<String>>(&row, 5)?.unwrap_or_default();
        match origin.as_str() {
            "pk" => {}
            "u" => {
                let definition = format!("UNIQUE ({columns})");
                table.constraints.insert(
                    definition.clone(),
                    Constraint {
                        kind: ConstraintKind::Unique,
                        definition,
                        name: get(&row, 1)?,
                        columns: split_columns(&columns),
                    },
                );
            }
            _ => {
                let sql: String = get::<Option<String>>(&row, 4)?.unwrap_or_default();
                let definition = index_definition(&sql);
                table.indexes.insert(
                    definition.clone(),
                    Index {
                        definition,
                        name: get(&row, 1)?,
                        sql,
                        columns: split_columns(&columns),
                    },
                );
            }
        }
    }
    Ok(())
}

/// `CREATE UNIQUE INDEX ix ON t (a)` -> `UNIQUE ON t (a)`, whitespace collapsed.
fn index_definition(sql: &str) -> String {
    let sql = collapse_whitespace(sql);
    let unique = sql.to_uppercase().starts_with("CREATE UNIQUE INDEX");
    let upper = sql.to_uppercase();
    let rest = upper.find(" ON ").map_or(sql.as_str(), |at| &sql[at + 4..]);
    format!("{}ON {rest}", if unique { "UNIQUE " } else { "" })
}
