//! `inspect`: a database's live schema, normalised, with its fingerprint.

use crate::cli::{Format, InspectArgs};
use crate::context::{self, Context};
use crate::escape::controls;
use crate::exit::Outcome;
use crate::redact;
use comfy_table::{Table, presets};
use skein_core::Driver;
use skein_core::schema::Schema;
use skein_core::schema::render::{column_sql, to_sql};

pub async fn inspect(ctx: &Context, args: InspectArgs) -> anyhow::Result<Outcome> {
    let db = ctx.workspace.database(&args.database)?;
    let urls = ctx.connection_urls(&[db]).await?;
    let result = async {
        let options = ctx.connect_options(db, &args.lock)?;
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
        Err(e) => return Ok(super::failed_alone(ctx, "inspect", db, &e)),
    };
    match ctx.format {
        Format::Json => {
            let doc = serde_json::json!({
                "command": "inspect",
                "database": db.name,
                "fingerprint": schema.fingerprint(),
                "schema": schema,
            });
            crate::report::print_json(doc, Some(&ctx.workspace.profile));
        }
        Format::Sql if dialect == skein_core::dialect::Dialect::MySql => {
            return Err(skein_core::driver::mysql_ddl_unsupported("inspect --format sql").into());
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
    // Names and definitions come from the live database: escape their control characters.
    let outside = |text: &str| controls(text).into_owned();
    for (table_name, table) in &schema.tables {
        let mut grid = Table::new();
        grid.load_preset(presets::NOTHING);
        for (column, definition) in &table.columns {
            grid.add_row(["  ".to_owned(), outside(&column_sql(column, definition))]);
        }
        for constraint in table.constraints.values() {
            grid.add_row(["  ".to_owned(), outside(&constraint.definition)]);
        }
        for index in table.indexes.values() {
            grid.add_row([
                "  ".to_owned(),
                outside(&format!("index {}: {}", index.name, index.definition)),
            ]);
        }
        lines.push(format!("\ntable {}\n{grid}", outside(table_name)));
    }
    for (enum_name, values) in &schema.enums {
        let values = values.join(", ");
        lines.push(format!(
            "\nenum {}",
            outside(&format!("{enum_name}: {values}"))
        ));
    }
    for view_name in schema.views.keys() {
        lines.push(format!("view {}", outside(view_name)));
    }
    for function in schema.functions.keys() {
        lines.push(format!("function {}", outside(function)));
    }
    lines.join("\n")
}
