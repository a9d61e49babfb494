//! MySQL's and MariaDB's schema into the model, through `information_schema` (one query
//! per kind of object). Objects are keyed by their bare names: the database is the
//! schema, and a scratch database replaying the migrations has another name.

use crate::error::{Error, Result};
use crate::history::HistoryTable;
use crate::schema::{
    Column, Constraint, ConstraintKind, Function, Index, Schema, Table, Trigger, View, body_hash,
    collapse_whitespace,
};
use sqlx::Row as _;
use sqlx::mysql::{MySqlConnection, MySqlRow};
use std::collections::BTreeMap;

/// Reads the whole schema of the connected database.
pub async fn inspect(conn: &mut MySqlConnection, history: &HistoryTable) -> Result<Schema> {
    let database: String = sqlx::query_scalar("SELECT DATABASE()")
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::database("reading the database name"))?;
    let mut schema = Schema::default();
    let tables = "SELECT table_name FROM information_schema.tables \
                  WHERE table_schema = DATABASE() \
                  AND table_type IN ('BASE TABLE', 'SYSTEM VERSIONED')";
    for row in rows(conn, tables, "tables").await? {
        let name: String = text(&row, 0)?;
        if name != history.name {
            schema.tables.insert(name, Table::default());
        }
    }
    columns(conn, &mut schema).await?;
    let unique_names = constraints(conn, &mut schema).await?;
    indexes(conn, &mut schema, &unique_names).await?;
    views(conn, &mut schema, &database).await?;
    triggers(conn, &mut schema, &database).await?;
    routines(conn, &mut schema, &database).await?;
    Ok(schema)
}

async fn rows(conn: &mut MySqlConnection, sql: &str, what: &str) -> Result<Vec<MySqlRow>> {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_all(conn)
        .await
        .map_err(Error::database(format!(
            "reading the {what} from information_schema"
        )))
}

/// A text column. information_schema's columns are text in one server version and
/// binary in another, so both are read as text.
fn text(row: &MySqlRow, i: usize) -> Result<String> {
    Ok(optional_text(row, i)?.unwrap_or_default())
}

fn optional_text(row: &MySqlRow, i: usize) -> Result<Option<String>> {
    if let Ok(value) = row.try_get::<Option<String>, _>(i) {
        return Ok(value);
    }
    let bytes: Option<Vec<u8>> = row
        .try_get(i)
        .map_err(Error::database("reading information_schema"))?;
    Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
}

/// An integer column, signed or unsigned (servers differ here too).
fn optional_number(row: &MySqlRow, i: usize) -> Result<Option<i64>> {
    if let Ok(value) = row.try_get::<Option<i64>, _>(i) {
        return Ok(value);
    }
    let value: Option<u64> = row
        .try_get(i)
        .map_err(Error::database("reading information_schema"))?;
    Ok(value.map(|v| i64::try_from(v).unwrap_or(i64::MAX)))
}

/// `name` quoted for MySQL.
fn quote(name: &str) -> String {
    crate::dialect::Dialect::MySql.quote_identifier(name)
}

/// Removes the database's own name from a definition the server qualified with it
/// (`` `db`.`t` `` becomes `` `t` ``), so a scratch copy compares equal.
fn unqualify(definition: &str, database: &str) -> String {
    collapse_whitespace(&definition.replace(&format!("{}.", quote(database)), ""))
}

async fn columns(conn: &mut MySqlConnection, schema: &mut Schema) -> Result<()> {
    let sql = "SELECT table_name, column_name, column_type, is_nullable, column_default, extra, \
               generation_expression, column_comment FROM information_schema.columns \
               WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position";
    for row in rows(conn, sql, "columns").await? {
        let Some(table) = schema.tables.get_mut(&text(&row, 0)?) else {
            continue;
        };
        table.column_order.push(text(&row, 1)?);
        let extra = text(&row, 5)?.to_lowercase();
        let generated = optional_text(&row, 6)?.filter(|g| !g.is_empty());
        // MariaDB shows a nullable column without a default as the text NULL.
        let default = optional_text(&row, 4)?
            .filter(|d| generated.is_none() && !d.eq_ignore_ascii_case("null"));
        table.columns.insert(
            text(&row, 1)?,
            Column {
                data_type: text(&row, 2)?.to_lowercase(),
                nullable: text(&row, 3)? == "YES",
                default,
                identity: extra
                    .contains("auto_increment")
                    .then(|| "auto_increment".to_owned()),
                generated: generated.map(|g| collapse_whitespace(&g)),
                comment: optional_text(&row, 7)?.filter(|c| !c.is_empty()),
            },
        );
    }
    Ok(())
}

/// Primary keys, unique, foreign key and check constraints. Returns the names of the
/// unique constraints, whose indexes are not listed again as indexes.
async fn constraints(
    conn: &mut MySqlConnection,
    schema: &mut Schema,
) -> Result<BTreeMap<(String, String), ()>> {
    let keys = "SELECT k.table_name, k.constraint_name, c.constraint_type, k.column_name, \
                k.referenced_table_name, k.referenced_column_name \
                FROM information_schema.key_column_usage k \
                JOIN information_schema.table_constraints c \
                  ON c.constraint_schema = k.constraint_schema AND c.table_name = k.table_name \
                 AND c.constraint_name = k.constraint_name \
                WHERE k.table_schema = DATABASE() \
                ORDER BY k.table_name, k.constraint_name, k.ordinal_position";
    // (table, name) -> (kind, columns, referenced table, referenced columns)
    type Key = (String, Vec<String>, String, Vec<String>);
    let mut found: BTreeMap<(String, String), Key> = BTreeMap::new();
    for row in rows(conn, keys, "key columns").await? {
        let entry = found.entry((text(&row, 0)?, text(&row, 1)?)).or_default();
        entry.0 = text(&row, 2)?;
        entry.1.push(text(&row, 3)?);
        if let Some(target) = optional_text(&row, 4)? {
            entry.2 = target;
            entry.3.push(text(&row, 5)?);
        }
    }
    let rules = "SELECT table_name, constraint_name, update_rule, delete_rule \
                 FROM information_schema.referential_constraints \
                 WHERE constraint_schema = DATABASE()";
    let mut actions: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
    for row in rows(conn, rules, "foreign key actions").await? {
        actions.insert(
            (text(&row, 0)?, text(&row, 1)?),
            (text(&row, 2)?, text(&row, 3)?),
        );
    }
    let mut unique_names = BTreeMap::new();
    for ((table_name, name), (kind, columns, target, targets)) in found {
        let columns = columns.join(", ");
        let (kind, definition) = match kind.as_str() {
            "PRIMARY KEY" => (
                ConstraintKind::PrimaryKey,
                format!("PRIMARY KEY ({columns})"),
            ),
            "UNIQUE" => {
                unique_names.insert((table_name.clone(), name.clone()), ());
                (ConstraintKind::Unique, format!("UNIQUE ({columns})"))
            }
            "FOREIGN KEY" => {
                let (on_update, on_delete) = actions
                    .get(&(table_name.clone(), name.clone()))
                    .cloned()
                    .unwrap_or_default();
                (
                    ConstraintKind::ForeignKey,
                    format!(
                        "FOREIGN KEY ({columns}) REFERENCES {target}({}) ON UPDATE {on_update} ON DELETE {on_delete}",
                        targets.join(", ")
                    ),
                )
            }
            _ => continue,
        };
        add_constraint(schema, &table_name, kind, definition, name);
    }
    // CHECK constraints (MariaDB 10.2, MySQL 8.0.16). MariaDB names them per table and
    // lists the table; MySQL names them per database and does not.
    let mariadb = "SELECT table_name, constraint_name, check_clause \
                   FROM information_schema.check_constraints WHERE constraint_schema = DATABASE()";
    let mysql = "SELECT t.table_name, c.constraint_name, c.check_clause \
                 FROM information_schema.check_constraints c \
                 JOIN information_schema.table_constraints t \
                   ON t.constraint_schema = c.constraint_schema \
                  AND t.constraint_name = c.constraint_name AND t.constraint_type = 'CHECK' \
                 WHERE c.constraint_schema = DATABASE()";
    let checks = match rows(conn, mariadb, "check constraints").await {
        Ok(found) => found,
        Err(_) => rows(conn, mysql, "check constraints").await?,
    };
    for row in checks {
        let definition = format!("CHECK ({})", collapse_whitespace(&text(&row, 2)?));
        add_constraint(
            schema,
            &text(&row, 0)?,
            ConstraintKind::Check,
            definition,
            text(&row, 1)?,
        );
    }
    Ok(unique_names)
}

fn add_constraint(
    schema: &mut Schema,
    table: &str,
    kind: ConstraintKind,
    definition: String,
    name: String,
) {
    if let Some(table) = schema.tables.get_mut(table) {
        table.constraints.insert(
            definition.clone(),
            Constraint {
                kind,
                definition,
                name,
                columns: Vec::new(),
            },
        );
    }
}

async fn indexes(
    conn: &mut MySqlConnection,
    schema: &mut Schema,
    unique_names: &BTreeMap<(String, String), ()>,
) -> Result<()> {
    let sql = "SELECT table_name, index_name, non_unique, column_name, sub_part, index_type \
               FROM information_schema.statistics WHERE table_schema = DATABASE() \
               ORDER BY table_name, index_name, seq_in_index";
    // (table, index) -> (unique, method, columns)
    let mut found: BTreeMap<(String, String), (bool, String, Vec<String>)> = BTreeMap::new();
    for row in rows(conn, sql, "indexes").await? {
        let key = (text(&row, 0)?, text(&row, 1)?);
        if key.1 == "PRIMARY" || unique_names.contains_key(&key) {
            continue;
        }
        let entry = found.entry(key).or_default();
        entry.0 = optional_number(&row, 2)? == Some(0);
        entry.1 = text(&row, 5)?;
        let column = text(&row, 3)?;
        entry.2.push(match optional_number(&row, 4)? {
            Some(length) => format!("{column}({length})"),
            None => column,
        });
    }
    for ((table_name, name), (unique, method, columns)) in found {
        let Some(table) = schema.tables.get_mut(&table_name) else {
            continue;
        };
        let unique = if unique { "UNIQUE " } else { "" };
        let kind = match method.as_str() {
            "FULLTEXT" | "SPATIAL" => format!("{method} "),
            _ => String::new(),
        };
        let definition = format!("{unique}{kind}USING {method} ({})", columns.join(", "));
        let used = columns
            .iter()
            .map(|c| {
                c.split_once('(')
                    .map_or(c.as_str(), |(name, _)| name)
                    .to_owned()
            })
            .collect();
        let sql = format!(
            "CREATE {unique}{kind}INDEX {} ON {} ({})",
            quote(&name),
            quote(&table_name),
            columns.join(", ")
        );
        table.indexes.insert(
            definition.clone(),
            Index {
                definition,
                name,
                sql,
                columns: used,
            },
        );
    }
    Ok(())
}

async fn views(conn: &mut MySqlConnection, schema: &mut Schema, database: &str) -> Result<()> {
    let sql = "SELECT table_name, view_definition FROM information_schema.views \
               WHERE table_schema = DATABASE()";
    for row in rows(conn, sql, "views").await? {
        schema.views.insert(
            text(&row, 0)?,
            View {
                materialized: false,
                definition: unqualify(&text(&row, 1)?, database),
            },
        );
    }
    Ok(())
}

async fn triggers(conn: &mut MySqlConnection, schema: &mut Schema, database: &str) -> Result<()> {
    let sql = "SELECT event_object_table, trigger_name, action_timing, event_manipulation, \
               action_statement FROM information_schema.triggers WHERE trigger_schema = DATABASE()";
    for row in rows(conn, sql, "triggers").await? {
        let Some(table) = schema.tables.get_mut(&text(&row, 0)?) else {
            continue;
        };
        let definition = format!(
            "{} {} FOR EACH ROW {}",
            text(&row, 2)?,
            text(&row, 3)?,
            unqualify(&text(&row, 4)?, database)
        );
        table
            .triggers
            .insert(text(&row, 1)?, Trigger { definition });
    }
    Ok(())
}

async fn routines(conn: &mut MySqlConnection, schema: &mut Schema, database: &str) -> Result<()> {
    let sql = "SELECT routine_name, routine_type, dtd_identifier, routine_definition \
               FROM information_schema.routines WHERE routine_schema = DATABASE()";
    for row in rows(conn, sql, "functions and procedures").await? {
        let name = text(&row, 0)?;
        let kind = text(&row, 1)?.to_lowercase();
        let body = unqualify(&text(&row, 3)?, database);
        schema.functions.insert(
            format!("{name}()"),
            Function {
                returns: optional_text(&row, 2)?.unwrap_or_else(|| kind.clone()),
                language: "sql".to_owned(),
                body_hash: body_hash(&body),
                sql: String::new(),
            },
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_taken_out_of_definitions() {
        assert_eq!(
            unqualify(
                "select `shop`.`t`.`id` AS `id` from `shop`.`t`\n where 1",
                "shop"
            ),
            "select `t`.`id` AS `id` from `t` where 1"
        );
    }
}
