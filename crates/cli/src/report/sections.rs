//! The results of the commands that are not one report per database: `new`, `model new`,
//! `config show` and `import`, and their human renderings.

use super::{DatabaseReport, ErrorReport, Status, version_text};
use crate::escape::controls;
use crate::redact;
use comfy_table::{Table, presets};
use schemars::JsonSchema;
use serde::Serialize;
use skein_core::Version;
use skein_core::schema::diff::Difference;

/// `new`: the files written, or (`--from-schema`) how head compares with the declared
/// schema.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NewReport {
    /// The database written for (`--db`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// The group written for (`--group models`: the template).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The new migration's version; `null` when nothing was written.
    pub version: Option<Version>,
    /// The files written, relative to the current folder when below it.
    pub files: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_schema: Option<FromSchema>,
}

/// `new --from-schema`: the declared schema against the migrations at head.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FromSchema {
    /// The schema file.
    pub file: String,
    pub head_fingerprint: String,
    pub declared_fingerprint: String,
    /// Head -> declared; empty when the migrations give the declared schema.
    pub differences: Vec<Difference>,
    /// `--check`: only compared, nothing written; a difference is a finding (exit 3).
    pub check: bool,
}

impl NewReport {
    /// `--check` found differences.
    pub fn found(&self) -> bool {
        self.from_schema
            .as_ref()
            .is_some_and(|f| f.check && !f.differences.is_empty())
    }

    pub(super) fn render(&self) {
        let name = self.database.as_deref().unwrap_or_default();
        if let Some(from) = &self.from_schema {
            let file = controls(&from.file);
            if from.differences.is_empty() {
                redact::out(&if from.check {
                    format!("{name}: the migrations give the schema {file} declares")
                } else {
                    format!("{name}: head already has the schema {file} declares; nothing to write")
                });
                return;
            }
            if from.check {
                redact::out(&format!(
                    "{name}: the migrations do not give the schema {file} declares (head {}, declared {}):",
                    from.head_fingerprint, from.declared_fingerprint
                ));
                for difference in &from.differences {
                    redact::out(&format!("  - {}", controls(&difference.description)));
                }
                redact::out(&format!(
                    "write the migration with `skein new --db {name} --from-schema {file} \"...\"`"
                ));
                return;
            }
        }
        for file in &self.files {
            redact::out(&format!("created {}", controls(file)));
        }
    }
}

/// `model new`: where the model was listed, its database, and its first migration run.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ModelNewReport {
    pub model: String,
    /// Where its name was recorded, e.g. `listed in skein.toml ([default.models] names)`.
    pub listed_in: String,
    /// What to commit: the config file or the model's folder.
    pub commit: String,
    pub template: String,
    pub database_created: bool,
    /// The run that migrated it from the template; `null` with `--no-migrate`.
    pub migrated: Option<Box<DatabaseReport>>,
    /// Why adding it failed; what was made for it is then removed (`undone`) unless
    /// `--keep`.
    pub error: Option<ErrorReport>,
    pub undone: Vec<String>,
    pub kept: bool,
}

impl ModelNewReport {
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    pub(super) fn render(&self) {
        let name = controls(&self.model);
        if let Some(error) = &self.error {
            redact::err(&format!("error: model {name}: {}", error.human));
            for what in &self.undone {
                redact::err(&format!("  removed {}", controls(what)));
            }
            if self.kept {
                redact::err("  kept what was made (--keep)");
            }
            return;
        }
        let mut lines = vec![format!("model {name}: {}", controls(&self.listed_in))];
        lines.push(if self.database_created {
            format!("model {name}: created its database")
        } else {
            format!("model {name}: its database exists already (or --no-create)")
        });
        if let Some(report) = &self.migrated {
            let status = if report.status == Status::UpToDate {
                "already at head".to_owned()
            } else {
                format!(
                    "applied {} migration(s) from {}",
                    report.detail.steps().len(),
                    controls(&self.template)
                )
            };
            lines.push(format!(
                "model {name}: {status}, now at version {}",
                version_text(report.detail.versions().1)
            ));
        }
        lines.push(format!("commit {}", controls(&self.commit)));
        redact::out(&lines.join("\n"));
    }
}

/// `config show`: each selected database's resolved settings. Secrets are never fetched:
/// references show as written, literal passwords as `***`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ConfigReport {
    /// The configuration file.
    pub config: String,
    pub databases: Vec<DatabaseSettings>,
    /// The profile, for the heading.
    #[serde(skip)]
    pub profile: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DatabaseSettings {
    pub name: String,
    pub settings: Vec<Setting>,
}

/// One setting, its value and where the value came from.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Setting {
    pub name: String,
    pub value: String,
    pub source: String,
}

impl ConfigReport {
    pub(super) fn render(&self) {
        redact::out(&format!(
            "profile {} from {}",
            controls(&self.profile),
            controls(&self.config)
        ));
        for db in &self.databases {
            let mut table = Table::new();
            table.load_preset(presets::NOTHING);
            for setting in &db.settings {
                table.add_row([
                    format!("  {}", setting.name),
                    controls(&setting.value).into_owned(),
                    controls(&setting.source).into_owned(),
                ]);
            }
            redact::out(&format!("\n{}\n{table}", controls(&db.name)));
        }
    }
}

/// `import`: another tool's migrations in skein's layout.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ImportReport {
    /// The tool, as given to `--from`.
    pub from: String,
    pub source: String,
    /// The folder written; `null` when the source is in skein's layout already.
    pub to: Option<String>,
    /// The mapping of the tool's ids to versions, written beside the migrations.
    pub mapping: Option<String>,
    /// The source is in skein's layout already: nothing needed writing.
    pub compatible: bool,
    pub migrations: Vec<ImportedMigration>,
    /// What the tool has that skein does not take (Flyway repeatables, goose Go files).
    pub skipped: Vec<String>,
    /// How migrations were made where it matters (Alembic revisions captured on a scratch
    /// database, SQL given by hand).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ImportedMigration {
    /// The migration's id in the tool.
    pub id: String,
    pub version: Version,
    pub files: Vec<String>,
}

impl ImportReport {
    pub(super) fn render(&self) {
        let mut lines = Vec::new();
        match (&self.to, &self.mapping) {
            (Some(to), Some(mapping)) => {
                for migration in &self.migrations {
                    lines.push(format!(
                        "{} -> {}",
                        controls(&migration.id),
                        migration.files.join(", ")
                    ));
                }
                lines.push(format!(
                    "wrote {} migration(s) into {}, and the mapping of ids to versions into {}",
                    self.migrations.len(),
                    controls(to),
                    controls(mapping)
                ));
            }
            _ => lines.push(format!(
                "{} is in skein's layout already ({} migration(s)): point a database's `migrations` at it",
                controls(&self.source),
                self.migrations.len()
            )),
        }
        for skipped in &self.skipped {
            lines.push(format!("skipped {}", controls(skipped)));
        }
        for note in &self.notes {
            lines.push(format!("note: {}", controls(note)));
        }
        redact::out(&lines.join("\n"));
    }
}

/// `show`: one migration of one database.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ShowReport {
    pub database: String,
    pub version: Version,
    pub description: String,
    /// Where it stands in the database; absent when the database could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<skein_core::plan::State>,
    /// Its files, relative to the current folder when below it.
    pub files: Vec<String>,
    /// The SHA-256 of its up file, as the history records it.
    pub checksum: String,
    /// Its history row, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied: Option<skein_core::history::AppliedMigration>,
    pub up_sql: String,
    /// `null` for an irreversible migration.
    pub down_sql: Option<String>,
    /// Why the database could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
}

impl ShowReport {
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    pub(super) fn render(&self) {
        let state = match (&self.state, &self.error) {
            (Some(state), _) => serde_json::to_value(state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            (None, Some(_)) => "unknown (the database could not be read)".to_owned(),
            (None, None) => "unknown".to_owned(),
        };
        let mut lines = vec![
            format!("database:    {}", controls(&self.database)),
            format!(
                "migration:   {} {}",
                self.version,
                controls(&self.description)
            ),
            format!("state:       {state}"),
        ];
        if let Some(applied) = &self.applied {
            lines.push(format!(
                "applied:     {} by {} ({} ms)",
                applied.applied_at,
                controls(&applied.applied_by),
                applied.execution_ms
            ));
        }
        for file in &self.files {
            lines.push(format!("file:        {}", controls(file)));
        }
        lines.push(format!("checksum:    {}", self.checksum));
        redact::out(&lines.join("\n"));
        // The SQL as it is in the files.
        redact::out_raw(&format!("\n-- up\n{}\n", self.up_sql.trim_end()));
        match &self.down_sql {
            Some(down) => redact::out_raw(&format!("\n-- down\n{}\n", down.trim_end())),
            None => redact::out_raw("\n-- down: none (irreversible)\n"),
        }
        if let Some(error) = &self.error {
            redact::err(&format!(
                "error: {}: {}",
                controls(&self.database),
                error.human
            ));
        }
    }
}

/// `init`: the files written.
#[derive(Debug, Serialize, JsonSchema)]
pub struct InitReport {
    /// The new configuration file.
    pub config: String,
    /// The new migration folder.
    pub migrations: String,
    /// postgres, sqlite or mysql.
    pub backend: String,
}

impl InitReport {
    pub(super) fn render(&self) {
        redact::out(&format!(
            "wrote {} ({}) and {}/\nnext: skein new \"create users\", then skein up",
            controls(&self.config),
            self.backend,
            controls(&self.migrations)
        ));
    }
}
