//! `inspect`: a database's live schema, normalised, with its fingerprint.

use crate::cli::{Format, InspectArgs};
use crate::context::{self, Context};
use crate::exit::Outcome;
use crate::redact;
use crate::report::{DatabaseReport, Report, error_chain};
use comfy_table::{Table, presets};
use skein_core::Driver;
use skein_core::error::Error as CoreError;
use skein_core::schema::Schema;
use skein_core::schema::render::{column_sql, to_sql};

pub async fn inspect(ctx: &Context, args: InspectArgs) -> anyhow::Result<Outcome> {
    let db = ctx.workspace.database(&args.database)?;
    let urls = ctx.urls(&[db]).await?;
    let result = async {
        let options = ctx
            .connect_options(db, &args.lock)
            .map_err(|e| CoreError::Unsupported(error_chain(e.as_ref())))?;
        let options = skein_core::ConnectOptions {
            read_only: true,
            ..options
        };
        let mut conn = context::open(db, &urls, options).await?;
        let dialect = conn.dialect();
        let schema = conn.inspect().await;
        conn.close().await;
        schema.map(|s| (s, dialect))
    }
    .await;
    let (schema, dialect) = match result {
        Ok(found) => found,
        Err(e) => {
            let report = Report {
                command: "inspect",
                profile: ctx.workspace.profile.clone(),
                databases: vec![DatabaseReport::failed(&db.name, &e)],
            };
            report.print(ctx.format);
            return Ok(Outcome::Failed);
        }
    };
    match ctx.format {
        Format::Json => {
            let doc = serde_json::json!({
                "command": "inspect",
                "database": db.name,
                "fingerprint": schema.fingerprint(),
                "schema": schema,
            });
            redact::out(&serde_json::to_string_pretty(&doc)?);
        }
        Format::Sql => redact::out_raw(&to_sql(&schema, dialect)),
        Format::Human => redact::out(&human(&db.name, &schema)),
    }
    Ok(Outcome::Done)
}

fn human(name: &str, schema: &Schema) -> String {
    let mut lines = vec![format!(
        "{name}: fingerprint {}, {} table(s), {} view(s), {} enum type(s), {} function(s)",
        schema.fingerprint(),
        schema.tables.len(),
        schema.views.len(),
        schema.enums.len(),
        schema.functions.len()
    )];
    for (table_name, table) in &schema.tables {
        let mut grid = Table::new();
        grid.load_preset(presets::NOTHING);
        for (column, definition) in &table.columns {
            grid.add_row(["  ".to_owned(), column_sql(column, definition)]);
        }
        for constraint in table.constraints.values() {
            grid.add_row(["  ".to_owned(), constraint.definition.clone()]);
        }
        for index in table.indexes.values() {
            grid.add_row([
                "  ".to_owned(),
                format!("index {}: {}", index.name, index.definition),
            ]);
        }
        lines.push(format!("\ntable {table_name}\n{grid}"));
    }
    for (enum_name, values) in &schema.enums {
        lines.push(format!("\nenum {enum_name}: {}", values.join(", ")));
    }
    for view_name in schema.views.keys() {
        lines.push(format!("view {view_name}"));
    }
    for function in schema.functions.keys() {
        lines.push(format!("function {function}"));
    }
    lines.join("\n")
}
