//! A database-neutral model of a schema, as inspected from a live database: tables and
//! their columns, constraints and indexes, enum types, sequences, views, functions,
//! triggers and extensions. Two schemas that mean the same have the same
//! [`Schema::fingerprint`], whatever order their objects were created in and whatever
//! names the server generated for their constraints.

pub mod autogen;
pub mod change;
pub mod converge;
pub mod ddl;
pub mod diff;
pub mod ignore;
pub mod inspect;
pub mod render;
pub mod replay;
pub mod rules;

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// `schema.name`.
pub type QualifiedName = String;

/// A whole schema. Maps are keyed so that their order is the same for equal schemas.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Schema {
    pub extensions: BTreeMap<String, String>,
    /// Enum types and their values, in order.
    pub enums: BTreeMap<QualifiedName, Vec<String>>,
    pub sequences: BTreeMap<QualifiedName, Sequence>,
    pub tables: BTreeMap<QualifiedName, Table>,
    pub views: BTreeMap<QualifiedName, View>,
    /// Keyed by signature: `schema.name(argument types)`.
    pub functions: BTreeMap<String, Function>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Table {
    /// By name: the order columns were added in does not matter.
    pub columns: BTreeMap<String, Column>,
    /// Keyed by definition; the server may have named them.
    pub constraints: BTreeMap<String, Constraint>,
    /// Keyed by definition (without the index's name).
    pub indexes: BTreeMap<String, Index>,
    /// Keyed by name.
    pub triggers: BTreeMap<String, Trigger>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The columns' names in the table's order (ordinal position), for SQL that creates
    /// the table as it is; not part of the fingerprint.
    #[serde(skip)]
    pub column_order: Vec<String>,
}

impl Table {
    /// The columns in the table's order; any the order does not name come last, by name.
    pub fn ordered_columns(&self) -> impl Iterator<Item = (&String, &Column)> {
        let ordered = self
            .column_order
            .iter()
            .filter_map(|name| self.columns.get_key_value(name));
        let rest = self
            .columns
            .iter()
            .filter(|(name, _)| !self.column_order.contains(name));
        ordered.chain(rest)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Column {
    /// As the server prints it (`bigint`, `character varying(40)`, `numeric(78,0)`).
    pub data_type: String,
    pub nullable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// `always` or `by default` for identity columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The expression of a generated column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A table constraint. `kind` is `primary key`, `unique`, `foreign key`, `check` or
/// `exclude`; `definition` is the server's normalised text.
/// What a table constraint is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
pub enum ConstraintKind {
    #[serde(rename = "primary key")]
    PrimaryKey,
    #[serde(rename = "unique")]
    Unique,
    #[serde(rename = "foreign key")]
    ForeignKey,
    #[serde(rename = "check")]
    Check,
    /// PostgreSQL's EXCLUDE.
    #[serde(rename = "exclude")]
    Exclude,
}

impl ConstraintKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConstraintKind::PrimaryKey => "primary key",
            ConstraintKind::Unique => "unique",
            ConstraintKind::ForeignKey => "foreign key",
            ConstraintKind::Check => "check",
            ConstraintKind::Exclude => "exclude",
        }
    }
}

impl std::fmt::Display for ConstraintKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Constraint {
    pub kind: ConstraintKind,
    pub definition: String,
    /// Not part of the fingerprint.
    #[serde(skip)]
    pub name: String,
    /// The table's columns it is on (what dropping a column takes with it); not part of
    /// the fingerprint, and empty where the backend does not say.
    #[serde(skip)]
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Index {
    /// The definition without the index's name (unique, method, columns or expressions,
    /// predicate).
    pub definition: String,
    /// Not part of the fingerprint, but what messages call it.
    #[serde(skip)]
    pub name: String,
    /// The full statement that creates it.
    #[serde(skip)]
    pub sql: String,
    /// The columns it uses, in its keys, expressions or predicate (what dropping a column
    /// takes with it); not part of the fingerprint.
    #[serde(skip)]
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Sequence {
    pub data_type: String,
    pub increment: i64,
    pub start: i64,
    /// The table whose column owns it (a `serial` column's): dropping the table drops
    /// it. Not part of the fingerprint.
    #[serde(skip)]
    pub owned_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct View {
    pub materialized: bool,
    /// The server's normalised definition, whitespace collapsed.
    pub definition: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Function {
    pub returns: String,
    pub language: String,
    /// SHA-256 of the body with whitespace collapsed.
    pub body_hash: String,
    /// The statement that creates it.
    #[serde(skip)]
    pub sql: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Trigger {
    pub definition: String,
}

impl Schema {
    /// A stable hash of everything the model holds (names the server generates excluded).
    pub fn fingerprint(&self) -> String {
        let canonical = serde_json::to_string(self).expect("a schema serialises");
        hex::encode(&Sha256::digest(canonical.as_bytes())[..16])
    }

    /// The schema without the tables, views and sequences whose names match one of
    /// `patterns` (`*` any run of characters, `?` one), matched against the name with and
    /// without its schema (`public.tmp_x` and `tmp_x`). What belongs to a table left out
    /// goes with it: its indexes, constraints and triggers (held in the table) and the
    /// sequences it owns (a `serial` column's).
    pub fn without_tables<P: AsRef<str>>(mut self, patterns: &[P]) -> Schema {
        if patterns.is_empty() {
            return self;
        }
        let ignored = |name: &String| {
            let bare = name
                .rsplit_once('.')
                .map_or(name.as_str(), |(_, bare)| bare);
            patterns.iter().any(|p| {
                ignore::glob_matches(p.as_ref(), name) || ignore::glob_matches(p.as_ref(), bare)
            })
        };
        self.tables.retain(|name, _| !ignored(name));
        self.views.retain(|name, _| !ignored(name));
        self.sequences.retain(|name, sequence| {
            !ignored(name) && !sequence.owned_by.as_ref().is_some_and(&ignored)
        });
        self
    }

    /// How many objects it has, for summaries.
    pub fn object_count(&self) -> usize {
        self.tables.len()
            + self.views.len()
            + self.enums.len()
            + self.sequences.len()
            + self.functions.len()
    }
}

/// Collapses runs of whitespace to one space and trims, so that layout does not count.
pub fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// SHA-256 (hex) of text with whitespace collapsed.
pub fn body_hash(text: &str) -> String {
    hex::encode(Sha256::digest(collapse_whitespace(text).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(data_type: &str) -> Column {
        Column {
            data_type: data_type.to_owned(),
            nullable: true,
            default: None,
            identity: None,
            generated: None,
            comment: None,
        }
    }

    #[test]
    fn order_and_generated_names_do_not_change_the_fingerprint() {
        let mut a = Table::default();
        a.columns.insert("id".into(), column("bigint"));
        a.columns.insert("name".into(), column("text"));
        a.constraints.insert(
            "PRIMARY KEY (id)".into(),
            Constraint {
                kind: ConstraintKind::PrimaryKey,
                definition: "PRIMARY KEY (id)".into(),
                name: "t_pkey".into(),
                columns: vec!["id".into()],
            },
        );
        let mut b = Table::default();
        b.columns.insert("name".into(), column("text"));
        b.columns.insert("id".into(), column("bigint"));
        b.constraints.insert(
            "PRIMARY KEY (id)".into(),
            Constraint {
                kind: ConstraintKind::PrimaryKey,
                definition: "PRIMARY KEY (id)".into(),
                name: "pk_t".into(),
                columns: vec!["id".into()],
            },
        );
        let schema = |t: Table| Schema {
            tables: [("public.t".to_owned(), t)].into(),
            ..Schema::default()
        };
        assert_eq!(schema(a.clone()).fingerprint(), schema(b).fingerprint());
        let mut c = a;
        c.columns.insert("extra".into(), column("int"));
        assert_ne!(
            schema(c.clone()).fingerprint(),
            schema(Table::default()).fingerprint()
        );
    }

    #[test]
    fn whitespace_does_not_change_a_body_hash() {
        assert_eq!(
            body_hash("BEGIN\n  RETURN 1;\nEND"),
            body_hash("BEGIN RETURN 1; END")
        );
        assert_ne!(body_hash("RETURN 1"), body_hash("RETURN 2"));
    }
}
