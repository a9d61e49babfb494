//! PostgreSQL's DDL: every change can be made in place, in one transaction.

use crate::dialect::{Dialect, string_literal};
use crate::schema::change::Change;
use crate::schema::render::{quote_identifier, quote_name, to_sql};
use crate::schema::{Schema, Table};
use std::collections::BTreeMap;

pub(crate) fn sql(change: &Change) -> Option<String> {
    if let Some(sql) = crate::schema::ddl::common(change) {
        return Some(match change {
            // Existing rows got the fill; the column keeps no default of its own.
            Change::AddColumn {
                table,
                column,
                fill: Some(_),
                ..
            } => format!(
                "{sql}\nALTER TABLE {} ALTER COLUMN {} DROP DEFAULT;",
                quote_name(table),
                quote_identifier(column)
            ),
            _ => sql,
        });
    }
    types(change)
        .or_else(|| columns(change))
        .or_else(|| objects(change))
}

/// Extensions, enum types and sequences.
fn types(change: &Change) -> Option<String> {
    Some(match change {
        Change::CreateExtension { name, schema } => format!(
            "CREATE EXTENSION IF NOT EXISTS {} SCHEMA {};",
            quote_identifier(name),
            quote_identifier(schema)
        ),
        Change::DropExtension { name } => format!("DROP EXTENSION {};", quote_identifier(name)),
        Change::CreateEnum { name, values } => {
            let values: Vec<String> = values.iter().map(|v| string_literal(v)).collect();
            format!(
                "CREATE TYPE {} AS ENUM ({});",
                quote_name(name),
                values.join(", ")
            )
        }
        Change::AddEnumValue { name, value, after } => format!(
            "ALTER TYPE {} ADD VALUE IF NOT EXISTS {}{};",
            quote_name(name),
            string_literal(value),
            after
                .as_deref()
                .map(|before| format!(" AFTER {}", string_literal(before)))
                .unwrap_or_default()
        ),
        Change::DropEnum { name } => format!("DROP TYPE {};", quote_name(name)),
        Change::CreateSequence { name, sequence } => format!(
            "CREATE SEQUENCE {} AS {} INCREMENT BY {} START WITH {};",
            quote_name(name),
            sequence.data_type,
            sequence.increment,
            sequence.start
        ),
        Change::DropSequence { name } => format!("DROP SEQUENCE {};", quote_name(name)),
        _ => return None,
    })
}

/// Columns and constraints.
fn columns(change: &Change) -> Option<String> {
    Some(match change {
        Change::AlterColumnType {
            table,
            column,
            data_type,
            ..
        } => format!(
            "ALTER TABLE {} ALTER COLUMN {} TYPE {data_type};",
            quote_name(table),
            quote_identifier(column)
        ),
        Change::SetNullable {
            table,
            column,
            nullable,
            ..
        } => format!(
            "ALTER TABLE {} ALTER COLUMN {} {};",
            quote_name(table),
            quote_identifier(column),
            if *nullable {
                "DROP NOT NULL"
            } else {
                "SET NOT NULL"
            }
        ),
        Change::SetDefault {
            table,
            column,
            default,
        } => format!(
            "ALTER TABLE {} ALTER COLUMN {} {};",
            quote_name(table),
            quote_identifier(column),
            match default {
                Some(default) => format!("SET DEFAULT {default}"),
                None => "DROP DEFAULT".to_owned(),
            }
        ),
        Change::AddConstraint { table, constraint } => format!(
            "ALTER TABLE {} ADD {};",
            quote_name(table),
            constraint.definition
        ),
        // A constraint the server named can be dropped by that name.
        Change::DropConstraint { table, constraint } if !constraint.name.is_empty() => format!(
            "ALTER TABLE {} DROP CONSTRAINT {};",
            quote_name(table),
            quote_identifier(&constraint.name)
        ),
        _ => return None,
    })
}

/// Indexes, triggers, views, functions and comments.
fn objects(change: &Change) -> Option<String> {
    Some(match change {
        Change::DropIndex { table, index } => {
            // An index lives in its table's schema.
            let schema = table.split_once('.').map(|(schema, _)| schema);
            let name = match schema {
                Some(schema) => {
                    format!(
                        "{}.{}",
                        quote_identifier(schema),
                        quote_identifier(&index.name)
                    )
                }
                None => quote_identifier(&index.name),
            };
            format!("DROP INDEX {name};")
        }
        Change::DropTrigger { table, name } => format!(
            "DROP TRIGGER {} ON {};",
            quote_identifier(name),
            quote_name(table)
        ),
        Change::CreateView { name, view } => {
            let definition = view.definition.trim_end_matches(';');
            match view.materialized {
                true => format!(
                    "CREATE MATERIALIZED VIEW {} AS {definition};",
                    quote_name(name)
                ),
                false => format!(
                    "CREATE OR REPLACE VIEW {} AS {definition};",
                    quote_name(name)
                ),
            }
        }
        Change::CreateFunction { sql } => format!("{};", sql.trim_end()),
        Change::DropFunction { signature } => format!("DROP FUNCTION {signature};"),
        Change::SetTableComment { table, comment } => format!(
            "COMMENT ON TABLE {} IS {};",
            quote_name(table),
            comment
                .as_deref()
                .map_or_else(|| "NULL".to_owned(), string_literal)
        ),
        _ => return None,
    })
}

/// The table as CREATE TABLE (its `serial` columns making their sequences), comments and
/// indexes; its foreign keys after every table of the plan exists.
pub(crate) fn create_table(
    name: &str,
    table: &Table,
    sequences: &[(String, crate::schema::Sequence)],
) -> Vec<crate::schema::ddl::Statement> {
    let (keys, others): (Vec<_>, Vec<_>) = table
        .constraints
        .iter()
        .partition(|(_, c)| c.kind == crate::schema::ConstraintKind::ForeignKey);
    let shape = Table {
        constraints: others
            .into_iter()
            .map(|(d, c)| (d.clone(), c.clone()))
            .collect(),
        ..table.clone()
    };
    let only = Schema {
        tables: BTreeMap::from([(name.to_owned(), shape)]),
        sequences: sequences.iter().cloned().collect(),
        ..Schema::default()
    };
    let main = to_sql(&only, Dialect::Postgres);
    let main = crate::split::split(&main)
        .into_iter()
        .map(|s| crate::schema::ddl::Statement {
            phase: crate::schema::ddl::Phase::Main,
            sql: s.sql.to_owned(),
        });
    let keys = keys
        .into_iter()
        .map(|(_, constraint)| crate::schema::ddl::Statement {
            phase: crate::schema::ddl::Phase::ForeignKeys,
            sql: format!("ALTER TABLE {} ADD {}", quote_name(name), named(constraint)),
        });
    main.chain(keys).collect()
}

/// A constraint as ADD says it, with its name when it has one.
fn named(constraint: &crate::schema::Constraint) -> String {
    match constraint.name.is_empty() {
        true => constraint.definition.clone(),
        false => format!(
            "CONSTRAINT {} {}",
            quote_identifier(&constraint.name),
            constraint.definition
        ),
    }
}
