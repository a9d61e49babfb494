//! `adopt`: takes over databases another tool migrated. For each, it finds the tool's
//! history table, maps what it applied onto this folder's migrations, replays those into
//! a scratch database and compares the result with the live schema; only when they match
//! (or with `--force`) does it record them as skein's `baseline` rows. Nothing is run,
//! and the other tool's table stays.

use super::drift::{ExpectedCache, expected_schema};
use super::finish;
use crate::cli::AdoptArgs;
use crate::context::{self, Context};
use crate::report::detail::EditsDetail;
use crate::report::{Body, DatabaseReport, Detail, ForeignHistory, Status};
use skein_config::{DatabaseUrls, ResolvedDatabase};
use skein_core::Driver as _;
use skein_core::Migration;
use skein_core::adopt::{self, Tool};
use skein_core::error::Error as CoreError;

pub async fn run(ctx: &Context, args: AdoptArgs) -> anyhow::Result<Body> {
    let tool = match &args.tool {
        Some(name) => Some(
            Tool::parse(name)
                .filter(|tool| tool.def().history_table.is_some())
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--from {name}: not a tool skein adopts from; one of: {}",
                        Tool::adoptable().join(", ")
                    )
                })?,
        ),
        None => None,
    };
    let databases = ctx.select_explicit("adopt")?;
    let urls = ctx.urls(&databases).await?;
    let fleet = ctx.unordered_fleet(&urls);
    let cache = ExpectedCache::default();
    let reports = crate::fleet::run(&databases, &fleet, |db| {
        let (urls, args, cache) = (&urls, &args, &cache);
        async move {
            match adopt_one(ctx, db, urls, args, tool, cache).await {
                Ok(report) => report,
                Err(e) => DatabaseReport::failed(&db.name, &e),
            }
        }
    })
    .await;
    cache.close().await;
    // A database whose schema is not its migrations' is drifted: a finding (exit 3).
    Ok(finish(ctx, reports))
}

async fn adopt_one(
    ctx: &Context,
    db: &ResolvedDatabase,
    urls: &DatabaseUrls,
    args: &AdoptArgs,
    tool: Option<Tool>,
    cache: &ExpectedCache,
) -> Result<DatabaseReport, CoreError> {
    let migrations = context::migrations(db)?;
    let mapping = crate::import_map::of_database(db)?;
    let prepared = ctx.prepare(db, urls)?;
    let (url, options) = (prepared.url, &prepared.options);
    let mut conn = prepared.open().await?;
    let result = async {
        let history = conn.read_history().await?;
        if let Some(newest) = history
            .iter()
            .filter(|r| r.success)
            .map(|r| r.version)
            .max()
        {
            let detail = EditsDetail {
                version_before: Some(newest),
                version_after: Some(newest),
                ..EditsDetail::default()
            };
            return Ok(DatabaseReport::new(
                &db.name,
                Status::UpToDate,
                Detail::Edits(detail),
            ));
        }
        // --from and --table say which table; else the import map, where the migrations
        // were imported from; else the one there is.
        let by_map = tool.is_none() && args.table.is_none();
        let (tool, table) = match by_map {
            true => (
                mapping
                    .from
                    .as_deref()
                    .and_then(Tool::parse)
                    .filter(|tool| tool.def().history_table.is_some()),
                mapping.table.clone(),
            ),
            false => (tool, args.table.clone()),
        };
        let Some(foreign) = adopt::find(&mut conn, tool, table.as_deref()).await? else {
            return Err(adopt::AdoptError::NotFound.into());
        };
        let others: Vec<&str> = adopt::foreign_tables(&mut conn)
            .await
            .into_iter()
            .filter(|t| !t.eq_ignore_ascii_case(&foreign.table))
            .collect();
        if !others.is_empty() {
            tracing::warn!(
                "{}: adopting {}'s {}{}; {} {} here too and {} left as it is",
                db.name,
                foreign.tool.name(),
                foreign.table,
                if by_map && tool.is_some() {
                    format!(" (named by {})", crate::import_map::FILE)
                } else {
                    String::new()
                },
                others.join(", "),
                if others.len() == 1 { "is" } else { "are" },
                if others.len() == 1 { "is" } else { "are" },
            );
        }
        let (mut versions, unknown) =
            adopt::applied_versions(&foreign, &migrations, &mapping.versions, args.force)?;
        if !unknown.is_empty() {
            tracing::warn!(
                "{}: leaving out what {} applied that has no migration here (--force): {}",
                db.name,
                foreign.table,
                unknown.join(", ")
            );
        }
        // A database the other tool took to the head has had its repeatable migrations
        // (Flyway's `R__` files, a runner's seeds) run by it: they are part of what is
        // checked and recorded, and run again when they next change.
        let at_head = migrations
            .iter()
            .filter(|m| !m.repeatable)
            .all(|m| versions.contains_key(&m.version));
        if at_head {
            for repeatable in migrations.iter().filter(|m| m.repeatable) {
                versions.insert(
                    repeatable.version,
                    adopt::ForeignRow {
                        id: repeatable.description.clone(),
                        ..adopt::ForeignRow::default()
                    },
                );
            }
        }
        let mut applied: Vec<Migration> = migrations
            .iter()
            .filter(|m| versions.contains_key(&m.version))
            .cloned()
            .collect();
        let newest = skein_core::migration::head(&applied);
        // The history table adopted is the other tool's, whatever its name.
        let leave_out = [foreign.table.as_str()];
        let mut differences = verify(&mut conn, cache, url, &applied, options, &leave_out).await?;
        if !differences.is_empty() && applied.iter().any(|m| m.repeatable) {
            // The schema is not what the repeatable ones make (a view the tool never
            // created): adopt what it applied, and let `up` run them.
            let versioned: Vec<Migration> =
                applied.iter().filter(|m| !m.repeatable).cloned().collect();
            let without = verify(&mut conn, cache, url, &versioned, options, &leave_out).await?;
            if without.is_empty() {
                versions
                    .retain(|version, _| !skein_core::migration::is_repeatable_version(*version));
                applied = versioned;
                differences = without;
            }
        }
        if !differences.is_empty() {
            let what = format!(
                "the {} migration(s) {} applied",
                applied.len(),
                foreign.tool.name()
            );
            if !args.force {
                return Err(CoreError::SchemaDiffers {
                    what,
                    differences,
                    fix: "fix the schema, or --force to record anyway",
                });
            }
            tracing::warn!(
                "{}: recording despite differences (--force): {}",
                db.name,
                differences.join("; ")
            );
        }
        let applied_by = format!(
            "{} (adopted from {} {})",
            ctx.applied_by,
            foreign.tool.name(),
            foreign.table
        );
        let edits = adopt::record(
            &mut conn,
            &migrations,
            &versions,
            &options.history_table,
            &applied_by,
        )
        .await?;
        let status = match edits.is_empty() {
            true => Status::UpToDate,
            false => Status::Ok,
        };
        let detail = EditsDetail {
            version_before: None,
            version_after: newest,
            edits,
            foreign_history: Some(ForeignHistory {
                table: foreign.table.clone(),
                owned: true,
            }),
        };
        Ok(DatabaseReport::new(&db.name, status, Detail::Edits(detail)))
    }
    .await;
    conn.close().await;
    result
}

/// How the live schema differs from what `applied` give, replayed into a scratch
/// database: nothing when they match. Tables named in `leave_out` (the other tool's
/// history table, whatever it is called) are not compared.
pub(super) async fn verify(
    conn: &mut skein_core::Connection,
    cache: &ExpectedCache,
    url: &str,
    applied: &[Migration],
    options: &skein_core::ConnectOptions,
    leave_out: &[&str],
) -> Result<Vec<String>, CoreError> {
    let newest = skein_core::migration::head(applied);
    let (expected, _) = expected_schema(cache, url, applied, newest, options).await?;
    let expected = expected.without_tables(leave_out);
    let live = conn.inspect().await?.without_tables(leave_out);
    Ok(
        skein_core::schema::diff::diff(&expected, &live, conn.dialect())
            .into_iter()
            .map(|d| d.description)
            .collect(),
    )
}
