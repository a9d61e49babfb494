//! One change to a schema, as data: what the differ finds and the DDL writers turn into
//! statements. What depends on what is decided on these, never on SQL text.

use super::{Constraint, Index, Sequence, Table, View};

/// A change that takes a live schema one step towards the expected one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    CreateExtension {
        name: String,
        schema: String,
    },
    DropExtension {
        name: String,
    },
    CreateEnum {
        name: String,
        values: Vec<String>,
    },
    /// A value the enum type lacks, after `after` (first when `None`).
    AddEnumValue {
        name: String,
        value: String,
        after: Option<String>,
    },
    DropEnum {
        name: String,
    },
    CreateSequence {
        name: String,
        sequence: Sequence,
    },
    DropSequence {
        name: String,
    },
    /// A table, with the sequences its `serial` columns make.
    CreateTable {
        name: String,
        table: Table,
        sequences: Vec<(String, Sequence)>,
    },
    DropTable {
        name: String,
    },
    /// `fill` is the value the rows already there get when the column is NOT NULL with no
    /// default; the default is dropped again afterwards.
    AddColumn {
        table: String,
        column: String,
        definition: super::Column,
        fill: Option<String>,
    },
    /// `definition` is the whole expected column (MySQL restates it to change it).
    AlterColumnType {
        table: String,
        column: String,
        data_type: String,
        definition: super::Column,
    },
    SetNullable {
        table: String,
        column: String,
        nullable: bool,
        definition: super::Column,
    },
    SetDefault {
        table: String,
        column: String,
        default: Option<String>,
    },
    DropColumn {
        table: String,
        column: String,
    },
    AddConstraint {
        table: String,
        constraint: Constraint,
    },
    DropConstraint {
        table: String,
        constraint: Constraint,
    },
    CreateIndex {
        index: Index,
    },
    DropIndex {
        table: String,
        index: Index,
    },
    CreateTrigger {
        definition: String,
    },
    DropTrigger {
        table: String,
        name: String,
    },
    /// Creates the view, or replaces it (`CREATE OR REPLACE`).
    CreateView {
        name: String,
        view: View,
    },
    DropView {
        name: String,
    },
    /// Creates the function, or replaces it: its own statement.
    CreateFunction {
        sql: String,
    },
    DropFunction {
        signature: String,
    },
    SetTableComment {
        table: String,
        comment: Option<String>,
    },
    /// SQLite's way to change what its ALTER TABLE cannot: the table made again as
    /// `expected`, the columns both have copied.
    RebuildTable {
        name: String,
        expected: Table,
        live: Table,
    },
}

impl Change {
    /// A foreign key added to a table: it runs once every table it may join exists.
    pub fn adds_foreign_key(&self) -> bool {
        matches!(self, Change::AddConstraint { constraint, .. } if constraint.kind == super::ConstraintKind::ForeignKey)
    }

    /// A drop of what tables and columns may use (types, sequences, extensions): it runs
    /// once nothing uses it any more.
    pub fn drops_late(&self) -> bool {
        matches!(
            self,
            Change::DropEnum { .. } | Change::DropSequence { .. } | Change::DropExtension { .. }
        )
    }

    /// What SQLite's ALTER TABLE cannot do in place: change a column, add or drop a
    /// constraint, drop a column (which fails when an index or constraint uses it).
    pub fn needs_sqlite_rebuild(&self) -> bool {
        matches!(
            self,
            Change::AlterColumnType { .. }
                | Change::SetNullable { .. }
                | Change::SetDefault { .. }
                | Change::DropColumn { .. }
                | Change::AddConstraint { .. }
                | Change::DropConstraint { .. }
        )
    }
}
