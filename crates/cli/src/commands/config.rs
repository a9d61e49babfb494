//! `config show`: each database's resolved settings and where each came from. Secrets are
//! never fetched here: references are shown as written, literal passwords as `***`.

use crate::context::Context;
use crate::report::Body;
use crate::report::sections::{ConfigReport, DatabaseSettings, Setting};
use skein_config::connection::ConnectionTemplate;
use skein_config::{ResolvedDatabase, Workspace};

pub fn show(ctx: &Context) -> anyhow::Result<Body> {
    let workspace = &ctx.workspace;
    let databases = ctx
        .select()?
        .into_iter()
        .map(|db| DatabaseSettings {
            name: db.name.clone(),
            settings: settings_of(workspace, db),
        })
        .collect();
    Ok(Body::Config(ConfigReport {
        config: match workspace.config_path.is_file() {
            true => workspace.config_path.display().to_string(),
            false => "DATABASE_URL or --url (no skein.toml)".to_owned(),
        },
        databases,
        profile: workspace.profile.clone(),
    }))
}

fn settings_of(workspace: &Workspace, db: &ResolvedDatabase) -> Vec<Setting> {
    let source = |key: &str| workspace.source_of(&db.setting_key(key));
    let mut settings = Vec::new();
    match &db.connection {
        None => settings.push(Setting {
            name: "url".to_owned(),
            value: "(not set)".to_owned(),
            source: "default".to_owned(),
        }),
        Some(template) => {
            let references = template
                .references()
                .map(|refs| {
                    refs.iter()
                        .map(|r| r.text.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            let with_secrets = |from: String| {
                if references.is_empty() {
                    from
                } else {
                    format!("{from}; secrets {references}")
                }
            };
            let from = match template {
                ConnectionTemplate::Url(_) => source("url"),
                ConnectionTemplate::Parts(_) => {
                    let keys = [
                        "driver", "host", "port", "user", "password", "database", "socket",
                    ];
                    let mut sources: Vec<String> = keys
                        .iter()
                        .map(|k| source(k))
                        .filter(|s| s != "default")
                        .collect();
                    sources.dedup();
                    sources.join(", ")
                }
            };
            settings.push(Setting {
                name: "url".to_owned(),
                value: template.display(),
                source: with_secrets(from),
            });
        }
    }
    if db.is_model {
        settings.push(Setting {
            name: "listed by".to_owned(),
            value: db
                .listed_by
                .iter()
                .map(|l| l.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            source: db
                .listed_by
                .iter()
                .map(|l| match l {
                    skein_config::ListedBy::Folder => db.migrations.display().to_string(),
                    skein_config::ListedBy::Names => workspace.source_of(&db.setting_key("names")),
                    skein_config::ListedBy::NamesFrom => {
                        workspace.source_of(&db.setting_key("names_from"))
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
    if let Some(template) = &db.template {
        settings.push(Setting {
            name: "template".to_owned(),
            value: template.display().to_string(),
            source: workspace.source_of(&db.setting_key("template")),
        });
    }
    settings.push(Setting {
        name: "migrations".to_owned(),
        value: db.migrations.display().to_string(),
        source: source(if db.is_model { "dir" } else { "migrations" }),
    });
    if !db.vars.is_empty() {
        let vars: Vec<String> = db.vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
        settings.push(Setting {
            name: "vars".to_owned(),
            value: vars.join(", "),
            source: match workspace
                .settings
                .models
                .as_ref()
                .is_some_and(|m| m.vars.contains_key(&db.name))
            {
                true => workspace.source_of(&format!("models.vars.{}", db.name)),
                false => "the names_from query".to_owned(),
            },
        });
    }
    settings.push(Setting {
        name: "history_table".to_owned(),
        value: db.history_table.clone(),
        source: workspace.source_of_setting(db, "history_table"),
    });
    settings.push(Setting {
        name: "depends_on".to_owned(),
        value: db.depends_on.join(", "),
        source: source("depends_on"),
    });
    settings.push(Setting {
        name: "groups".to_owned(),
        value: db.groups.join(", "),
        source: source("groups"),
    });
    settings
}
