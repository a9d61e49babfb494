//! `config show`: each database's resolved settings and where each came from.

use crate::cli::{ConfigShowArgs, Format};
use crate::context::Context;
use crate::exit::Outcome;
use comfy_table::{Table, presets};
use serde::Serialize;
use skein_config::Selection;
use skein_core::driver::redact_url;

#[derive(Serialize)]
struct Setting {
    value: String,
    source: String,
}

#[derive(Serialize)]
struct DatabaseSettings {
    name: String,
    settings: Vec<(String, Setting)>,
}

pub fn show(ctx: &Context, args: ConfigShowArgs) -> anyhow::Result<Outcome> {
    let selection = Selection {
        databases: args.selection.databases,
        groups: args.selection.groups,
    };
    let workspace = &ctx.workspace;
    let mut shown = Vec::new();
    for db in workspace.select(&selection)? {
        let prefix = if db.is_model {
            "models".to_owned()
        } else {
            format!("databases.{}", db.name)
        };
        let source = |key: &str| workspace.source_of(&format!("{prefix}.{key}"));
        let settings = vec![
            (
                "url".to_owned(),
                Setting {
                    value: db
                        .url
                        .as_deref()
                        .map(redact_url)
                        .unwrap_or_else(|| "(not set)".to_owned()),
                    source: source("url"),
                },
            ),
            (
                "migrations".to_owned(),
                Setting {
                    value: db.migrations.display().to_string(),
                    source: if db.is_model {
                        source("dir")
                    } else {
                        source("migrations")
                    },
                },
            ),
            (
                "history_table".to_owned(),
                Setting {
                    value: db.history_table.clone(),
                    source: match workspace
                        .source_of(&format!("{prefix}.history_table"))
                        .as_str()
                    {
                        "default" => workspace.source_of("history_table"),
                        other => other.to_owned(),
                    },
                },
            ),
            (
                "depends_on".to_owned(),
                Setting {
                    value: db.depends_on.join(", "),
                    source: source("depends_on"),
                },
            ),
            (
                "groups".to_owned(),
                Setting {
                    value: db.groups.join(", "),
                    source: source("groups"),
                },
            ),
        ];
        shown.push(DatabaseSettings {
            name: db.name.clone(),
            settings,
        });
    }
    match ctx.format {
        Format::Json => {
            let doc = serde_json::json!({
                "command": "config show",
                "profile": workspace.profile,
                "config": workspace.config_path.display().to_string(),
                "databases": shown.iter().map(|d| serde_json::json!({
                    "name": d.name,
                    "settings": d.settings.iter().map(|(k, s)| (k.clone(), serde_json::to_value(s).expect("serialises"))).collect::<serde_json::Map<_, _>>(),
                })).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Format::Human => {
            println!(
                "profile {} from {}",
                workspace.profile,
                workspace.config_path.display()
            );
            for db in &shown {
                let mut table = Table::new();
                table.load_preset(presets::NOTHING);
                for (key, setting) in &db.settings {
                    table.add_row([
                        format!("  {key}"),
                        setting.value.clone(),
                        setting.source.clone(),
                    ]);
                }
                println!("\n{}\n{table}", db.name);
            }
        }
    }
    Ok(Outcome::Done)
}
