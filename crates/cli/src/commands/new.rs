//! `new`: writes the next migration's files, named by the UTC time.

use crate::cli::{Format, NewArgs};
use crate::context::{self, Context};
use crate::exit::Outcome;
use anyhow::Context as _;
use std::path::PathBuf;

pub async fn run(ctx: &Context, args: NewArgs) -> anyhow::Result<Outcome> {
    let db = ctx.workspace.database(&args.database)?;
    let generated = match &args.from_schema {
        Some(file) => {
            let generated = generate(ctx, db, file, &args).await?;
            if args.check {
                return Ok(report_check(&db.name, file, &generated));
            }
            if generated.is_empty() {
                crate::redact::out(&format!(
                    "{}: head already has the schema {} declares; nothing to write",
                    db.name,
                    file.display()
                ));
                return Ok(Outcome::Done);
            }
            Some(generated)
        }
        None => None,
    };
    let description = args.description.clone().unwrap_or_default();
    let slug = slug(&description);
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
            unwritten(&description, "irreversible"),
        )]
    } else {
        let file = args.from_schema.as_deref();
        let (up, down) = match &generated {
            Some(generated) => (
                body(&description, "up", &generated.up, generated, file),
                body(&description, "down", &generated.down, generated, file),
            ),
            None => (
                unwritten(&description, "up"),
                unwritten(&description, "down: undo the up file"),
            ),
        };
        vec![
            (db.migrations.join(format!("{stem}.up.sql")), up),
            (db.migrations.join(format!("{stem}.down.sql")), down),
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

async fn generate(
    ctx: &Context,
    db: &skein_config::ResolvedDatabase,
    file: &std::path::Path,
    args: &NewArgs,
) -> anyhow::Result<skein_core::schema::autogen::Generated> {
    let sql = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the schema file {}", file.display()))?;
    let urls = ctx.urls(&[db]).await?;
    let url = urls
        .urls
        .get(&db.name)
        .map(|u| u.expose().to_owned())
        .unwrap_or_default();
    let migrations = context::migrations(db)?;
    let options = ctx.connect_options(db, &args.lock)?;
    Ok(skein_core::schema::autogen::generate(&url, &migrations, file, &sql, &options).await?)
}

/// `--check`: 0 when the migrations give the declared schema, 3 (with the differences) otherwise.
fn report_check(
    name: &str,
    file: &std::path::Path,
    generated: &skein_core::schema::autogen::Generated,
) -> Outcome {
    if generated.is_empty() {
        crate::redact::out(&format!(
            "{name}: the migrations give the schema {} declares",
            file.display()
        ));
        return Outcome::Done;
    }
    crate::redact::out(&format!(
        "{name}: the migrations do not give the schema {} declares (head {}, declared {}):",
        file.display(),
        generated.head_fingerprint,
        generated.declared_fingerprint
    ));
    for difference in &generated.differences {
        crate::redact::out(&format!("  - {}", difference.description));
    }
    crate::redact::out(&format!(
        "write the migration with `skein new --db {name} --from-schema {} \"...\"`",
        file.display()
    ));
    Outcome::CheckFailed
}

/// A generated migration's text: its statements, and what SQL could not say.
fn body(
    description: &str,
    direction: &str,
    statements: &[String],
    generated: &skein_core::schema::autogen::Generated,
    file: Option<&std::path::Path>,
) -> String {
    let mut text = header(description, direction);
    if let Some(file) = file {
        text.push_str(&format!(
            "-- generated from {} by skein new --from-schema; review it\n",
            file.display()
        ));
    }
    for difference in &generated.manual {
        text.push_str(&format!("-- manual: {}\n", difference.description));
    }
    for statement in statements {
        text.push_str(statement);
        text.push_str(";\n");
    }
    text
}

fn header(description: &str, direction: &str) -> String {
    format!("-- {description} ({direction})\n")
}

/// What `skein new` writes into a file: until the placeholder line is replaced, `up` and
/// `down` refuse the file as unwritten.
fn unwritten(description: &str, direction: &str) -> String {
    format!(
        "{}-- Write the migration here, then delete this line.\n",
        header(description, direction)
    )
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
