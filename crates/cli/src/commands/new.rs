//! `new`: writes the next migration's files, named by the UTC time.

use crate::cli::NewArgs;
use crate::context::{self, Context};
use crate::report::Body;
use crate::report::sections::{FromSchema, NewReport};
use anyhow::Context as _;
use std::path::{Path, PathBuf};

pub async fn run(ctx: &Context, args: NewArgs) -> anyhow::Result<Body> {
    let selection = &ctx.options.selection;
    if selection.databases.is_empty() && !selection.groups.is_empty() {
        return template(&ctx.workspace, &selection.groups, &args).map(Body::New);
    }
    let db = ctx.select_one("new")?;
    let generated = match &args.from_schema {
        Some(file) => {
            let sql = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read the schema file {}", file.display()))?;
            let urls = ctx.urls(&[db]).await?;
            let generated = match generate(ctx, db, &urls, file, &sql).await {
                Ok(generated) => generated,
                // The database could not be reached or the replay failed: a failed
                // database, as in every command.
                Err(e) => return Ok(super::failed_alone(db, &e)),
            };
            if args.check || generated.is_empty() {
                // Compared only: `--check`, or nothing to write.
                return Ok(Body::New(NewReport {
                    database: Some(db.name.clone()),
                    group: None,
                    version: None,
                    files: Vec::new(),
                    from_schema: Some(from_schema(file, &generated, args.check)),
                }));
            }
            let loses = generated.up_loses();
            if !loses.is_empty() && !args.allow_destructive {
                anyhow::bail!(
                    "the migration from {} would lose data in {}: {}; review it, then write it with --allow-destructive (each such statement is marked in the file)",
                    file.display(),
                    db.name,
                    loses.join("; ")
                );
            }
            Some(generated)
        }
        None => None,
    };
    if args.repeatable {
        let mut report = repeatable(&db.migrations, &args)?;
        report.database = Some(db.name.clone());
        return Ok(Body::New(report));
    }
    let description = args.description.clone().unwrap_or_default();
    let slug = slug(&description)?;
    std::fs::create_dir_all(&db.migrations)
        .with_context(|| format!("cannot create {}", db.migrations.display()))?;
    let newest = skein_core::migration::head(&context::migrations(db)?);
    let version = next_version(newest);
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
    let mut report = write(version, &files)?;
    report.database = Some(db.name.clone());
    report.from_schema = match (&args.from_schema, &generated) {
        (Some(file), Some(generated)) => Some(from_schema(file, generated, false)),
        _ => None,
    };
    Ok(Body::New(report))
}

/// How the migrations at head compare with the schema `file` declares.
fn from_schema(
    file: &Path,
    generated: &skein_core::schema::autogen::Generated,
    check: bool,
) -> FromSchema {
    FromSchema {
        file: file.display().to_string(),
        head_fingerprint: generated.head_fingerprint.clone(),
        declared_fingerprint: generated.declared_fingerprint.clone(),
        differences: generated.differences.clone(),
        check,
    }
}

/// `new --group SET`: one new migration in the set's template, which every member of
/// the set applies (`--group models` for the model databases).
fn template(
    workspace: &skein_config::Workspace,
    groups: &[String],
    args: &NewArgs,
) -> anyhow::Result<NewReport> {
    let group = groups.join(" --group ");
    let set = match groups {
        [one] => workspace
            .sets()
            .iter()
            .find(|s| s.name == *one)
            .or_else(|| {
                let mut owners = workspace
                    .sets()
                    .iter()
                    .filter(|s| workspace.set_groups(s).contains(one));
                owners.next().filter(|_| owners.next().is_none())
            }),
        _ => None,
    };
    let Some(set) = set else {
        let sets: Vec<String> = workspace
            .sets()
            .iter()
            .map(|s| format!("--group {}", s.name))
            .collect();
        anyhow::bail!(
            "--group {group}: `new` writes into a set's template with --group SET ({}); for one database use --db NAME",
            match sets.is_empty() {
                true => "this configuration has no [models] or [sets.<name>]".to_owned(),
                false => sets.join(", "),
            }
        );
    };
    if args.from_schema.is_some() {
        anyhow::bail!(
            "--from-schema needs one database to compare with: use --db NAME (a model's name), then move the files into the template"
        );
    }
    let template = set.template.as_deref().with_context(|| {
        format!(
            "the set `{}` has no template: set `template` in [{}] (the folder of the migrations every member applies)",
            set.name, set.key
        )
    })?;
    if args.repeatable {
        let mut report = repeatable(template, args)?;
        report.group = Some(group);
        return Ok(report);
    }
    let description = args.description.clone().unwrap_or_default();
    let slug = slug(&description)?;
    let version = next_version(newest_model_version(workspace, &set.name, template)?);
    let stem = format!("{version}_{slug}");
    let files: Vec<(PathBuf, String)> = if args.irreversible {
        vec![(
            template.join(format!("{stem}.sql")),
            unwritten(&description, "irreversible"),
        )]
    } else {
        vec![
            (
                template.join(format!("{stem}.up.sql")),
                format!(
                    "-- Every database of the set `{}` applies this file, rendered for it: {{{{ model }}}} is the database's name.\n{}",
                    set.name,
                    unwritten(&description, "up")
                ),
            ),
            (
                template.join(format!("{stem}.down.sql")),
                unwritten(&description, "down: undo the up file"),
            ),
        ]
    };
    let mut report = write(version, &files)?;
    report.group = Some(group);
    Ok(report)
}

/// The newest version of the template and of every member's own folder, so that a new
/// template migration comes after all of them.
fn newest_model_version(
    workspace: &skein_config::Workspace,
    set: &str,
    template: &Path,
) -> anyhow::Result<Option<i64>> {
    let mut folders = vec![template.to_owned()];
    folders.extend(
        workspace
            .databases
            .iter()
            .filter(|db| db.set.as_deref() == Some(set) && db.migrations.is_dir())
            .map(|db| db.migrations.clone()),
    );
    let mut newest = None;
    for folder in folders {
        let entries = std::fs::read_dir(&folder)
            .with_context(|| format!("cannot read {}", folder.display()))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Ok(parsed) = skein_core::migration::FileName::parse(&name) {
                newest = newest.max(Some(parsed.version));
            }
        }
    }
    Ok(newest)
}

/// The UTC time as `YYYYMMDDHHMMSS`, or one past `newest` if that is later: two `new` in
/// one second, or a clock behind the newest file, still get a fresh, later version.
fn next_version(newest: Option<i64>) -> i64 {
    let now: i64 = jiff::Timestamp::now()
        .strftime("%Y%m%d%H%M%S")
        .to_string()
        .parse()
        .expect("a timestamp is digits");
    newest.map_or(now, |newest| now.max(newest + 1))
}

/// `new --repeatable`: `<folder>/repeatable/<slug>.sql`, never over a file that is there.
fn repeatable(folder: &Path, args: &NewArgs) -> anyhow::Result<NewReport> {
    let description = args.description.clone().unwrap_or_default();
    let folder = folder.join(skein_core::source::REPEATABLE_DIR);
    let path = folder.join(format!("{}.sql", slug(&description)?));
    if path.exists() {
        anyhow::bail!(
            "{} exists already: a repeatable migration is edited in place, and applied again when it changes",
            context::relative(&path).display()
        );
    }
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    let text = format!(
        "-- {description} (repeatable: applied after the versioned migrations, again whenever this file changes; write it to run again)\n-- Write the migration here, then delete this line.\n"
    );
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(NewReport {
        database: None,
        group: None,
        version: None,
        files: vec![context::relative(&path).display().to_string()],
        from_schema: None,
    })
}

/// Writes the files; the report names them.
fn write(version: i64, files: &[(PathBuf, String)]) -> anyhow::Result<NewReport> {
    for (path, content) in files {
        std::fs::write(path, content)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(NewReport {
        database: None,
        group: None,
        version: Some(version),
        files: files
            .iter()
            .map(|(p, _)| context::relative(p).display().to_string())
            .collect(),
        from_schema: None,
    })
}

async fn generate(
    ctx: &Context,
    db: &skein_config::ResolvedDatabase,
    urls: &skein_config::DatabaseUrls,
    file: &std::path::Path,
    sql: &str,
) -> Result<skein_core::schema::autogen::Generated, skein_core::Error> {
    let prepared = ctx.prepare(db, urls)?;
    let migrations = prepared.migrations()?;
    skein_core::schema::autogen::generate(prepared.url, &migrations, file, sql, &prepared.options)
        .await
}

/// A generated migration's text: its statements, and what SQL could not say.
fn body(
    description: &str,
    direction: &str,
    statements: &[skein_core::schema::autogen::GeneratedStatement],
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
    let mut said = None;
    for statement in statements {
        // What a destructive change loses, said once before its statements.
        if let Some(loses) = &statement.loses
            && said != Some(loses)
        {
            text.push_str(&format!("-- destructive, data is lost: {loses}\n"));
            said = Some(loses);
        }
        text.push_str(&statement.sql);
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

/// `Add trades index!` -> `add_trades_index`; a description with no letter or digit is
/// an error.
fn slug(description: &str) -> anyhow::Result<String> {
    let slug = skein_core::migration::slug(description);
    if slug.is_empty() {
        anyhow::bail!("the description must contain letters or digits, e.g. \"add trades index\"");
    }
    Ok(slug)
}
