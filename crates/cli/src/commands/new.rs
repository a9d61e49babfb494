//! `new`: writes the next migration's files, named by the UTC time.

use crate::cli::{Format, NewArgs};
use crate::context::{self, Context};
use crate::exit::Outcome;
use anyhow::Context as _;
use std::path::PathBuf;

pub fn run(ctx: &Context, args: NewArgs) -> anyhow::Result<Outcome> {
    let db = ctx.workspace.database(&args.database)?;
    let slug = slug(&args.description);
    if slug.is_empty() {
        anyhow::bail!("the description must contain letters or digits, e.g. \"add trades index\"");
    }
    std::fs::create_dir_all(&db.migrations)
        .with_context(|| format!("cannot create {}", db.migrations.display()))?;
    let newest = context::migrations(db)?.last().map(|m| m.version);
    let now: i64 = jiff::Timestamp::now()
        .strftime("%Y%m%d%H%M%S")
        .to_string()
        .parse()
        .expect("a timestamp is digits");
    // Two `new` in one second, or a clock behind the newest file, still get a fresh, later version.
    let version = newest.map_or(now, |newest| now.max(newest + 1));
    let stem = format!("{version}_{slug}");
    let files: Vec<(PathBuf, String)> = if args.irreversible {
        vec![(
            db.migrations.join(format!("{stem}.sql")),
            header(&args.description, "irreversible"),
        )]
    } else {
        vec![
            (
                db.migrations.join(format!("{stem}.up.sql")),
                header(&args.description, "up"),
            ),
            (
                db.migrations.join(format!("{stem}.down.sql")),
                header(&args.description, "down: undo the up file"),
            ),
        ]
    };
    for (path, content) in &files {
        std::fs::write(path, content)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    match ctx.format {
        Format::Json => {
            let paths: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
            let doc = serde_json::json!({ "command": "new", "database": db.name, "version": version, "files": paths });
            crate::redact::out(&serde_json::to_string_pretty(&doc)?);
        }
        Format::Human | Format::Sql => {
            for (path, _) in &files {
                crate::redact::out(&format!("created {}", path.display()));
            }
        }
    }
    Ok(Outcome::Done)
}

fn header(description: &str, direction: &str) -> String {
    format!("-- {description} ({direction})\n")
}

/// `Add trades index!` -> `add_trades_index`.
fn slug(description: &str) -> String {
    let mut slug = String::new();
    for c in description.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('_') {
            slug.push('_');
        }
    }
    slug.trim_end_matches('_').chars().take(60).collect()
}
