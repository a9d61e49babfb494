//! PostgreSQL's catalogs into the schema model. Objects that belong to extensions, the
//! system schemas and the history table are left out.
//!
//! The catalog is read in one message (one round trip, one implicit transaction): the
//! server answers its queries in turn. Each query reads one catalog (two where a join
//! saves the server work it would throw away), from the first object id a database's own
//! objects can have: what initdb made has lower ids, so the catalogs' indexes on those
//! ids skip the system's thousands of rows. The queries are that simple because they are
//! planned on a fresh session for every database of a fleet, where planning a join of
//! catalogs costs more than running it; the rows are joined here, by object id.

use crate::error::{Error, Result};
use crate::history::HistoryTable;
use crate::schema::{
    Column, Constraint, ConstraintKind, Function, Index, Schema, Sequence, Table, Trigger, View,
    body_hash, collapse_whitespace,
};
use futures_util::TryStreamExt as _;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{AssertSqlSafe, Either, Row as _};
use std::collections::{HashMap, HashSet};

/// What each query of the batch reads, in order (for errors, and to find its rows).
/// The catalogs' own ids are fixed (pg_class 1259, pg_proc 1255, pg_extension 3079):
/// written as numbers, the server need not look their names up.
const QUERIES: [(&str, &str); 18] = [
    ("current schema", "SELECT current_schema()"),
    (
        "schemas",
        "SELECT oid::int8, nspname::text FROM pg_namespace",
    ),
    (
        "extensions' objects",
        "SELECT objid::int8 FROM pg_depend \
         WHERE refclassid = 3079 AND deptype = 'e'",
    ),
    (
        "relations",
        "SELECT oid::int8, relnamespace::int8, relname::text, relkind::text \
         FROM pg_class WHERE oid >= 16384",
    ),
    (
        "comments",
        "SELECT objoid::int8, objsubid, description FROM pg_description \
         WHERE objoid >= 16384 AND classoid = 1259",
    ),
    (
        "columns",
        "SELECT attrelid::int8, attnum, attname::text, format_type(atttypid, atttypmod), \
         attnotnull, attidentity::text, attgenerated::text FROM pg_attribute \
         WHERE attrelid >= 16384 AND attnum > 0 AND NOT attisdropped",
    ),
    (
        "column defaults",
        "SELECT adrelid::int8, adnum, pg_get_expr(adbin, adrelid) FROM pg_attrdef \
         WHERE adrelid >= 16384",
    ),
    (
        "constraints",
        "SELECT conrelid::int8, conindid::int8, conname::text, contype::text, \
         CASE WHEN contype IN ('p', 'u', 'f', 'c', 'x') THEN pg_get_constraintdef(oid) END, conkey \
         FROM pg_constraint WHERE conrelid >= 16384 ORDER BY oid",
    ),
    // A primary key's or an exclusion constraint's index is its constraint's: the server
    // is spared printing those (the others are matched to constraints here), and the
    // indexes of what is not a table (TOAST tables, materialized views). Two indexes may
    // print alike: the newer is kept, as for constraints.
    (
        "indexes",
        "SELECT x.indrelid::int8, x.indexrelid::int8, \
         CASE WHEN x.indisprimary OR x.indisexclusion THEN NULL ELSE pg_get_indexdef(x.indexrelid) END \
         FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid \
         WHERE x.indrelid >= 16384 AND t.relkind IN ('r', 'p') ORDER BY x.indexrelid",
    ),
    (
        "dependencies",
        "SELECT objid::int8, refclassid::int8, refobjid::int8, refobjsubid, deptype::text \
         FROM pg_depend WHERE classid = 1259 AND objid >= 16384 \
         AND (refobjsubid > 0 OR deptype IN ('a', 'i'))",
    ),
    (
        "triggers",
        "SELECT tgrelid::int8, tgname::text, pg_get_triggerdef(oid) FROM pg_trigger \
         WHERE tgrelid >= 16384 AND NOT tgisinternal",
    ),
    (
        "enum types",
        "SELECT oid::int8, typnamespace::int8, typname::text FROM pg_type \
         WHERE oid >= 16384 AND typtype = 'e'",
    ),
    (
        "enum labels",
        "SELECT enumtypid::int8, enumlabel::text, enumsortorder FROM pg_enum \
         WHERE enumtypid >= 16384",
    ),
    (
        "sequences",
        "SELECT seqrelid::int8, format_type(seqtypid, NULL), seqincrement, seqstart \
         FROM pg_sequence WHERE seqrelid >= 16384",
    ),
    (
        "views",
        "SELECT oid::int8, relkind = 'm', pg_get_viewdef(oid) FROM pg_class \
         WHERE oid >= 16384 AND relkind IN ('v', 'm')",
    ),
    // An extension's functions are left out by the server: there can be a thousand, and
    // printing each one's definition is the costly part.
    (
        "functions",
        "SELECT p.oid::int8, p.pronamespace::int8, p.proname::text, \
         pg_get_function_identity_arguments(p.oid), pg_get_function_result(p.oid), \
         p.prolang::int8, pg_get_functiondef(p.oid) FROM pg_proc p \
         WHERE p.oid >= 16384 AND p.prokind IN ('f', 'p') AND NOT EXISTS (SELECT 1 FROM pg_depend d \
         WHERE d.classid = 1255 AND d.objid = p.oid AND d.deptype = 'e')",
    ),
    (
        "languages",
        "SELECT oid::int8, lanname::text FROM pg_language",
    ),
    (
        "extensions",
        "SELECT extname::text, extnamespace::int8 FROM pg_extension WHERE extname <> 'plpgsql'",
    ),
];

/// Reads the whole schema of the connected database.
pub async fn inspect(conn: &mut PgConnection, history: &HistoryTable) -> Result<Schema> {
    let batch = QUERIES.map(|(_, sql)| sql).join(";\n");
    // The rows of each query, in order; a query's end starts the next one's list.
    let mut answers: Vec<Vec<PgRow>> = vec![Vec::new()];
    {
        let mut stream = sqlx::raw_sql(AssertSqlSafe(batch)).fetch_many(&mut *conn);
        loop {
            let item = stream.try_next().await.map_err(|e| {
                let what = QUERIES.get(answers.len() - 1).map_or("schema", |q| q.0);
                Error::database(format!("reading the {what} from the catalog"))(e)
            })?;
            match item {
                Some(Either::Left(_)) => answers.push(Vec::new()),
                Some(Either::Right(row)) => answers.last_mut().expect("a list").push(row),
                None => break,
            }
        }
    }
    answers.resize_with(QUERIES.len(), Vec::new);
    let mut catalog = Catalog::read(&answers)?;
    let current: Option<String> = match answers[0].first() {
        Some(row) => get(row, 0)?,
        None => None,
    };
    let history_schema = history
        .schema
        .clone()
        .or(current)
        .unwrap_or_else(|| "public".to_owned());
    catalog
        .schema
        .tables
        .remove(&format!("{history_schema}.{}", history.name));
    Ok(catalog.schema)
}

/// The schema as it is assembled, and what its parts are found by.
#[derive(Default)]
struct Catalog {
    schema: Schema,
    /// Every schema's name, by id.
    namespaces: HashMap<i64, String>,
    /// The ids of the schemas a user's objects live in.
    user: HashSet<i64>,
    /// The ids of the objects extensions made.
    from_extension: HashSet<i64>,
    /// The database's own relations (any kind): their schema and name.
    relations: HashMap<i64, (i64, String)>,
    /// The user's tables, by id: their qualified name, the schema model's key.
    tables: HashMap<i64, String>,
    /// Column names, by relation and number.
    column_names: HashMap<(i64, i16), String>,
}

impl Catalog {
    fn read(answers: &[Vec<PgRow>]) -> Result<Catalog> {
        let mut catalog = Catalog::default();
        let rows = |name: &str| {
            let index = QUERIES.iter().position(|q| q.0 == name).expect("a query");
            answers[index].as_slice()
        };
        catalog.namespaces(rows("schemas"))?;
        for row in rows("extensions' objects") {
            catalog.from_extension.insert(get(row, 0)?);
        }
        // Comments by relation and column number (0: the relation itself).
        let mut comments: HashMap<(i64, i32), Option<String>> = HashMap::new();
        for row in rows("comments") {
            comments.insert((get(row, 0)?, get(row, 1)?), get(row, 2)?);
        }
        catalog.relations(rows("relations"), &mut comments)?;
        catalog.columns(rows("columns"), rows("column defaults"), &mut comments)?;
        let constraint_indexes = catalog.constraints(rows("constraints"))?;
        let dependencies = Dependencies::read(rows("dependencies"))?;
        catalog.indexes(rows("indexes"), &constraint_indexes, &dependencies)?;
        catalog.triggers(rows("triggers"))?;
        catalog.enums(rows("enum types"), rows("enum labels"))?;
        catalog.sequences(rows("sequences"), &dependencies)?;
        catalog.views(rows("views"))?;
        catalog.extensions(rows("extensions"))?;
        let mut languages = HashMap::new();
        for row in rows("languages") {
            languages.insert(get::<i64>(row, 0)?, get::<String>(row, 1)?);
        }
        catalog.functions(rows("functions"), &languages)?;
        Ok(catalog)
    }

    fn namespaces(&mut self, rows: &[PgRow]) -> Result<()> {
        for row in rows {
            let (id, name): (i64, String) = (get(row, 0)?, get(row, 1)?);
            if is_user_schema(&name) {
                self.user.insert(id);
            }
            self.namespaces.insert(id, name);
        }
        Ok(())
    }

    /// `schema.name` of an object in a user's schema that no extension made.
    fn own(&self, id: i64, namespace: i64, name: &str) -> Option<String> {
        if !self.user.contains(&namespace) || self.from_extension.contains(&id) {
            return None;
        }
        Some(format!("{}.{name}", self.namespaces.get(&namespace)?))
    }

    /// The qualified name of any relation of the database's own.
    fn relation_name(&self, id: i64) -> Option<String> {
        let (namespace, name) = self.relations.get(&id)?;
        Some(format!("{}.{name}", self.namespaces.get(namespace)?))
    }

    fn relations(
        &mut self,
        rows: &[PgRow],
        comments: &mut HashMap<(i64, i32), Option<String>>,
    ) -> Result<()> {
        for row in rows {
            let (id, namespace, name, kind): (i64, i64, String, String) =
                (get(row, 0)?, get(row, 1)?, get(row, 2)?, get(row, 3)?);
            if matches!(kind.as_str(), "r" | "p")
                && let Some(qualified) = self.own(id, namespace, &name)
            {
                let table = Table {
                    comment: comments.remove(&(id, 0)).flatten(),
                    ..Table::default()
                };
                self.schema.tables.insert(qualified.clone(), table);
                self.tables.insert(id, qualified);
            }
            self.relations.insert(id, (namespace, name));
        }
        Ok(())
    }

    fn table_mut(&mut self, id: i64) -> Option<&mut Table> {
        let name = self.tables.get(&id)?;
        self.schema.tables.get_mut(name)
    }

    fn columns(
        &mut self,
        rows: &[PgRow],
        defaults: &[PgRow],
        comments: &mut HashMap<(i64, i32), Option<String>>,
    ) -> Result<()> {
        let mut expressions: HashMap<(i64, i16), Option<String>> = HashMap::new();
        for row in defaults {
            expressions.insert((get(row, 0)?, get(row, 1)?), get(row, 2)?);
        }
        let mut found: Vec<(i64, i16, String, Column)> = Vec::new();
        for row in rows {
            let (relation, number, name): (i64, i16, String) =
                (get(row, 0)?, get(row, 1)?, get(row, 2)?);
            self.column_names.insert((relation, number), name.clone());
            if !self.tables.contains_key(&relation) {
                continue;
            }
            let expression = expressions.remove(&(relation, number)).flatten();
            let identity: String = get(row, 5)?;
            let generated: String = get(row, 6)?;
            let (default, generated) = if generated == "s" {
                (None, expression)
            } else {
                (expression, None)
            };
            let column = Column {
                data_type: get(row, 3)?,
                nullable: !get::<bool>(row, 4)?,
                default,
                identity: match identity.as_str() {
                    "a" => Some("always".to_owned()),
                    "d" => Some("by default".to_owned()),
                    _ => None,
                },
                generated,
                comment: comments.remove(&(relation, i32::from(number))).flatten(),
            };
            found.push((relation, number, name, column));
        }
        found.sort_by_key(|(relation, number, ..)| (*relation, *number));
        for (relation, _, name, column) in found {
            let table = self.table_mut(relation).expect("a table");
            table.column_order.push(name.clone());
            table.columns.insert(name, column);
        }
        Ok(())
    }

    /// Reads the constraints; gives the ids of the indexes that constraints use.
    fn constraints(&mut self, rows: &[PgRow]) -> Result<HashSet<i64>> {
        let mut indexes = HashSet::new();
        for row in rows {
            let (relation, index, kind): (i64, i64, String) =
                (get(row, 0)?, get(row, 1)?, get(row, 3)?);
            indexes.insert(index);
            let Some(definition) = get::<Option<String>>(row, 4)? else {
                continue;
            };
            let kind = match kind.as_str() {
                "p" => ConstraintKind::PrimaryKey,
                "u" => ConstraintKind::Unique,
                "f" => ConstraintKind::ForeignKey,
                "c" => ConstraintKind::Check,
                _ => ConstraintKind::Exclude,
            };
            let mut numbers: Vec<i16> = get::<Option<Vec<i16>>>(row, 5)?.unwrap_or_default();
            numbers.sort_unstable();
            numbers.dedup();
            let columns = numbers
                .iter()
                .filter_map(|n| self.column_names.get(&(relation, *n)).cloned())
                .collect();
            let name: String = get(row, 2)?;
            if let Some(table) = self.table_mut(relation) {
                table.constraints.insert(
                    definition.clone(),
                    Constraint {
                        kind,
                        definition,
                        name,
                        columns,
                    },
                );
            }
        }
        Ok(indexes)
    }

    fn indexes(
        &mut self,
        rows: &[PgRow],
        of_constraints: &HashSet<i64>,
        dependencies: &Dependencies,
    ) -> Result<()> {
        for row in rows {
            let (relation, index): (i64, i64) = (get(row, 0)?, get(row, 1)?);
            let Some(sql) = get::<Option<String>>(row, 2)? else {
                continue;
            };
            if of_constraints.contains(&index) || !self.tables.contains_key(&relation) {
                continue;
            }
            // The columns its keys, expressions and predicate use, by name.
            let mut columns: Vec<String> = dependencies
                .columns_of(index)
                .filter_map(|key| self.column_names.get(&key).cloned())
                .collect();
            columns.sort_unstable();
            columns.dedup();
            let name = self
                .relations
                .get(&index)
                .map(|(_, name)| name.clone())
                .unwrap_or_default();
            let definition = index_definition(&sql);
            let table = self.table_mut(relation).expect("a table");
            table.indexes.insert(
                definition.clone(),
                Index {
                    definition,
                    name,
                    sql,
                    columns,
                },
            );
        }
        Ok(())
    }

    fn triggers(&mut self, rows: &[PgRow]) -> Result<()> {
        for row in rows {
            let relation: i64 = get(row, 0)?;
            let (name, definition): (String, String) = (get(row, 1)?, get(row, 2)?);
            if let Some(table) = self.table_mut(relation) {
                table.triggers.insert(name, Trigger { definition });
            }
        }
        Ok(())
    }

    fn enums(&mut self, types: &[PgRow], labels: &[PgRow]) -> Result<()> {
        let mut names = HashMap::new();
        for row in types {
            let (id, namespace, name): (i64, i64, String) =
                (get(row, 0)?, get(row, 1)?, get(row, 2)?);
            if let Some(qualified) = self.own(id, namespace, &name) {
                names.insert(id, qualified);
            }
        }
        let mut found: Vec<(i64, f32, String)> = Vec::new();
        for row in labels {
            let id: i64 = get(row, 0)?;
            if names.contains_key(&id) {
                found.push((id, get(row, 2)?, get(row, 1)?));
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        for (id, _, label) in found {
            self.schema
                .enums
                .entry(names[&id].clone())
                .or_default()
                .push(label);
        }
        Ok(())
    }

    fn sequences(&mut self, rows: &[PgRow], dependencies: &Dependencies) -> Result<()> {
        for row in rows {
            let id: i64 = get(row, 0)?;
            // Identity columns' sequences belong to their column.
            if dependencies.identity.contains(&id) {
                continue;
            }
            let Some(&(namespace, ref name)) = self.relations.get(&id) else {
                continue;
            };
            let Some(qualified) = self.own(id, namespace, name) else {
                continue;
            };
            let owned_by = dependencies
                .owner
                .get(&id)
                .and_then(|table| self.relation_name(*table));
            self.schema.sequences.insert(
                qualified,
                Sequence {
                    data_type: get(row, 1)?,
                    increment: get(row, 2)?,
                    start: get(row, 3)?,
                    owned_by,
                },
            );
        }
        Ok(())
    }

    fn views(&mut self, rows: &[PgRow]) -> Result<()> {
        for row in rows {
            let id: i64 = get(row, 0)?;
            let Some(&(namespace, ref name)) = self.relations.get(&id) else {
                continue;
            };
            let Some(qualified) = self.own(id, namespace, name) else {
                continue;
            };
            let definition: String = get(row, 2)?;
            self.schema.views.insert(
                qualified,
                View {
                    materialized: get(row, 1)?,
                    definition: collapse_whitespace(&definition),
                },
            );
        }
        Ok(())
    }

    fn extensions(&mut self, rows: &[PgRow]) -> Result<()> {
        for row in rows {
            let (name, namespace): (String, i64) = (get(row, 0)?, get(row, 1)?);
            let namespace = self.namespaces.get(&namespace).cloned().unwrap_or_default();
            self.schema.extensions.insert(name, namespace);
        }
        Ok(())
    }

    fn functions(&mut self, rows: &[PgRow], languages: &HashMap<i64, String>) -> Result<()> {
        for row in rows {
            let (id, namespace, name): (i64, i64, String) =
                (get(row, 0)?, get(row, 1)?, get(row, 2)?);
            let Some(qualified) = self.own(id, namespace, &name) else {
                continue;
            };
            let arguments: String = get(row, 3)?;
            let language: i64 = get(row, 5)?;
            let definition: String = get(row, 6)?;
            self.schema.functions.insert(
                format!("{qualified}({arguments})"),
                Function {
                    returns: get::<Option<String>>(row, 4)?.unwrap_or_default(),
                    language: languages.get(&language).cloned().unwrap_or_default(),
                    body_hash: body_hash(&definition),
                    sql: definition,
                },
            );
        }
        Ok(())
    }
}

/// What relations depend on: the columns an index uses, the table a sequence belongs to,
/// and the sequences of identity columns.
#[derive(Default)]
struct Dependencies {
    /// By relation: the (relation, column) pairs it depends on.
    columns: HashMap<i64, Vec<(i64, i16)>>,
    owner: HashMap<i64, i64>,
    identity: HashSet<i64>,
}

impl Dependencies {
    fn read(rows: &[PgRow]) -> Result<Dependencies> {
        const PG_CLASS: i64 = 1259;
        let mut found = Dependencies::default();
        for row in rows {
            let (id, class, target, column, kind): (i64, i64, i64, i32, String) = (
                get(row, 0)?,
                get(row, 1)?,
                get(row, 2)?,
                get(row, 3)?,
                get(row, 4)?,
            );
            if kind == "i" {
                found.identity.insert(id);
            }
            if class != PG_CLASS {
                continue;
            }
            if column > 0
                && let Ok(column) = i16::try_from(column)
            {
                found.columns.entry(id).or_default().push((target, column));
            }
            if kind == "a" {
                found.owner.entry(id).or_insert(target);
            }
        }
        Ok(found)
    }

    /// The (relation, column) pairs `index` uses.
    fn columns_of(&self, index: i64) -> impl Iterator<Item = (i64, i16)> + '_ {
        self.columns.get(&index).into_iter().flatten().copied()
    }
}

/// A schema a user's objects live in: not the system's (as `NOT IN ('pg_catalog',
/// 'information_schema') AND NOT LIKE 'pg_toast%' AND NOT LIKE 'pg_temp%'`, where `_`
/// stands for any one character).
fn is_user_schema(name: &str) -> bool {
    let like = |rest: &str| {
        let mut chars = name.chars();
        chars.next() == Some('p')
            && chars.next() == Some('g')
            && chars.next().is_some()
            && chars.as_str().starts_with(rest)
    };
    !matches!(name, "pg_catalog" | "information_schema") && !like("toast") && !like("temp")
}

fn get<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
    row: &'r PgRow,
    i: usize,
) -> Result<T> {
    row.try_get(i)
        .map_err(Error::database("reading the catalog"))
}

/// `CREATE UNIQUE INDEX name ON public.t USING btree (a)` -> `UNIQUE ON public.t USING btree (a)`.
fn index_definition(sql: &str) -> String {
    let unique = sql.starts_with("CREATE UNIQUE INDEX");
    let rest = sql.split_once(" ON ").map_or(sql, |(_, rest)| rest);
    format!("{}ON {rest}", if unique { "UNIQUE " } else { "" })
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

    #[test]
    fn user_schemas_are_told_as_the_catalog_query_told_them() {
        for user in [
            "public", "app", "pg", "pgtoast", "pg_toas", "pg_tem", "toast",
        ] {
            assert!(super::is_user_schema(user), "{user}");
        }
        for system in [
            "pg_catalog",
            "information_schema",
            "pg_toast",
            "pg_toast_temp_1",
            "pg_temp_3",
            "pgXtoast",
            "pgétemp",
        ] {
            assert!(!super::is_user_schema(system), "{system}");
        }
    }
}
