//! `model list` for people: each model, where its name came from, its version, and the
//! heads of its migrations and of the template; with sets beside `[models]`, the set.

use super::{DatabaseReport, Detail, ModelInfo, Report, version_text};
use crate::escape::controls;
use comfy_table::{Table, presets};

/// The model part of a `model list` row.
fn model(db: &DatabaseReport) -> Option<&ModelInfo> {
    match &db.detail {
        Detail::Model(detail) => Some(&detail.model),
        _ => None,
    }
}

impl Report {
    pub(super) fn model_table(&self) -> String {
        let mut table = Table::new();
        table.load_preset(presets::NOTHING);
        // The set column only when there is more than the one set `[models]` makes.
        let sets = self
            .databases
            .iter()
            .any(|db| model(db).is_some_and(|m| m.set != skein_config::resolve::MODELS_GROUP));
        let mut header = vec!["model"];
        if sets {
            header.push("set");
        }
        header.extend(["listed by", "version", "head", "template head", "status"]);
        table.set_header(header);
        for db in &self.databases {
            let (listed_by, template_head) = match model(db) {
                Some(model) => (
                    model
                        .listed_by
                        .iter()
                        .map(|l| l.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    model
                        .template_head
                        .map(|v| v.to_string())
                        .unwrap_or_default(),
                ),
                None => Default::default(),
            };
            let mut row = vec![controls(&db.name).into_owned()];
            if sets {
                row.push(model(db).map(|m| m.set.clone()).unwrap_or_default());
            }
            let status = db.detail.status();
            row.extend([
                listed_by,
                version_text(status.and_then(|s| s.version_after)),
                version_text(status.and_then(|s| s.head)),
                template_head,
                super::human::status_text(db.status).to_owned(),
            ]);
            table.add_row(row);
        }
        table.to_string()
    }
}
