//! A schema model as the SQL that creates it: types and sequences first, then tables,
//! then (PostgreSQL) foreign keys once every table exists, indexes, views, functions and
//! triggers.

use super::{Column, Schema};
use crate::dialect::{Dialect, string_literal};
use std::fmt::Write as _;

/// `schema.name` quoted as needed: `public.t` -> `public.t`, `Order Items` -> `"Order Items"`.
pub fn quote_name(name: &str) -> String {
    name.split('.')
        .map(quote_identifier)
        .collect::<Vec<_>>()
        .join(".")
}

/// One identifier, quoted when it is not plain lower case.
pub fn quote_identifier(part: &str) -> String {
    crate::dialect::quote_if_needed(part)
}

/// A column as it appears in CREATE TABLE or ADD COLUMN.
pub fn column_sql(name: &str, column: &Column) -> String {
    let mut sql = format!("{} {}", quote_identifier(name), column.data_type);
    if let Some(identity) = &column.identity {
        let _ = write!(sql, " GENERATED {} AS IDENTITY", identity.to_uppercase());
    }
    if let Some(expression) = &column.generated {
        let _ = write!(sql, " GENERATED ALWAYS AS ({expression}) STORED");
    }
    if let Some(default) = &column.default {
        let _ = write!(sql, " DEFAULT {default}");
    }
    if !column.nullable {
        sql.push_str(" NOT NULL");
    }
    sql
}

/// PostgreSQL's `serial` types: an integer column whose default takes the next value of
/// the sequence `serial` makes (`<table>_<column>_seq`, owned by the table, counting from
/// 1 by 1) is created as `serial`, `bigserial` or `smallserial`, which makes that
/// sequence again. The type, and the sequence's qualified name.
pub fn serial(
    schema: &Schema,
    table: &str,
    column_name: &str,
    column: &Column,
) -> Option<(&'static str, String)> {
    let (namespace, bare_table) = table.rsplit_once('.')?;
    let sequence_name = format!("{bare_table}_{column_name}_seq");
    let qualified = format!("{namespace}.{sequence_name}");
    let sequence = schema.sequences.get(&qualified)?;
    let defaults = [
        format!("nextval('{sequence_name}'::regclass)"),
        format!("nextval('{qualified}'::regclass)"),
    ];
    let plain = sequence.owned_by.as_deref() == Some(table)
        && sequence.increment == 1
        && sequence.start == 1
        && !column.nullable
        && column.identity.is_none()
        && column.generated.is_none()
        && column
            .default
            .as_ref()
            .is_some_and(|d| defaults.contains(d));
    let kind = match (column.data_type.as_str(), sequence.data_type.as_str()) {
        ("integer", "integer") => "serial",
        ("bigint", "bigint") => "bigserial",
        ("smallint", "smallint") => "smallserial",
        _ => return None,
    };
    plain.then_some((kind, qualified))
}

/// A column of `table` in `schema`, as CREATE TABLE says it (`serial` types as such).
fn column_in(
    schema: &Schema,
    table: &str,
    name: &str,
    column: &Column,
    dialect: Dialect,
) -> String {
    match serial(schema, table, name, column)
        .filter(|_| dialect.backend().rendering().serial_columns)
    {
        Some((kind, _)) => column_sql(
            name,
            &Column {
                data_type: kind.to_owned(),
                default: None,
                ..column.clone()
            },
        ),
        None => column_sql(name, column),
    }
}

/// The sequences `serial` columns of `schema` make.
fn serial_sequences(schema: &Schema, dialect: Dialect) -> Vec<String> {
    if !dialect.backend().rendering().serial_columns {
        return Vec::new();
    }
    schema
        .tables
        .iter()
        .flat_map(|(name, table)| {
            table
                .columns
                .iter()
                .filter_map(move |(c, column)| serial(schema, name, c, column))
                .map(|(_, sequence)| sequence)
        })
        .collect()
}

/// The whole schema as a script.
pub fn to_sql(schema: &Schema, dialect: Dialect) -> String {
    let mut out = String::new();
    types(schema, dialect, &mut out);
    tables(schema, dialect, &mut out);
    objects(schema, dialect, &mut out);
    out
}

/// Extensions, enum types and sequences (but those `serial` columns make).
fn types(schema: &Schema, dialect: Dialect, out: &mut String) {
    for (extension, in_schema) in &schema.extensions {
        let _ = writeln!(
            out,
            "CREATE EXTENSION IF NOT EXISTS {} SCHEMA {};",
            quote_identifier(extension),
            quote_identifier(in_schema)
        );
    }
    for (name, values) in &schema.enums {
        let values: Vec<String> = values.iter().map(|v| string_literal(v)).collect();
        let _ = writeln!(
            out,
            "CREATE TYPE {} AS ENUM ({});",
            quote_name(name),
            values.join(", ")
        );
    }
    let made_by_serial = serial_sequences(schema, dialect);
    for (name, sequence) in schema
        .sequences
        .iter()
        .filter(|(name, _)| !made_by_serial.contains(name))
    {
        let _ = writeln!(
            out,
            "CREATE SEQUENCE {} AS {} INCREMENT BY {} START WITH {};",
            quote_name(name),
            sequence.data_type,
            sequence.increment,
            sequence.start
        );
    }
}

/// The tables, then (PostgreSQL) their foreign keys once every table exists.
fn tables(schema: &Schema, dialect: Dialect, out: &mut String) {
    let mut foreign_keys = Vec::new();
    for (name, table) in &schema.tables {
        let mut lines: Vec<String> = table
            .ordered_columns()
            .map(|(c, column)| format!("    {}", column_in(schema, name, c, column, dialect)))
            .collect();
        for constraint in table.constraints.values() {
            let named = if constraint.name.is_empty() {
                constraint.definition.clone()
            } else {
                format!(
                    "CONSTRAINT {} {}",
                    quote_identifier(&constraint.name),
                    constraint.definition
                )
            };
            if constraint.kind == super::ConstraintKind::ForeignKey
                && dialect.backend().rendering().foreign_keys_last
            {
                foreign_keys.push(format!("ALTER TABLE {} ADD {named};", quote_name(name)));
            } else {
                lines.push(format!("    {named}"));
            }
        }
        let _ = writeln!(
            out,
            "\nCREATE TABLE {} (\n{}\n);",
            quote_name(name),
            lines.join(",\n")
        );
        if let Some(comment) = &table.comment {
            let _ = writeln!(
                out,
                "COMMENT ON TABLE {} IS {};",
                quote_name(name),
                string_literal(comment)
            );
        }
        for (column_name, column) in table.ordered_columns() {
            if let Some(comment) = &column.comment {
                let _ = writeln!(
                    out,
                    "COMMENT ON COLUMN {}.{} IS {};",
                    quote_name(name),
                    quote_identifier(column_name),
                    string_literal(comment)
                );
            }
        }
    }
    if !foreign_keys.is_empty() {
        out.push('\n');
        for key in foreign_keys {
            let _ = writeln!(out, "{key}");
        }
    }
}

/// Indexes, views, functions and triggers.
fn objects(schema: &Schema, dialect: Dialect, out: &mut String) {
    let indexes: Vec<&str> = schema
        .tables
        .values()
        .flat_map(|t| t.indexes.values().map(|i| i.sql.as_str()))
        .collect();
    if !indexes.is_empty() {
        out.push('\n');
        for index in indexes {
            let _ = writeln!(out, "{index};");
        }
    }
    for (name, view) in &schema.views {
        let definition = view.definition.trim_end_matches(';');
        if dialect.backend().rendering().views_stored_whole {
            let _ = writeln!(out, "\n{definition};");
        } else {
            let kind = if view.materialized {
                "MATERIALIZED VIEW"
            } else {
                "VIEW"
            };
            let _ = writeln!(out, "\nCREATE {kind} {} AS {definition};", quote_name(name));
        }
    }
    for function in schema.functions.values() {
        let _ = writeln!(out, "\n{};", function.sql.trim_end());
    }
    for table in schema.tables.values() {
        for trigger in table.triggers.values() {
            let _ = writeln!(out, "\n{};", trigger.definition.trim_end_matches(';'));
        }
    }
}
