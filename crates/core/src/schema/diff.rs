//! What differs between the schema a database should have and the one it has: each
//! difference in words, as a typed [`Change`] (the DDL writers turn it into SQL), and
//! whether it destroys anything. What a change takes with it (a dropped column's indexes,
//! a created table's sequences) is decided here, on the model.

use super::change::Change;
use super::{Column, Schema, Table};
use crate::dialect::Dialect;
use serde::Serialize;

/// One difference, seen from the expected schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Difference {
    pub kind: DifferenceKind,
    /// What it is about, e.g. `index trades_market on public.trades`.
    pub object: String,
    /// In words.
    pub description: String,
    /// What would make the live schema match, when this database's writer can say it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// It drops or narrows something (data may be lost).
    pub destructive: bool,
    /// It needs no statement of its own: another change makes it (dropping a column
    /// drops its indexes and constraints, creating a table makes its sequences).
    #[serde(skip)]
    pub implied: bool,
    /// The change, when one can make it; `None` when a person must.
    #[serde(skip)]
    pub change: Option<Change>,
    /// The statements of `sql`, each with when it runs in a plan.
    #[serde(skip)]
    pub statements: Vec<super::ddl::Statement>,
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
    /// This difference, made by `by` (a drop that takes it along, a create that makes
    /// it): no statement of its own.
    fn implied_by(mut self, by: &str) -> Self {
        let how = match self.kind {
            DifferenceKind::Missing => "made with",
            DifferenceKind::Unexpected | DifferenceKind::Changed => "dropped with",
        };
        self.description = format!("{} ({how} {by})", self.description);
        self.sql = None;
        self.statements.clear();
        self.implied = true;
        self
    }
}

/// The differences that take `live` to `expected`, types and tables before what depends
/// on them. Each carries its SQL for `dialect` when that database's writer can make it.
pub fn diff(expected: &Schema, live: &Schema, dialect: Dialect) -> Vec<Difference> {
    let mut differ = Differ {
        expected,
        live,
        dialect,
        out: Vec::new(),
    };
    differ.extensions();
    differ.enums();
    differ.sequences();
    differ.tables();
    differ.views();
    differ.functions();
    differ.out
}

struct Differ<'a> {
    expected: &'a Schema,
    live: &'a Schema,
    dialect: Dialect,
    out: Vec<Difference>,
}

/// What one difference is: `(kind, object, description)`.
type Said = (DifferenceKind, String, String);

impl Differ<'_> {
    fn difference(
        &self,
        (kind, object, description): Said,
        change: Option<Change>,
        destructive: bool,
    ) -> Difference {
        let statements = change
            .as_ref()
            .and_then(|c| super::ddl::statements(c, self.dialect));
        Difference {
            kind,
            object,
            description,
            sql: statements.as_ref().map(|s| {
                s.iter()
                    .map(|s| format!("{};", s.sql.trim_end_matches(';')))
                    .collect::<Vec<_>>()
                    .join("\n")
            }),
            destructive,
            implied: false,
            change,
            statements: statements.unwrap_or_default(),
        }
    }

    fn push(&mut self, said: Said, change: Option<Change>, destructive: bool) {
        let difference = self.difference(said, change, destructive);
        self.out.push(difference);
    }

    fn extensions(&mut self) {
        let (expected, live) = (self.expected, self.live);
        for (name, schema) in &expected.extensions {
            if !live.extensions.contains_key(name) {
                let said = missing(format!("extension {name}"));
                let change = Change::CreateExtension {
                    name: name.clone(),
                    schema: schema.clone(),
                };
                self.push(said, Some(change), false);
            }
        }
        for name in live
            .extensions
            .keys()
            .filter(|n| !expected.extensions.contains_key(*n))
        {
            let said = unexpected(format!("extension {name}"));
            self.push(
                said,
                Some(Change::DropExtension { name: name.clone() }),
                true,
            );
        }
    }

    fn enums(&mut self) {
        let (expected, live) = (self.expected, self.live);
        for (name, values) in &expected.enums {
            let Some(live_values) = live.enums.get(name) else {
                let said = (
                    DifferenceKind::Missing,
                    format!("type {name}"),
                    format!("enum type {name} is missing"),
                );
                let change = Change::CreateEnum {
                    name: name.clone(),
                    values: values.clone(),
                };
                self.push(said, Some(change), false);
                continue;
            };
            for (i, value) in values.iter().enumerate() {
                if !live_values.contains(value) {
                    let said = (
                        DifferenceKind::Missing,
                        format!("type {name}"),
                        format!("enum type {name} lacks the value '{value}'"),
                    );
                    let change = Change::AddEnumValue {
                        name: name.clone(),
                        value: value.clone(),
                        after: i.checked_sub(1).and_then(|p| values.get(p)).cloned(),
                    };
                    self.push(said, Some(change), false);
                }
            }
            for value in live_values.iter().filter(|v| !values.contains(v)) {
                let said = (
                    DifferenceKind::Unexpected,
                    format!("type {name}"),
                    format!(
                        "enum type {name} has the value '{value}', which the migrations do not give it (PostgreSQL cannot drop an enum value: recreate the type)"
                    ),
                );
                self.push(said, None, true);
            }
        }
        for name in live
            .enums
            .keys()
            .filter(|n| !expected.enums.contains_key(*n))
        {
            let said = (
                DifferenceKind::Unexpected,
                format!("type {name}"),
                format!("enum type {name} is not in the migrations"),
            );
            self.push(said, Some(Change::DropEnum { name: name.clone() }), true);
        }
    }

    /// Sequences; those a missing table's `serial` column makes, or a dropped table's
    /// column owns, go with the table.
    fn sequences(&mut self) {
        let (expected, live) = (self.expected, self.live);
        for (name, sequence) in &expected.sequences {
            if live.sequences.contains_key(name) {
                continue;
            }
            let change = Change::CreateSequence {
                name: name.clone(),
                sequence: sequence.clone(),
            };
            let difference =
                self.difference(missing(format!("sequence {name}")), Some(change), false);
            self.out.push(match &sequence.owned_by {
                Some(table) if !live.tables.contains_key(table) => {
                    difference.implied_by(&format!("table {table}"))
                }
                _ => difference,
            });
        }
        for (name, sequence) in live
            .sequences
            .iter()
            .filter(|(n, _)| !expected.sequences.contains_key(*n))
        {
            let change = Change::DropSequence { name: name.clone() };
            let difference =
                self.difference(unexpected(format!("sequence {name}")), Some(change), true);
            self.out.push(match &sequence.owned_by {
                Some(table) if !expected.tables.contains_key(table) => {
                    difference.implied_by(&format!("table {table}"))
                }
                _ => difference,
            });
        }
    }

    fn tables(&mut self) {
        let (expected, live) = (self.expected, self.live);
        for (name, table) in &expected.tables {
            let Some(live_table) = live.tables.get(name) else {
                let sequences = expected
                    .sequences
                    .iter()
                    .filter(|(_, s)| s.owned_by.as_ref() == Some(name))
                    .map(|(n, s)| (n.clone(), s.clone()))
                    .collect();
                let change = Change::CreateTable {
                    name: name.clone(),
                    table: table.clone(),
                    sequences,
                };
                self.push(missing(format!("table {name}")), Some(change), false);
                continue;
            };
            let changes = TableDiffer {
                differ: self,
                name,
                expected: table,
                live: live_table,
                out: Vec::new(),
            }
            .run();
            let backend = self.dialect.backend();
            let rebuild = changes
                .iter()
                .filter_map(|d| d.change.as_ref())
                .any(|change| backend.rebuilds(change));
            if rebuild {
                let difference = self.rebuild(name, table, live_table);
                self.out.push(difference);
            } else {
                self.out.extend(changes);
            }
        }
        for name in live
            .tables
            .keys()
            .filter(|n| !expected.tables.contains_key(*n))
        {
            let said = unexpected(format!("table {name}"));
            self.push(said, Some(Change::DropTable { name: name.clone() }), true);
        }
    }

    /// SQLite's table rebuild, said once for every change of the table.
    fn rebuild(&self, name: &str, expected: &Table, live: &Table) -> Difference {
        let dropped: Vec<&str> = live
            .columns
            .keys()
            .filter(|c| !expected.columns.contains_key(*c))
            .map(String::as_str)
            .collect();
        let changed_type = expected.columns.iter().any(|(c, column)| {
            live.columns
                .get(c)
                .is_some_and(|l| l.data_type != column.data_type)
        });
        let mut description = format!(
            "table {name} must be rebuilt (SQLite's ALTER TABLE cannot change it in place)"
        );
        if !dropped.is_empty() {
            description.push_str(&format!("; its columns {} are dropped", dropped.join(", ")));
        }
        let filled: Vec<String> = expected
            .ordered_columns()
            .filter(|(c, _)| !live.columns.contains_key(*c))
            .filter_map(|(c, column)| {
                let fill = fill_for(column, self.dialect)?;
                Some(format!("{c} (existing rows get {fill})"))
            })
            .collect();
        if !filled.is_empty() {
            description.push_str(&format!("; new columns {}", filled.join(", ")));
        }
        let change = Change::RebuildTable {
            name: name.to_owned(),
            expected: expected.clone(),
            live: live.clone(),
        };
        let said = (
            DifferenceKind::Changed,
            format!("table {name}"),
            description,
        );
        self.difference(said, Some(change), !dropped.is_empty() || changed_type)
    }

    fn views(&mut self) {
        let (expected, live) = (self.expected, self.live);
        for (name, view) in &expected.views {
            let change = Change::CreateView {
                name: name.clone(),
                view: view.clone(),
            };
            match live.views.get(name) {
                None => self.push(missing(format!("view {name}")), Some(change), false),
                Some(live_view) if live_view != view => {
                    let said = changed(format!("view {name}"), "has another definition");
                    self.push(said, Some(change), false);
                }
                Some(_) => {}
            }
        }
        for name in live
            .views
            .keys()
            .filter(|n| !expected.views.contains_key(*n))
        {
            let said = unexpected(format!("view {name}"));
            self.push(said, Some(Change::DropView { name: name.clone() }), true);
        }
    }

    fn functions(&mut self) {
        let (expected, live) = (self.expected, self.live);
        for (signature, function) in &expected.functions {
            let change = Change::CreateFunction {
                sql: function.sql.clone(),
            };
            match live.functions.get(signature) {
                None => self.push(
                    missing(format!("function {signature}")),
                    Some(change),
                    false,
                ),
                Some(live_function)
                    if live_function.body_hash != function.body_hash
                        || live_function.returns != function.returns =>
                {
                    let said = changed(format!("function {signature}"), "has another body");
                    self.push(said, Some(change), false);
                }
                Some(_) => {}
            }
        }
        for signature in live
            .functions
            .keys()
            .filter(|s| !expected.functions.contains_key(*s))
        {
            let change = Change::DropFunction {
                signature: signature.clone(),
            };
            self.push(
                unexpected(format!("function {signature}")),
                Some(change),
                true,
            );
        }
    }
}

/// The differences inside one table both schemas have.
struct TableDiffer<'a, 'd> {
    differ: &'d Differ<'a>,
    name: &'a str,
    expected: &'a Table,
    live: &'a Table,
    out: Vec<Difference>,
}

impl TableDiffer<'_, '_> {
    fn run(mut self) -> Vec<Difference> {
        self.columns();
        self.constraints();
        self.indexes();
        self.triggers();
        if self.expected.comment != self.live.comment {
            let said = changed(format!("table {}", self.name), "has another comment");
            let change = Change::SetTableComment {
                table: self.name.to_owned(),
                comment: self.expected.comment.clone(),
            };
            self.push(said, Some(change), false);
        }
        self.out
    }

    fn push(&mut self, said: Said, change: Option<Change>, destructive: bool) {
        let difference = self.differ.difference(said, change, destructive);
        self.out.push(difference);
    }

    /// A change that goes with a dropped column of `columns`, if one is dropped.
    fn dropped_with(&self, columns: &[String]) -> Option<String> {
        columns
            .iter()
            .find(|c| self.live.columns.contains_key(*c) && !self.expected.columns.contains_key(*c))
            .map(|c| format!("column {}.{c}", self.name))
    }

    fn columns(&mut self) {
        let (name, table) = (self.name, self.name.to_owned());
        for (column, definition) in self.expected.ordered_columns() {
            let object = format!("column {name}.{column}");
            let Some(live_column) = self.live.columns.get(column) else {
                let fill = fill_for(definition, self.differ.dialect);
                let note = fill
                    .as_deref()
                    .map(|f| format!(" (existing rows get {f})"))
                    .unwrap_or_default();
                let said = (
                    DifferenceKind::Missing,
                    object,
                    format!("column {name}.{column} is missing{note}"),
                );
                let change = Change::AddColumn {
                    table: table.clone(),
                    column: column.clone(),
                    definition: definition.clone(),
                    fill,
                };
                self.push(said, Some(change), false);
                continue;
            };
            self.column_changes(column, definition, live_column);
        }
        for column in self
            .live
            .columns
            .keys()
            .filter(|c| !self.expected.columns.contains_key(*c))
        {
            let said = unexpected(format!("column {name}.{column}"));
            let change = Change::DropColumn {
                table: table.clone(),
                column: column.clone(),
            };
            self.push(said, Some(change), true);
        }
    }

    fn column_changes(&mut self, column: &str, expected: &Column, live: &Column) {
        let (name, table) = (self.name, self.name.to_owned());
        let object = || format!("column {name}.{column}");
        if live.data_type != expected.data_type {
            let said = (
                DifferenceKind::Changed,
                object(),
                format!(
                    "column {name}.{column} is {} but the migrations make it {}",
                    live.data_type, expected.data_type
                ),
            );
            let change = Change::AlterColumnType {
                table: table.clone(),
                column: column.to_owned(),
                data_type: expected.data_type.clone(),
                definition: expected.clone(),
            };
            self.push(said, Some(change), true);
        }
        if live.nullable != expected.nullable {
            let words = if expected.nullable {
                "may be NULL"
            } else {
                "must be NOT NULL"
            };
            let said = (
                DifferenceKind::Changed,
                object(),
                format!("column {name}.{column} {words} by the migrations"),
            );
            let change = Change::SetNullable {
                table: table.clone(),
                column: column.to_owned(),
                nullable: expected.nullable,
                definition: expected.clone(),
            };
            self.push(said, Some(change), false);
        }
        if live.default != expected.default {
            let said = (
                DifferenceKind::Changed,
                object(),
                format!("column {name}.{column} has another default"),
            );
            let change = Change::SetDefault {
                table,
                column: column.to_owned(),
                default: expected.default.clone(),
            };
            self.push(said, Some(change), false);
        }
    }

    fn constraints(&mut self) {
        let (name, table) = (self.name, self.name.to_owned());
        for (definition, constraint) in &self.expected.constraints {
            if !self.live.constraints.contains_key(definition) {
                let said = (
                    DifferenceKind::Missing,
                    format!("{} on {name}", constraint.kind),
                    format!("{} {definition} on {name} is missing", constraint.kind),
                );
                let change = Change::AddConstraint {
                    table: table.clone(),
                    constraint: constraint.clone(),
                };
                self.push(said, Some(change), false);
            }
        }
        let unexpected: Vec<_> = self
            .live
            .constraints
            .iter()
            .filter(|(d, _)| !self.expected.constraints.contains_key(*d))
            .collect();
        for (definition, constraint) in unexpected {
            let said = (
                DifferenceKind::Unexpected,
                format!("{} on {name}", constraint.kind),
                format!(
                    "{} {definition} on {name} is not in the migrations",
                    constraint.kind
                ),
            );
            let change = Change::DropConstraint {
                table: table.clone(),
                constraint: constraint.clone(),
            };
            let difference = self.differ.difference(said, Some(change), true);
            self.out.push(match self.dropped_with(&constraint.columns) {
                Some(column) => difference.implied_by(&column),
                None => difference,
            });
        }
    }

    fn indexes(&mut self) {
        let (name, table) = (self.name, self.name.to_owned());
        for (definition, index) in &self.expected.indexes {
            if !self.live.indexes.contains_key(definition) {
                let said = missing(format!("index {} on {name}", index.name));
                self.push(
                    said,
                    Some(Change::CreateIndex {
                        index: index.clone(),
                    }),
                    false,
                );
            }
        }
        let unexpected_indexes: Vec<_> = self
            .live
            .indexes
            .iter()
            .filter(|(d, _)| !self.expected.indexes.contains_key(*d))
            .map(|(_, i)| i)
            .collect();
        for index in unexpected_indexes {
            let said = unexpected(format!("index {} on {name}", index.name));
            let change = Change::DropIndex {
                table: table.clone(),
                index: index.clone(),
            };
            let difference = self.differ.difference(said, Some(change), true);
            self.out.push(match self.dropped_with(&index.columns) {
                Some(column) => difference.implied_by(&column),
                None => difference,
            });
        }
    }

    fn triggers(&mut self) {
        let (name, table) = (self.name, self.name.to_owned());
        for (trigger, definition) in &self.expected.triggers {
            if !self.live.triggers.contains_key(trigger) {
                let said = missing(format!("trigger {trigger} on {name}"));
                let change = Change::CreateTrigger {
                    definition: definition.definition.clone(),
                };
                self.push(said, Some(change), false);
            }
        }
        let unexpected_triggers: Vec<String> = self
            .live
            .triggers
            .keys()
            .filter(|t| !self.expected.triggers.contains_key(*t))
            .cloned()
            .collect();
        for trigger in unexpected_triggers {
            let said = unexpected(format!("trigger {trigger} on {name}"));
            let change = Change::DropTrigger {
                table: table.clone(),
                name: trigger,
            };
            self.push(said, Some(change), true);
        }
    }
}

/// `object is missing`.
fn missing(object: String) -> Said {
    let description = format!("{object} is missing");
    (DifferenceKind::Missing, object, description)
}

/// `object is not in the migrations`.
fn unexpected(object: String) -> Said {
    let description = format!("{object} is not in the migrations");
    (DifferenceKind::Unexpected, object, description)
}

/// `object <how>`.
fn changed(object: String, how: &str) -> Said {
    let description = format!("{object} {how}");
    (DifferenceKind::Changed, object, description)
}

/// The value the rows already there get when a NOT NULL column without a default is
/// added (and a SQLite rebuild copies them), as `dialect` says it; `None` when the column
/// gives its own.
pub fn fill_for(column: &Column, dialect: Dialect) -> Option<String> {
    if column.nullable
        || column.default.is_some()
        || column.identity.is_some()
        || column.generated.is_some()
    {
        return None;
    }
    let data_type = column.data_type.to_lowercase();
    let number = ["int", "numeric", "decimal", "real", "double"]
        .iter()
        .any(|t| data_type.contains(t));
    Some(
        if number {
            "0"
        } else if data_type.contains("bool") {
            "false"
        } else if data_type.contains("timestamp") {
            dialect.backend().current_timestamp()
        } else if data_type.contains("json") {
            "'{}'"
        } else {
            "''"
        }
        .to_owned(),
    )
}

/// The statements of `differences`, one by one, foreign keys last: a new table may
/// reference another new table whatever their order.
pub fn statements<'a>(differences: impl IntoIterator<Item = &'a Difference>) -> Vec<String> {
    ordered(differences)
        .into_iter()
        .map(|(sql, _)| sql)
        .collect()
}

/// Like [`statements`], each with the difference it is for. Foreign keys go once every
/// table exists; types, sequences and extensions are dropped once nothing uses them.
pub fn ordered<'a>(
    differences: impl IntoIterator<Item = &'a Difference>,
) -> Vec<(String, &'a Difference)> {
    let mut all: Vec<(super::ddl::Phase, String, &Difference)> = differences
        .into_iter()
        .flat_map(|d| {
            d.statements
                .iter()
                .map(move |s| (s.phase, s.sql.clone(), d))
        })
        .collect();
    // Stable: within a phase, the differences' order.
    all.sort_by_key(|(phase, _, _)| *phase);
    all.into_iter().map(|(_, sql, d)| (sql, d)).collect()
}
