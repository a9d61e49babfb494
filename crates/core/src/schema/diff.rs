//! What differs between the schema a database should have and the one it has: each
//! difference in words, with the SQL that would make the live schema match, and whether
//! that SQL destroys anything.

use super::render::{column_sql, quote_identifier, quote_name};
use super::{Schema, Table};
use crate::dialect::{Dialect, string_literal};
use serde::Serialize;
use std::collections::BTreeMap;

/// One difference, seen from the expected schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Difference {
    pub kind: DifferenceKind,
    /// What it is about, e.g. `index trades_market on public.trades`.
    pub object: String,
    /// In words.
    pub description: String,
    /// What would make the live schema match, when SQL can do it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// The SQL drops or narrows something (data may be lost).
    pub destructive: bool,
    /// It needs no statement of its own: another change makes it (dropping a column
    /// drops its indexes and constraints, dropping a table its owned sequences).
    #[serde(skip)]
    pub implied: bool,
}

/// How the live schema differs from the expected one in one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// Expected, not there.
    Missing,
    /// There, not expected.
    Unexpected,
    /// There, but not as expected.
    Changed,
}

impl Difference {
    fn new(
        kind: DifferenceKind,
        object: String,
        description: String,
        sql: Option<String>,
        destructive: bool,
    ) -> Self {
        Difference {
            kind,
            object,
            description,
            sql,
            destructive,
            implied: false,
        }
    }

    /// This difference, made by `by` (a drop that takes it along, a create that makes
    /// it): no statement of its own.
    fn implied_by(mut self, by: &str) -> Self {
        let how = match self.kind {
            DifferenceKind::Missing => "made with",
            DifferenceKind::Unexpected | DifferenceKind::Changed => "dropped with",
        };
        self.description = format!("{} ({how} {by})", self.description);
        self.sql = None;
        self.implied = true;
        self
    }
}

/// The differences that take `live` to `expected`, types and tables before what depends
/// on them.
pub fn diff(expected: &Schema, live: &Schema, dialect: Dialect) -> Vec<Difference> {
    let mut out = Vec::new();
    for (name, schema) in &expected.extensions {
        if !live.extensions.contains_key(name) {
            out.push(Difference::new(
                DifferenceKind::Missing,
                format!("extension {name}"),
                format!("extension {name} is missing"),
                Some(format!(
                    "CREATE EXTENSION IF NOT EXISTS {} SCHEMA {};",
                    quote_identifier(name),
                    quote_identifier(schema)
                )),
                false,
            ));
        }
    }
    for name in live
        .extensions
        .keys()
        .filter(|n| !expected.extensions.contains_key(*n))
    {
        out.push(Difference::new(
            DifferenceKind::Unexpected,
            format!("extension {name}"),
            format!("extension {name} is not in the migrations"),
            Some(format!("DROP EXTENSION {};", quote_identifier(name))),
            true,
        ));
    }
    enums(expected, live, &mut out);
    for (name, sequence) in &expected.sequences {
        if !live.sequences.contains_key(name) {
            let difference = Difference::new(
                DifferenceKind::Missing,
                format!("sequence {name}"),
                format!("sequence {name} is missing"),
                Some(format!(
                    "CREATE SEQUENCE {} AS {} INCREMENT BY {} START WITH {};",
                    quote_name(name),
                    sequence.data_type,
                    sequence.increment,
                    sequence.start
                )),
                false,
            );
            // A missing table's `serial` column makes its sequence.
            out.push(match &sequence.owned_by {
                Some(table) if !live.tables.contains_key(table) => {
                    difference.implied_by(&format!("table {table}"))
                }
                _ => difference,
            });
        }
    }
    for (name, sequence) in live
        .sequences
        .iter()
        .filter(|(n, _)| !expected.sequences.contains_key(*n))
    {
        let difference = Difference::new(
            DifferenceKind::Unexpected,
            format!("sequence {name}"),
            format!("sequence {name} is not in the migrations"),
            Some(format!("DROP SEQUENCE {};", quote_name(name))),
            true,
        );
        // A sequence a dropped table owns goes with it.
        out.push(match &sequence.owned_by {
            Some(table) if !expected.tables.contains_key(table) => {
                difference.implied_by(&format!("table {table}"))
            }
            _ => difference,
        });
    }
    for (name, table) in &expected.tables {
        match live.tables.get(name) {
            None => {
                // With the sequences it owns: its `serial` columns make them.
                let only = Schema {
                    tables: BTreeMap::from([(name.clone(), table.clone())]),
                    sequences: expected
                        .sequences
                        .iter()
                        .filter(|(_, s)| s.owned_by.as_ref() == Some(name))
                        .map(|(n, s)| (n.clone(), s.clone()))
                        .collect(),
                    ..Schema::default()
                };
                out.push(Difference::new(
                    DifferenceKind::Missing,
                    format!("table {name}"),
                    format!("table {name} is missing"),
                    Some(super::render::to_sql(&only, dialect).trim().to_owned()),
                    false,
                ));
            }
            Some(live_table) => {
                let mut changes = Vec::new();
                table_diff(name, table, live_table, dialect, &mut changes);
                if dialect == Dialect::Sqlite && changes.iter().any(needs_rebuild) {
                    out.push(sqlite_rebuild(name, table, live_table));
                } else {
                    out.extend(changes);
                }
            }
        }
    }
    for name in live
        .tables
        .keys()
        .filter(|n| !expected.tables.contains_key(*n))
    {
        out.push(Difference::new(
            DifferenceKind::Unexpected,
            format!("table {name}"),
            format!("table {name} is not in the migrations"),
            Some(format!("DROP TABLE {};", quote_name(name))),
            true,
        ));
    }
    for (name, view) in &expected.views {
        let create = match dialect {
            Dialect::Postgres if view.materialized => format!(
                "CREATE MATERIALIZED VIEW {} AS {};",
                quote_name(name),
                view.definition.trim_end_matches(';')
            ),
            Dialect::Postgres | Dialect::MySql => format!(
                "CREATE OR REPLACE VIEW {} AS {};",
                quote_name(name),
                view.definition.trim_end_matches(';')
            ),
            Dialect::Sqlite => format!("{};", view.definition.trim_end_matches(';')),
        };
        match live.views.get(name) {
            None => out.push(Difference::new(
                DifferenceKind::Missing,
                format!("view {name}"),
                format!("view {name} is missing"),
                Some(create),
                false,
            )),
            Some(live_view) if live_view != view => out.push(Difference::new(
                DifferenceKind::Changed,
                format!("view {name}"),
                format!("view {name} has another definition"),
                Some(create),
                false,
            )),
            Some(_) => {}
        }
    }
    for name in live
        .views
        .keys()
        .filter(|n| !expected.views.contains_key(*n))
    {
        out.push(Difference::new(
            DifferenceKind::Unexpected,
            format!("view {name}"),
            format!("view {name} is not in the migrations"),
            Some(format!("DROP VIEW {};", quote_name(name))),
            true,
        ));
    }
    for (signature, function) in &expected.functions {
        match live.functions.get(signature) {
            None => out.push(Difference::new(
                DifferenceKind::Missing,
                format!("function {signature}"),
                format!("function {signature} is missing"),
                Some(format!("{};", function.sql.trim_end())),
                false,
            )),
            Some(live_function)
                if live_function.body_hash != function.body_hash
                    || live_function.returns != function.returns =>
            {
                out.push(Difference::new(
                    DifferenceKind::Changed,
                    format!("function {signature}"),
                    format!("function {signature} has another body"),
                    Some(format!("{};", function.sql.trim_end())),
                    false,
                ))
            }
            Some(_) => {}
        }
    }
    for signature in live
        .functions
        .keys()
        .filter(|s| !expected.functions.contains_key(*s))
    {
        out.push(Difference::new(
            DifferenceKind::Unexpected,
            format!("function {signature}"),
            format!("function {signature} is not in the migrations"),
            Some(format!("DROP FUNCTION {signature};")),
            true,
        ));
    }
    if dialect == Dialect::MySql {
        // skein does not write MySQL DDL yet: the differences are given in words only.
        for difference in &mut out {
            difference.sql = None;
        }
    }
    out
}

fn enums(expected: &Schema, live: &Schema, out: &mut Vec<Difference>) {
    for (name, values) in &expected.enums {
        let Some(live_values) = live.enums.get(name) else {
            let values: Vec<String> = values.iter().map(|v| string_literal(v)).collect();
            out.push(Difference::new(
                DifferenceKind::Missing,
                format!("type {name}"),
                format!("enum type {name} is missing"),
                Some(format!(
                    "CREATE TYPE {} AS ENUM ({});",
                    quote_name(name),
                    values.join(", ")
                )),
                false,
            ));
            continue;
        };
        for (i, value) in values.iter().enumerate() {
            if !live_values.contains(value) {
                let position = match i.checked_sub(1).and_then(|p| values.get(p)) {
                    Some(before) => format!(" AFTER {}", string_literal(before)),
                    None => String::new(),
                };
                out.push(Difference::new(
                    DifferenceKind::Missing,
                    format!("type {name}"),
                    format!("enum type {name} lacks the value '{value}'"),
                    Some(format!(
                        "ALTER TYPE {} ADD VALUE IF NOT EXISTS {}{position};",
                        quote_name(name),
                        string_literal(value)
                    )),
                    false,
                ));
            }
        }
        for value in live_values.iter().filter(|v| !values.contains(v)) {
            out.push(Difference::new(DifferenceKind::Unexpected, format!("type {name}"),
                format!("enum type {name} has the value '{value}', which the migrations do not give it (PostgreSQL cannot drop an enum value: recreate the type)"),
                None, true));
        }
    }
    for name in live
        .enums
        .keys()
        .filter(|n| !expected.enums.contains_key(*n))
    {
        out.push(Difference::new(
            DifferenceKind::Unexpected,
            format!("type {name}"),
            format!("enum type {name} is not in the migrations"),
            Some(format!("DROP TYPE {};", quote_name(name))),
            true,
        ));
    }
}

fn table_diff(
    name: &str,
    expected: &Table,
    live: &Table,
    dialect: Dialect,
    out: &mut Vec<Difference>,
) {
    let table = quote_name(name);
    for (column, definition) in &expected.columns {
        let object = format!("column {name}.{column}");
        let Some(live_column) = live.columns.get(column) else {
            let mut add = definition.clone();
            let mut note = String::new();
            if !add.nullable
                && add.default.is_none()
                && add.identity.is_none()
                && add.generated.is_none()
            {
                // Existing rows need a value: a neutral default, said in the plan.
                add.default = Some(neutral_default(&add.data_type).to_owned());
                note = format!(
                    " (existing rows get {})",
                    add.default.as_deref().unwrap_or_default()
                );
            }
            let mut sql = format!(
                "ALTER TABLE {table} ADD COLUMN {};",
                column_sql(column, &add)
            );
            if !note.is_empty() {
                // The default was only for the rows already there.
                sql.push_str(&format!(
                    "\nALTER TABLE {table} ALTER COLUMN {} DROP DEFAULT;",
                    quote_identifier(column)
                ));
            }
            out.push(Difference::new(
                DifferenceKind::Missing,
                object,
                format!("column {name}.{column} is missing{note}"),
                Some(sql),
                false,
            ));
            continue;
        };
        if live_column.data_type != definition.data_type {
            out.push(Difference::new(
                DifferenceKind::Changed,
                object.clone(),
                format!(
                    "column {name}.{column} is {} but the migrations make it {}",
                    live_column.data_type, definition.data_type
                ),
                Some(format!(
                    "ALTER TABLE {table} ALTER COLUMN {} TYPE {};",
                    quote_identifier(column),
                    definition.data_type
                )),
                true,
            ));
        }
        if live_column.nullable != definition.nullable {
            let (words, sql) = if definition.nullable {
                ("may be NULL", "DROP NOT NULL")
            } else {
                ("must be NOT NULL", "SET NOT NULL")
            };
            out.push(Difference::new(
                DifferenceKind::Changed,
                object.clone(),
                format!("column {name}.{column} {words} by the migrations"),
                Some(format!(
                    "ALTER TABLE {table} ALTER COLUMN {} {sql};",
                    quote_identifier(column)
                )),
                false,
            ));
        }
        if live_column.default != definition.default {
            let sql = match &definition.default {
                Some(default) => format!(
                    "ALTER TABLE {table} ALTER COLUMN {} SET DEFAULT {default};",
                    quote_identifier(column)
                ),
                None => format!(
                    "ALTER TABLE {table} ALTER COLUMN {} DROP DEFAULT;",
                    quote_identifier(column)
                ),
            };
            out.push(Difference::new(
                DifferenceKind::Changed,
                object,
                format!("column {name}.{column} has another default"),
                Some(sql),
                false,
            ));
        }
    }
    for column in live
        .columns
        .keys()
        .filter(|c| !expected.columns.contains_key(*c))
    {
        out.push(Difference::new(
            DifferenceKind::Unexpected,
            format!("column {name}.{column}"),
            format!("column {name}.{column} is not in the migrations"),
            Some(format!(
                "ALTER TABLE {table} DROP COLUMN {};",
                quote_identifier(column)
            )),
            true,
        ));
    }
    for (definition, constraint) in &expected.constraints {
        if !live.constraints.contains_key(definition) {
            out.push(Difference::new(
                DifferenceKind::Missing,
                format!("{} on {name}", constraint.kind),
                format!("{} {definition} on {name} is missing", constraint.kind),
                (dialect == Dialect::Postgres)
                    .then(|| format!("ALTER TABLE {table} ADD {definition};")),
                false,
            ));
        }
    }
    // A dropped column takes the indexes and constraints on it along.
    let dropped = |columns: &[String]| {
        columns
            .iter()
            .find(|c| live.columns.contains_key(*c) && !expected.columns.contains_key(*c))
            .map(|c| format!("column {name}.{c}"))
    };
    for (definition, constraint) in live
        .constraints
        .iter()
        .filter(|(d, _)| !expected.constraints.contains_key(*d))
    {
        let difference = Difference::new(
            DifferenceKind::Unexpected,
            format!("{} on {name}", constraint.kind),
            format!(
                "{} {definition} on {name} is not in the migrations",
                constraint.kind
            ),
            (dialect == Dialect::Postgres && !constraint.name.is_empty()).then(|| {
                format!(
                    "ALTER TABLE {table} DROP CONSTRAINT {};",
                    quote_identifier(&constraint.name)
                )
            }),
            true,
        );
        out.push(match dropped(&constraint.columns) {
            Some(column) => difference.implied_by(&column),
            None => difference,
        });
    }
    for (definition, index) in &expected.indexes {
        if !live.indexes.contains_key(definition) {
            out.push(Difference::new(
                DifferenceKind::Missing,
                format!("index {} on {name}", index.name),
                format!("index {} on {name} is missing", index.name),
                Some(format!("{};", index.sql)),
                false,
            ));
        }
    }
    for index in live
        .indexes
        .iter()
        .filter(|(d, _)| !expected.indexes.contains_key(*d))
        .map(|(_, i)| i)
    {
        let difference = Difference::new(
            DifferenceKind::Unexpected,
            format!("index {} on {name}", index.name),
            format!("index {} on {name} is not in the migrations", index.name),
            Some(format!(
                "DROP INDEX {};",
                qualified_index(name, &index.name, dialect)
            )),
            true,
        );
        out.push(match dropped(&index.columns) {
            Some(column) => difference.implied_by(&column),
            None => difference,
        });
    }
    for (trigger, definition) in &expected.triggers {
        if !live.triggers.contains_key(trigger) {
            out.push(Difference::new(
                DifferenceKind::Missing,
                format!("trigger {trigger} on {name}"),
                format!("trigger {trigger} on {name} is missing"),
                Some(format!("{};", definition.definition.trim_end_matches(';'))),
                false,
            ));
        }
    }
    for trigger in live
        .triggers
        .keys()
        .filter(|t| !expected.triggers.contains_key(*t))
    {
        let sql = match dialect {
            Dialect::Postgres => format!("DROP TRIGGER {} ON {table};", quote_identifier(trigger)),
            Dialect::Sqlite | Dialect::MySql => {
                format!("DROP TRIGGER {};", quote_identifier(trigger))
            }
        };
        out.push(Difference::new(
            DifferenceKind::Unexpected,
            format!("trigger {trigger} on {name}"),
            format!("trigger {trigger} on {name} is not in the migrations"),
            Some(sql),
            true,
        ));
    }
    if expected.comment != live.comment {
        let comment = expected
            .comment
            .as_deref()
            .map_or_else(|| "NULL".to_owned(), string_literal);
        out.push(Difference::new(
            DifferenceKind::Changed,
            format!("table {name}"),
            format!("table {name} has another comment"),
            (dialect == Dialect::Postgres)
                .then(|| format!("COMMENT ON TABLE {table} IS {comment};")),
            false,
        ));
    }
}

/// An index lives in its table's schema on PostgreSQL.
fn qualified_index(table: &str, index: &str, dialect: Dialect) -> String {
    match (dialect, table.split_once('.')) {
        (Dialect::Postgres, Some((schema, _))) => {
            format!("{}.{}", quote_identifier(schema), quote_identifier(index))
        }
        _ => quote_identifier(index),
    }
}

/// The value existing rows get when a NOT NULL column without a default is added.
fn neutral_default(data_type: &str) -> &'static str {
    let data_type = data_type.to_lowercase();
    if data_type.contains("int")
        || data_type.contains("numeric")
        || data_type.contains("decimal")
        || data_type.contains("real")
        || data_type.contains("double")
    {
        "0"
    } else if data_type.contains("bool") {
        "false"
    } else if data_type.contains("timestamp") {
        "now()"
    } else if data_type.contains("json") {
        "'{}'"
    } else {
        "''"
    }
}

/// The statements of `differences`, one by one, foreign keys last: a new table may
/// reference another new table whatever their order.
pub fn statements<'a>(differences: impl IntoIterator<Item = &'a Difference>) -> Vec<String> {
    ordered(differences)
        .into_iter()
        .map(|(sql, _)| sql)
        .collect()
}

/// Like [`statements`], each with the difference it is for.
pub fn ordered<'a>(
    differences: impl IntoIterator<Item = &'a Difference>,
) -> Vec<(String, &'a Difference)> {
    let all: Vec<(String, &Difference)> = differences
        .into_iter()
        .filter_map(|d| d.sql.as_deref().map(|sql| (sql, d)))
        .flat_map(|(sql, d)| {
            crate::split::split(sql)
                .into_iter()
                .map(|s| (s.sql.to_owned(), d))
                .collect::<Vec<_>>()
        })
        .collect();
    let is_foreign_key = |(s, _): &(String, &Difference)| {
        s.starts_with("ALTER TABLE") && s.contains(" FOREIGN KEY ")
    };
    // Types, sequences and extensions go once nothing uses them any more.
    let is_late_drop = |(s, _): &(String, &Difference)| {
        ["DROP TYPE", "DROP SEQUENCE", "DROP EXTENSION"]
            .iter()
            .any(|p| s.starts_with(p))
    };
    let (late, all): (Vec<_>, Vec<_>) = all.into_iter().partition(is_late_drop);
    let (keys, rest): (Vec<_>, Vec<_>) = all.into_iter().partition(is_foreign_key);
    rest.into_iter().chain(keys).chain(late).collect()
}

/// What SQLite's ALTER TABLE cannot do: change a column, add or drop a constraint, drop a
/// column (which fails when an index or constraint uses it).
fn needs_rebuild(difference: &Difference) -> bool {
    let constraint = ["primary key", "unique", "foreign key", "check"]
        .iter()
        .any(|k| difference.object.starts_with(k));
    (difference.kind == DifferenceKind::Changed && difference.object.starts_with("column "))
        || constraint
        || (difference.kind == DifferenceKind::Unexpected
            && difference.object.starts_with("column "))
}

/// SQLite's way to change a table: create it as it should be, copy the columns both
/// have, drop the old one, rename, and recreate its indexes and triggers. Run with
/// foreign keys off (see `converge`), so that dropping the old table deletes no rows of
/// the tables that refer to it.
fn sqlite_rebuild(name: &str, expected: &Table, live: &Table) -> Difference {
    let temporary = format!("skein_rebuild_{name}");
    let shape = Table {
        indexes: BTreeMap::new(),
        triggers: BTreeMap::new(),
        ..expected.clone()
    };
    let create = super::render::to_sql(
        &Schema {
            tables: BTreeMap::from([(temporary.clone(), shape)]),
            ..Schema::default()
        },
        Dialect::Sqlite,
    );
    let common: Vec<String> = expected
        .columns
        .keys()
        .filter(|c| live.columns.contains_key(*c))
        .map(|c| quote_identifier(c))
        .collect();
    let dropped: Vec<&String> = live
        .columns
        .keys()
        .filter(|c| !expected.columns.contains_key(*c))
        .collect();
    let changed_type = expected.columns.iter().any(|(c, column)| {
        live.columns
            .get(c)
            .is_some_and(|l| l.data_type != column.data_type)
    });
    let mut sql = vec![create.trim().to_owned()];
    sql.push(format!(
        "INSERT INTO {} ({columns}) SELECT {columns} FROM {};",
        quote_identifier(&temporary),
        quote_identifier(name),
        columns = common.join(", ")
    ));
    sql.push(format!("DROP TABLE {};", quote_identifier(name)));
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
    let mut description =
        format!("table {name} must be rebuilt (SQLite's ALTER TABLE cannot change it in place)");
    if !dropped.is_empty() {
        let names: Vec<&str> = dropped.iter().map(|c| c.as_str()).collect();
        description.push_str(&format!("; its columns {} are dropped", names.join(", ")));
    }
    Difference::new(
        DifferenceKind::Changed,
        format!("table {name}"),
        description,
        Some(sql.join("\n")),
        !dropped.is_empty() || changed_type,
    )
}
