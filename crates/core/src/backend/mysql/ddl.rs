//! MySQL's and MariaDB's DDL: backtick quoting, MODIFY COLUMN, enums as column types.
//! DDL there commits on its own, so a plan runs statement by statement (see `converge`).

use crate::schema::change::Change;
use crate::schema::ddl::{Phase, Statement};
use crate::schema::{Column, Constraint, ConstraintKind, Table};

/// `name` quoted with backticks.
fn quote(name: &str) -> String {
    crate::dialect::Dialect::MySql.quote_identifier(name)
}

/// A column as CREATE TABLE, ADD COLUMN and MODIFY COLUMN say it; `None` for what this
/// writer cannot restate (a generated column).
fn column(name: &str, column: &Column) -> Option<String> {
    if column.generated.is_some() {
        return None;
    }
    let mut sql = format!("{} {}", quote(name), column.data_type);
    if !column.nullable {
        sql.push_str(" NOT NULL");
    }
    if let Some(default) = &column.default {
        sql.push_str(&format!(" DEFAULT {default}"));
    }
    if column.identity.is_some() {
        sql.push_str(" AUTO_INCREMENT");
    }
    Some(sql)
}

/// A constraint as ADD and CREATE TABLE say it, named when the server named it.
fn constraint_sql(constraint: &Constraint) -> String {
    match (constraint.kind, constraint.name.is_empty()) {
        (ConstraintKind::PrimaryKey, _) | (_, true) => constraint.definition.clone(),
        _ => format!(
            "CONSTRAINT {} {}",
            quote(&constraint.name),
            constraint.definition
        ),
    }
}

/// The table as CREATE TABLE and its indexes; its foreign keys once every table exists.
pub(crate) fn create_table(name: &str, table: &Table) -> Option<Vec<Statement>> {
    let mut lines = Vec::new();
    for (c, definition) in table.ordered_columns() {
        lines.push(format!("    {}", column(c, definition)?));
    }
    let (keys, others): (Vec<&Constraint>, Vec<&Constraint>) = table
        .constraints
        .values()
        .partition(|c| c.kind == ConstraintKind::ForeignKey);
    lines.extend(others.iter().map(|c| format!("    {}", constraint_sql(c))));
    let main = |sql: String| Statement {
        phase: Phase::Main,
        sql,
    };
    let mut statements = vec![main(format!(
        "CREATE TABLE {} (\n{}\n)",
        quote(name),
        lines.join(",\n")
    ))];
    statements.extend(table.indexes.values().map(|i| main(i.sql.clone())));
    statements.extend(keys.into_iter().map(|key| Statement {
        phase: Phase::ForeignKeys,
        sql: format!("ALTER TABLE {} ADD {}", quote(name), constraint_sql(key)),
    }));
    Some(statements)
}

pub(crate) fn sql(change: &Change) -> Option<String> {
    columns(change).or_else(|| objects(change))
}

/// Tables' columns and constraints.
fn columns(change: &Change) -> Option<String> {
    Some(match change {
        Change::DropTable { name } => format!("DROP TABLE {}", quote(name)),
        Change::AddColumn {
            table,
            column: name,
            definition,
            fill,
        } => {
            let mut added = definition.clone();
            if let Some(fill) = fill {
                added.default = Some(fill.clone());
            }
            let add = format!(
                "ALTER TABLE {} ADD COLUMN {}",
                quote(table),
                column(name, &added)?
            );
            match fill {
                // Existing rows got the fill; the column keeps no default of its own.
                Some(_) => format!(
                    "{add};\nALTER TABLE {} ALTER COLUMN {} DROP DEFAULT",
                    quote(table),
                    quote(name)
                ),
                None => add,
            }
        }
        Change::DropColumn { table, column } => {
            format!("ALTER TABLE {} DROP COLUMN {}", quote(table), quote(column))
        }
        Change::AlterColumnType {
            table,
            column: name,
            definition,
            ..
        }
        | Change::SetNullable {
            table,
            column: name,
            definition,
            ..
        } => format!(
            "ALTER TABLE {} MODIFY COLUMN {}",
            quote(table),
            column(name, definition)?
        ),
        Change::SetDefault {
            table,
            column,
            default,
        } => format!(
            "ALTER TABLE {} ALTER COLUMN {} {}",
            quote(table),
            quote(column),
            match default {
                Some(default) => format!("SET DEFAULT {default}"),
                None => "DROP DEFAULT".to_owned(),
            }
        ),
        Change::AddConstraint { table, constraint } => {
            format!(
                "ALTER TABLE {} ADD {}",
                quote(table),
                constraint_sql(constraint)
            )
        }
        Change::DropConstraint { table, constraint } => {
            let what = match constraint.kind {
                ConstraintKind::PrimaryKey => "PRIMARY KEY".to_owned(),
                _ if constraint.name.is_empty() => return None,
                ConstraintKind::ForeignKey => format!("FOREIGN KEY {}", quote(&constraint.name)),
                ConstraintKind::Unique => format!("INDEX {}", quote(&constraint.name)),
                _ => format!("CONSTRAINT {}", quote(&constraint.name)),
            };
            format!("ALTER TABLE {} DROP {what}", quote(table))
        }
        _ => return None,
    })
}

/// Indexes and views; triggers and functions are left to a person.
fn objects(change: &Change) -> Option<String> {
    Some(match change {
        Change::CreateIndex { index } => index.sql.clone(),
        Change::DropIndex { table, index } => {
            format!("DROP INDEX {} ON {}", quote(&index.name), quote(table))
        }
        Change::CreateView { name, view } => format!(
            "CREATE OR REPLACE VIEW {} AS {}",
            quote(name),
            view.definition.trim_end_matches(';')
        ),
        Change::DropView { name } => format!("DROP VIEW {}", quote(name)),
        Change::DropTrigger { name, .. } => format!("DROP TRIGGER {}", quote(name)),
        _ => return None,
    })
}

/// The whole schema as the SQL that creates it, by the writer's own statements: what
/// `inspect --format sql` prints on MySQL. `None` when a table has what the writer cannot
/// restate.
pub(crate) fn dump(schema: &crate::schema::Schema) -> Option<String> {
    let mut statements = Vec::new();
    for (name, table) in &schema.tables {
        statements.extend(create_table(name, table)?);
    }
    for (name, view) in &schema.views {
        let change = Change::CreateView {
            name: name.clone(),
            view: view.clone(),
        };
        statements.extend(crate::schema::ddl::split_change(
            &super::MySql,
            &change,
            sql(&change)?,
        )?);
    }
    statements.sort_by_key(|s| s.phase);
    Some(
        statements
            .iter()
            .map(|s| format!("{};\n", s.sql))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}
