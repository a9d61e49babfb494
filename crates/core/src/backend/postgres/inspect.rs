//! PostgreSQL's catalogs into the schema model. Objects that belong to extensions, the
//! system schemas and the history table are left out. The catalog is read in one message
//! (one round trip, one implicit transaction): the server answers its queries in turn.

use crate::error::{Error, Result};
use crate::history::HistoryTable;
use crate::schema::{
    Column, Constraint, ConstraintKind, Function, Index, Schema, Sequence, Table, Trigger, View,
    body_hash, collapse_whitespace,
};
use futures_util::TryStreamExt as _;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{AssertSqlSafe, Either, Row as _};

/// The schemas a user's objects live in.
const USER_SCHEMA: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'";

/// Not created by an extension.
fn not_from_extension(oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.objid = {oid} AND dep.deptype = 'e')"
    )
}

/// One part of the catalog: what it is (for errors), its query, and what its rows add to
/// the schema. The parts are read in this order: tables before what belongs to them.
struct Part {
    what: &'static str,
    sql: String,
    read: fn(&[PgRow], &mut Schema) -> Result<()>,
}

fn parts() -> [Part; 10] {
    [
        Part {
            what: "tables",
            sql: tables_sql(),
            read: tables,
        },
        Part {
            what: "columns",
            sql: columns_sql(),
            read: columns,
        },
        Part {
            what: "constraints",
            sql: constraints_sql(),
            read: constraints,
        },
        Part {
            what: "indexes",
            sql: indexes_sql(),
            read: indexes,
        },
        Part {
            what: "triggers",
            sql: triggers_sql(),
            read: triggers,
        },
        Part {
            what: "enum types",
            sql: enums_sql(),
            read: enums,
        },
        Part {
            what: "sequences",
            sql: sequences_sql(),
            read: sequences,
        },
        Part {
            what: "views",
            sql: views_sql(),
            read: views,
        },
        Part {
            what: "functions",
            sql: functions_sql(),
            read: functions,
        },
        Part {
            what: "extensions",
            sql: extensions_sql(),
            read: extensions,
        },
    ]
}

/// Reads the whole schema of the connected database.
pub async fn inspect(conn: &mut PgConnection, history: &HistoryTable) -> Result<Schema> {
    let parts = parts();
    let mut batch = String::from("SELECT current_schema()");
    for part in &parts {
        batch.push_str(";\n");
        batch.push_str(&part.sql);
    }
    // The rows of each query, in order; a query's end starts the next one's list.
    let mut answers: Vec<Vec<PgRow>> = vec![Vec::new()];
    {
        let mut stream = sqlx::raw_sql(AssertSqlSafe(batch)).fetch_many(&mut *conn);
        loop {
            let item = stream.try_next().await.map_err(|e| {
                let what = match answers.len() {
                    1 => "current schema",
                    n => parts.get(n - 2).map_or("schema", |p| p.what),
                };
                Error::database(format!("reading the {what} from the catalog"))(e)
            })?;
            match item {
                Some(Either::Left(_)) => answers.push(Vec::new()),
                Some(Either::Right(row)) => answers.last_mut().expect("a list").push(row),
                None => break,
            }
        }
    }
    let current: Option<String> = match answers[0].first() {
        Some(row) => get(row, 0)?,
        None => None,
    };
    let history_schema = history
        .schema
        .clone()
        .or(current)
        .unwrap_or_else(|| "public".to_owned());
    let history_name = format!("{history_schema}.{}", history.name);
    let mut schema = Schema::default();
    for (index, part) in parts.iter().enumerate() {
        let rows = answers.get(index + 1).map_or(&[][..], Vec::as_slice);
        (part.read)(rows, &mut schema)?;
        if index == 0 {
            schema.tables.remove(&history_name);
        }
    }
    Ok(schema)
}

fn get<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
    row: &'r PgRow,
    i: usize,
) -> Result<T> {
    row.try_get(i)
        .map_err(Error::database("reading the catalog"))
}

/// A list the query gave as JSON text (`to_json(ARRAY(...))::text`): names in it may hold
/// any character, and JSON says each one plainly.
fn list(row: &PgRow, i: usize) -> Result<Vec<String>> {
    let text: String = get(row, i)?;
    serde_json::from_str(&text)
        .map_err(|e| Error::database("reading the catalog")(sqlx::Error::Decode(Box::new(e))))
}

fn tables_sql() -> String {
    format!(
        "SELECT n.nspname || '.' || c.relname, obj_description(c.oid, 'pg_class') \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND {USER_SCHEMA} AND {}",
        not_from_extension("c.oid")
    )
}

fn tables(rows: &[PgRow], schema: &mut Schema) -> Result<()> {
    for row in rows {
        let table = Table {
            comment: get(row, 1)?,
            ..Table::default()
        };
        schema.tables.insert(get(row, 0)?, table);
    }
    Ok(())
}

fn columns_sql() -> String {
    format!(
        "SELECT n.nspname || '.' || c.relname, a.attname::text, format_type(a.atttypid, a.atttypmod), \
         a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text, \
         col_description(c.oid, a.attnum) \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND {USER_SCHEMA} \
         ORDER BY 1, a.attnum"
    )
}

fn columns(rows: &[PgRow], schema: &mut Schema) -> Result<()> {
    for row in rows {
        let table: String = get(row, 0)?;
        let Some(table) = schema.tables.get_mut(&table) else {
            continue;
        };
        let expression: Option<String> = get(row, 4)?;
        let identity: String = get(row, 5)?;
        let generated: String = get(row, 6)?;
        let (default, generated) = if generated == "s" {
            (None, expression)
        } else {
            (expression, None)
        };
        table.column_order.push(get(row, 1)?);
        table.columns.insert(
            get(row, 1)?,
            Column {
                data_type: get(row, 2)?,
                nullable: !get::<bool>(row, 3)?,
                default,
                identity: match identity.as_str() {
                    "a" => Some("always".to_owned()),
                    "d" => Some("by default".to_owned()),
                    _ => None,
                },
                generated,
                comment: get(row, 7)?,
            },
        );
    }
    Ok(())
}

fn constraints_sql() -> String {
    format!(
        "SELECT n.nspname || '.' || c.relname, con.conname::text, con.contype::text, pg_get_constraintdef(con.oid), \
         to_json(ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = con.conrelid AND a.attnum = ANY(con.conkey) ORDER BY a.attnum))::text \
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE con.contype IN ('p', 'u', 'f', 'c', 'x') AND {USER_SCHEMA}"
    )
}

fn constraints(rows: &[PgRow], schema: &mut Schema) -> Result<()> {
    for row in rows {
        let table: String = get(row, 0)?;
        let Some(table) = schema.tables.get_mut(&table) else {
            continue;
        };
        let kind = match get::<String>(row, 2)?.as_str() {
            "p" => ConstraintKind::PrimaryKey,
            "u" => ConstraintKind::Unique,
            "f" => ConstraintKind::ForeignKey,
            "c" => ConstraintKind::Check,
            _ => ConstraintKind::Exclude,
        };
        let definition: String = get(row, 3)?;
        table.constraints.insert(
            definition.clone(),
            Constraint {
                kind,
                definition,
                name: get(row, 1)?,
                columns: list(row, 4)?,
            },
        );
    }
    Ok(())
}

fn indexes_sql() -> String {
    format!(
        "SELECT n.nspname || '.' || t.relname, i.relname::text, pg_get_indexdef(i.oid), \
         to_json(ARRAY(SELECT DISTINCT a.attname::text FROM pg_depend d JOIN pg_attribute a \
               ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
               WHERE d.classid = 'pg_class'::regclass AND d.objid = x.indexrelid AND d.refobjsubid > 0 ORDER BY 1))::text \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE {USER_SCHEMA} AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = x.indexrelid)"
    )
}

fn indexes(rows: &[PgRow], schema: &mut Schema) -> Result<()> {
    for row in rows {
        let table: String = get(row, 0)?;
        let Some(table) = schema.tables.get_mut(&table) else {
            continue;
        };
        let sql: String = get(row, 2)?;
        let definition = index_definition(&sql);
        table.indexes.insert(
            definition.clone(),
            Index {
                definition,
                name: get(row, 1)?,
                sql,
                columns: list(row, 3)?,
            },
        );
    }
    Ok(())
}

/// `CREATE UNIQUE INDEX name ON public.t USING btree (a)` -> `UNIQUE ON public.t USING btree (a)`.
fn index_definition(sql: &str) -> String {
    let unique = sql.starts_with("CREATE UNIQUE INDEX");
    let rest = sql.split_once(" ON ").map_or(sql, |(_, rest)| rest);
    format!("{}ON {rest}", if unique { "UNIQUE " } else { "" })
}

fn triggers_sql() -> String {
    format!(
        "SELECT n.nspname || '.' || c.relname, t.tgname::text, pg_get_triggerdef(t.oid) \
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE NOT t.tgisinternal AND {USER_SCHEMA}"
    )
}

fn triggers(rows: &[PgRow], schema: &mut Schema) -> Result<()> {
    for row in rows {
        let table: String = get(row, 0)?;
        let Some(table) = schema.tables.get_mut(&table) else {
            continue;
        };
        table.triggers.insert(
            get(row, 1)?,
            Trigger {
                definition: get(row, 2)?,
            },
        );
    }
    Ok(())
}

fn enums_sql() -> String {
    format!(
        "SELECT n.nspname || '.' || t.typname, e.enumlabel::text \
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace \
         WHERE {USER_SCHEMA} AND {} ORDER BY 1, e.enumsortorder",
        not_from_extension("t.oid")
    )
}

fn enums(rows: &[PgRow], schema: &mut Schema) -> Result<()> {
    for row in rows {
        schema
            .enums
            .entry(get(row, 0)?)
            .or_default()
            .push(get(row, 1)?);
    }
    Ok(())
}

fn sequences_sql() -> String {
    // Identity columns' sequences belong to their column.
    format!(
        "SELECT n.nspname || '.' || c.relname, format_type(s.seqtypid, NULL), s.seqincrement, s.seqstart, \
         (SELECT tn.nspname || '.' || t.relname FROM pg_depend dep JOIN pg_class t ON t.oid = dep.refobjid \
          JOIN pg_namespace tn ON tn.oid = t.relnamespace \
          WHERE dep.objid = c.oid AND dep.classid = 'pg_class'::regclass AND dep.deptype = 'a' \
          AND dep.refclassid = 'pg_class'::regclass LIMIT 1) \
         FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {USER_SCHEMA} AND NOT EXISTS \
         (SELECT 1 FROM pg_depend dep WHERE dep.objid = c.oid AND dep.deptype IN ('i', 'e'))"
    )
}

fn sequences(rows: &[PgRow], schema: &mut Schema) -> Result<()> {
    for row in rows {
        schema.sequences.insert(
            get(row, 0)?,
            Sequence {
                data_type: get(row, 1)?,
                increment: get(row, 2)?,
                start: get(row, 3)?,
                owned_by: get(row, 4)?,
            },
        );
    }
    Ok(())
}

fn views_sql() -> String {
    format!(
        "SELECT n.nspname || '.' || c.relname, c.relkind = 'm', pg_get_viewdef(c.oid) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('v', 'm') AND {USER_SCHEMA} AND {}",
        not_from_extension("c.oid")
    )
}

fn views(rows: &[PgRow], schema: &mut Schema) -> Result<()> {
    for row in rows {
        let definition: String = get(row, 2)?;
        schema.views.insert(
            get(row, 0)?,
            View {
                materialized: get(row, 1)?,
                definition: collapse_whitespace(&definition),
            },
        );
    }
    Ok(())
}

fn functions_sql() -> String {
    format!(
        "SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', \
         pg_get_function_result(p.oid), l.lanname::text, pg_get_functiondef(p.oid) \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang \
         WHERE p.prokind IN ('f', 'p') AND {USER_SCHEMA} AND {}",
        not_from_extension("p.oid")
    )
}

fn functions(rows: &[PgRow], schema: &mut Schema) -> Result<()> {
    for row in rows {
        let definition: String = get(row, 3)?;
        schema.functions.insert(
            get(row, 0)?,
            Function {
                returns: get::<Option<String>>(row, 1)?.unwrap_or_default(),
                language: get(row, 2)?,
                body_hash: body_hash(&definition),
                sql: definition,
            },
        );
    }
    Ok(())
}

fn extensions_sql() -> String {
    "SELECT e.extname::text, n.nspname::text FROM pg_extension e \
               JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql'"
        .to_owned()
}

fn extensions(rows: &[PgRow], schema: &mut Schema) -> Result<()> {
    for row in rows {
        schema.extensions.insert(get(row, 0)?, get(row, 1)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn index_definitions_leave_out_the_name() {
        assert_eq!(
            super::index_definition(
                "CREATE UNIQUE INDEX ix_a ON public.t USING btree (a) WHERE (a > 0)"
            ),
            "UNIQUE ON public.t USING btree (a) WHERE (a > 0)"
        );
        assert_eq!(
            super::index_definition("CREATE INDEX t_a_idx ON public.t USING btree (lower(a))"),
            "ON public.t USING btree (lower(a))"
        );
    }
}
