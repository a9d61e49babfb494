//! `model list` for people: each model, where its name came from, its version, and the
//! heads of its migrations and of the template.

use super::{Report, version_text};
use crate::escape::controls;
use comfy_table::{Table, presets};

impl Report {
    pub(super) fn model_table(&self) -> String {
        let mut table = Table::new();
        table.load_preset(presets::NOTHING);
        table.set_header([
            "model",
            "listed by",
            "version",
            "head",
            "template head",
            "status",
        ]);
        for db in &self.databases {
            let (listed_by, template_head) = match &db.model {
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
            table.add_row([
                controls(&db.name).into_owned(),
                listed_by,
                version_text(db.version_after),
                version_text(db.head),
                template_head,
                super::human::status_text(db.status).to_owned(),
            ]);
        }
        table.to_string()
    }
}
