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
    let plain = part.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && part
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        part.to_owned()
    } else {
        format!("\"{}\"", part.replace('"', "\"\""))
    }
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

/// The whole schema as a script.
pub fn to_sql(schema: &Schema, dialect: Dialect) -> String {
    let mut out = String::new();
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
    for (name, sequence) in &schema.sequences {
        let _ = writeln!(
            out,
            "CREATE SEQUENCE {} AS {} INCREMENT BY {} START WITH {};",
            quote_name(name),
            sequence.data_type,
            sequence.increment,
            sequence.start
        );
    }
    let mut foreign_keys = Vec::new();
    for (name, table) in &schema.tables {
        let mut lines: Vec<String> = table
            .ordered_columns()
            .map(|(c, column)| format!("    {}", column_sql(c, column)))
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
            if constraint.kind == "foreign key" && dialect == Dialect::Postgres {
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
        match dialect {
            Dialect::Postgres | Dialect::MySql => {
                let kind = if view.materialized {
                    "MATERIALIZED VIEW"
                } else {
                    "VIEW"
                };
                let _ = writeln!(out, "\nCREATE {kind} {} AS {definition};", quote_name(name));
            }
            // SQLite keeps the whole statement.
            Dialect::Sqlite => {
                let _ = writeln!(out, "\n{definition};");
            }
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
    out
}
