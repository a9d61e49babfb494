//! `import --from TOOL SRC --to DIR`: another tool's migrations, rewritten into skein's
//! layout, with a mapping of the tool's ids to the new versions (`skein-import.toml`).
//! It needs no workspace: it only reads one folder and writes another.

use crate::cli::ImportArgs;
use crate::report::Body;
use crate::report::sections::{ImportReport, ImportedMigration};
use anyhow::{Context as _, bail};
use skein_core::import::{Import, Tool};
use std::path::Path;

/// The mapping file written beside the migrations (skein skips files that are not `.sql`).
const MAPPING: &str = crate::import_map::FILE;

pub async fn run(args: ImportArgs) -> anyhow::Result<Body> {
    let mut table = None;
    let tool = Tool::parse(&args.tool).with_context(|| {
        format!(
            "--from {}: not a tool skein imports; one of: {}",
            args.tool,
            Tool::importable()
                .into_iter()
                .chain(["alembic"])
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let import = if tool == Tool::Alembic {
        let replace = args
            .replace
            .iter()
            .map(|(id, up, down)| (id.clone(), (up.clone(), down.clone())))
            .collect();
        let exported = crate::alembic::import(&crate::alembic::Request {
            source: &args.source,
            alembic: args.alembic.as_deref().unwrap_or("alembic"),
            scratch: args.scratch.as_deref(),
            replace: &replace,
            base: args.base.as_deref(),
            metadata: args.metadata.as_deref(),
        })
        .await?;
        table = exported.version_table;
        exported.import
    } else {
        if args.base.is_some() {
            bail!(
                "--base is for --from alembic (a project whose first revision starts from tables made outside Alembic)"
            );
        }
        skein_core::import::import(tool, &args.source)?
    };
    let Some(to) = &args.to else {
        if import.compatible {
            return Ok(report(&args, &import, None));
        }
        bail!(
            "{} needs rewriting for skein: give the new folder with --to DIR (e.g. --to database/app)",
            args.source.display()
        );
    };
    if to.exists()
        && std::fs::read_dir(to)
            .with_context(|| format!("cannot read {}", to.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} exists and is not empty; import writes into a new folder, so that nothing is overwritten",
            to.display()
        );
    }
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for migration in import.migrations.iter().chain(&import.repeatables) {
        for (name, text) in &migration.files {
            let path = to.join(name);
            if let Some(folder) = path.parent() {
                std::fs::create_dir_all(folder)
                    .with_context(|| format!("cannot create {}", folder.display()))?;
            }
            skein_config::user_file::write(&path, text)?;
        }
    }
    let mapping = to.join(MAPPING);
    skein_config::user_file::write(&mapping, &mapping_text(&args, &import, table.as_deref()))?;
    Ok(report(&args, &import, Some(to)))
}

/// Each migration's id in the tool and its version here, as TOML written by a TOML
/// writer: an id may hold any character a file name can (a newline, an escape).
fn mapping_text(args: &ImportArgs, import: &Import, table: Option<&str>) -> String {
    let mut document = toml_edit::DocumentMut::new();
    document["from"] = toml_edit::value(args.tool.as_str());
    if let Some(table) = table {
        document["table"] = toml_edit::value(table);
    }
    document["source"] = toml_edit::value(args.source.display().to_string());
    let mut versions = toml_edit::Table::new();
    for migration in &import.migrations {
        // Every id quoted, as the writer escapes strings, so that all read alike.
        let quoted = toml_edit::Value::from(migration.id.as_str()).to_string();
        let key = quoted
            .trim()
            .parse::<toml_edit::Key>()
            .unwrap_or_else(|_| toml_edit::Key::new(migration.id.as_str()));
        versions.insert_formatted(&key, toml_edit::value(migration.version));
    }
    document.insert("versions", toml_edit::Item::Table(versions));
    format!(
        "# Written by `skein import --from {}`: each migration's id there and its version here.\n{document}",
        args.tool.replace(['\n', '\r'], " ")
    )
}

fn report(args: &ImportArgs, import: &Import, to: Option<&Path>) -> Body {
    Body::Import(ImportReport {
        from: args.tool.clone(),
        source: args.source.display().to_string(),
        to: to.map(|t| t.display().to_string()),
        mapping: to.map(|t| t.join(MAPPING).display().to_string()),
        compatible: import.compatible,
        migrations: import
            .migrations
            .iter()
            .map(|m| ImportedMigration {
                id: m.id.clone(),
                version: m.version,
                files: m.files.iter().map(|(name, _)| name.clone()).collect(),
            })
            .collect(),
        skipped: import.skipped.clone(),
        notes: import.notes.clone(),
    })
}
