//! `inspect`: a database's live schema, normalised, with its fingerprint. `drift`: each
//! database's live schema against the one its migrations give, grouped by fingerprint.

use crate::cli::{ConvergeArgs, DriftArgs, Format, InspectArgs};
use crate::context::{self, Context};
use crate::escape::controls;
use crate::exit::Outcome;
use crate::redact;
use crate::report::{DatabaseReport, DriftInfo, Report, Status};
use comfy_table::{Table, presets};
use skein_config::{DatabaseUrls, ResolvedDatabase};
use skein_core::Driver;
use skein_core::error::Error as CoreError;
use skein_core::schema::Schema;
use skein_core::schema::render::{column_sql, to_sql};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::OnceCell;

pub async fn inspect(ctx: &Context, args: InspectArgs) -> anyhow::Result<Outcome> {
    let db = ctx.workspace.database(&args.database)?;
    let urls = ctx.connection_urls(&[db]).await?;
    let result = async {
        let options = ctx.connect_options(db, &args.lock)?;
        let options = skein_core::ConnectOptions {
            read_only: true,
            ..options
        };
        let mut conn = context::open(db, &urls, options).await?;
        let dialect = conn.dialect();
        let schema = conn.inspect().await;
        conn.close().await;
        schema.map(|s| (s, dialect))
    }
    .await;
    let (schema, dialect) = match result {
        Ok(found) => found,
        Err(e) => return Ok(failed_alone(ctx, "inspect", db, &e)),
    };
    match ctx.format {
        Format::Json => {
            let doc = serde_json::json!({
                "command": "inspect",
                "database": db.name,
                "fingerprint": schema.fingerprint(),
                "schema": schema,
            });
            redact::out(&serde_json::to_string_pretty(&doc)?);
        }
        Format::Sql if dialect == skein_core::dialect::Dialect::MySql => {
            return Err(skein_core::driver::mysql_ddl_unsupported("inspect --format sql").into());
        }
        Format::Sql => redact::out_raw(&to_sql(&schema, dialect)),
        Format::Human => redact::out(&human(&db.name, &schema)),
    }
    Ok(Outcome::Done)
}

fn human(name: &str, schema: &Schema) -> String {
    let mut lines = vec![format!(
        "{name}: fingerprint {}, {} table(s), {} view(s), {} enum type(s), {} function(s)",
        schema.fingerprint(),
        schema.tables.len(),
        schema.views.len(),
        schema.enums.len(),
        schema.functions.len()
    )];
    // Names and definitions come from the live database: escape their control characters.
    let outside = |text: &str| controls(text).into_owned();
    for (table_name, table) in &schema.tables {
        let mut grid = Table::new();
        grid.load_preset(presets::NOTHING);
        for (column, definition) in &table.columns {
            grid.add_row(["  ".to_owned(), outside(&column_sql(column, definition))]);
        }
        for constraint in table.constraints.values() {
            grid.add_row(["  ".to_owned(), outside(&constraint.definition)]);
        }
        for index in table.indexes.values() {
            grid.add_row([
                "  ".to_owned(),
                outside(&format!("index {}: {}", index.name, index.definition)),
            ]);
        }
        lines.push(format!("\ntable {}\n{grid}", outside(table_name)));
    }
    for (enum_name, values) in &schema.enums {
        let values = values.join(", ");
        lines.push(format!(
            "\nenum {}",
            outside(&format!("{enum_name}: {values}"))
        ));
    }
    for view_name in schema.views.keys() {
        lines.push(format!("view {}", outside(view_name)));
    }
    for function in schema.functions.keys() {
        lines.push(format!("function {}", outside(function)));
    }
    lines.join("\n")
}

/// Expected schemas by [`skein_core::schema::expected::cache_key`]: each is replayed once,
/// however many databases share it; concurrent askers wait for the first.
pub(super) type ExpectedCache =
    tokio::sync::Mutex<HashMap<String, Arc<OnceCell<Result<Schema, Arc<CoreError>>>>>>;

/// The schema `migrations` up to `version` give, replayed into a scratch database once per
/// distinct set of statements however many databases ask; `key` identifies the replay.
/// A failed replay keeps its error, with the file, line and column that failed.
pub(super) async fn expected_schema(
    cache: &ExpectedCache,
    url: &str,
    migrations: &[skein_core::Migration],
    version: Option<skein_core::Version>,
    options: &skein_core::ConnectOptions,
) -> Result<(Schema, String), CoreError> {
    let key = skein_core::schema::expected::cache_key(url, migrations, version);
    let cell = cache.lock().await.entry(key.clone()).or_default().clone();
    let expected = cell
        .get_or_init(|| async {
            skein_core::schema::expected::replay(url, migrations, version, options)
                .await
                .map_err(Arc::new)
        })
        .await
        .clone()
        .map_err(CoreError::Replay)?;
    Ok((expected, key))
}

pub async fn drift(ctx: &Context, args: DriftArgs) -> anyhow::Result<Outcome> {
    let databases = ctx.select(&args.selection, &args.fleet)?;
    let urls = ctx.urls(&databases).await?;
    let cache = ExpectedCache::default();
    let fleet = crate::fleet::Fleet {
        follow_dependencies: false,
        ..ctx.fleet(&args.fleet, &urls)
    };
    let reports = crate::fleet::run(&databases, &fleet, |db| {
        let (urls, cache, lock) = (&urls, &cache, &args.lock);
        async move {
            match drift_of(ctx, db, urls, cache, lock).await {
                Ok(report) => report,
                Err(e) => DatabaseReport::failed(&db.name, &e),
            }
        }
    })
    .await;
    let drifted = reports.iter().any(|r| r.status == Status::Drifted);
    let outcome = crate::commands::finish(ctx, "drift", reports);
    Ok(if outcome == Outcome::Done && drifted {
        Outcome::CheckFailed
    } else {
        outcome
    })
}

async fn drift_of(
    ctx: &Context,
    db: &ResolvedDatabase,
    urls: &DatabaseUrls,
    cache: &ExpectedCache,
    lock: &crate::cli::LockArgs,
) -> Result<DatabaseReport, CoreError> {
    let migrations = context::migrations(db)?;
    let options = ctx.connect_options(db, lock)?;
    let read_only = skein_core::ConnectOptions {
        read_only: true,
        ..options.clone()
    };
    let mut conn = context::open(db, urls, read_only).await?;
    let dialect = conn.dialect();
    let inventory = skein_core::engine::inventory(&mut conn, &migrations).await;
    let live = conn.inspect().await;
    conn.close().await;
    let (inventory, live) = (inventory?, live?);
    let version = inventory.current_version();
    let url = urls
        .urls
        .get(&db.name)
        .map(|u| u.expose().to_owned())
        .unwrap_or_default();
    let (expected, key) = expected_schema(cache, &url, &migrations, version, &options).await?;
    let differences = skein_core::schema::diff::diff(&expected, &live, dialect);
    let status = if differences.is_empty() {
        Status::UpToDate
    } else {
        Status::Drifted
    };
    let mut report = DatabaseReport::new(&db.name, status);
    report.version_before = version;
    report.version_after = version;
    report.drift = Some(DriftInfo {
        fingerprint: live.fingerprint(),
        expected_fingerprint: expected.fingerprint(),
        replay: key,
        differences,
    });
    Ok(report)
}

pub async fn check(ctx: &Context, args: DriftArgs) -> anyhow::Result<Outcome> {
    let databases: Vec<&ResolvedDatabase> = ctx
        .select(&args.selection, &args.fleet)?
        .into_iter()
        .filter(|db| db.expect.is_some())
        .collect();
    if databases.is_empty() {
        anyhow::bail!(
            "no selected database has `expect` rules; add [<profile>.databases.NAME.expect] or [<profile>.models.expect]"
        );
    }
    let urls = ctx.connection_urls(&databases).await?;
    let fleet = crate::fleet::Fleet {
        follow_dependencies: false,
        ..ctx.fleet(&args.fleet, &urls)
    };
    let reports = crate::fleet::run(&databases, &fleet, |db| {
        let (urls, lock) = (&urls, &args.lock);
        async move {
            match check_of(ctx, db, urls, lock).await {
                Ok(report) => report,
                Err(e) => DatabaseReport::failed(&db.name, &e),
            }
        }
    })
    .await;
    let broken = reports.iter().any(|r| r.status == Status::Problems);
    let outcome = crate::commands::finish(ctx, "check", reports);
    Ok(if outcome == Outcome::Done && broken {
        Outcome::CheckFailed
    } else {
        outcome
    })
}

async fn check_of(
    ctx: &Context,
    db: &ResolvedDatabase,
    urls: &DatabaseUrls,
    lock: &crate::cli::LockArgs,
) -> Result<DatabaseReport, CoreError> {
    let rules = db.expect.clone().unwrap_or_default();
    let rules = skein_core::schema::expect::Expectations {
        required_tables: rules.required_tables,
        required_columns: rules.required_columns,
        optional_tables: rules.optional_tables,
        forbidden_tables: rules.forbidden_tables,
    };
    let options = ctx.connect_options(db, lock)?;
    let mut conn = context::open(
        db,
        urls,
        skein_core::ConnectOptions {
            read_only: true,
            ..options
        },
    )
    .await?;
    let schema = conn.inspect().await;
    conn.close().await;
    let findings = skein_core::schema::expect::check(&rules, &schema?, &db.name);
    let failed = findings.iter().any(|f| f.severity == "error");
    let mut report = DatabaseReport::new(
        &db.name,
        if failed {
            Status::Problems
        } else {
            Status::UpToDate
        },
    );
    report.findings = findings;
    Ok(report)
}

/// The report of a one-database command whose database failed.
pub(super) fn failed_alone(
    ctx: &Context,
    command: &'static str,
    db: &ResolvedDatabase,
    error: &CoreError,
) -> Outcome {
    let report = Report {
        command,
        profile: ctx.workspace.profile.clone(),
        databases: vec![DatabaseReport::failed(&db.name, error)],
        every_name: false,
    };
    report.print(ctx.format);
    Outcome::Failed
}

pub async fn converge(ctx: &Context, args: ConvergeArgs) -> anyhow::Result<Outcome> {
    use skein_core::schema::converge::{ConvergeOutcome, ConvergePlan, apply};
    let db = ctx.workspace.database(&args.database)?;
    let urls = ctx.urls(&[db]).await?;
    let migrations = context::migrations(db)?;
    let options = ctx.connect_options(db, &args.lock)?;
    let url = urls
        .urls
        .get(&db.name)
        .map(|u| u.expose().to_owned())
        .unwrap_or_default();
    let head = migrations.last().map(|m| m.version);
    let result = async {
        let mut conn = context::open(db, &urls, options.clone()).await?;
        let dialect = conn.dialect();
        if dialect == skein_core::dialect::Dialect::MySql {
            conn.close().await;
            return Err(skein_core::driver::mysql_ddl_unsupported("converge"));
        }
        let result = async {
            let live = conn.inspect().await?;
            let expected =
                skein_core::schema::expected::replay(&url, &migrations, head, &options).await?;
            let plan = ConvergePlan::new(&expected, &live, head, dialect);
            let outcome = if args.apply && !plan.is_empty() {
                let table = options.history_table.clone();
                Some(
                    apply(
                        &mut conn,
                        &plan,
                        args.allow_destructive,
                        &expected,
                        &migrations,
                        &table,
                        &ctx.applied_by,
                    )
                    .await?,
                )
            } else {
                None
            };
            Ok((plan, outcome))
        }
        .await;
        conn.close().await;
        result
    }
    .await;
    let (plan, outcome) = match result {
        Ok(done) => done,
        // The database could not be reached or read: a failed database, as in every
        // command (exit 1, the report says why).
        Err(e) => return Ok(failed_alone(ctx, "converge", db, &e)),
    };
    if ctx.format == Format::Json {
        let doc = serde_json::json!({ "command": "converge", "database": db.name, "plan": plan, "applied": outcome });
        redact::out(&serde_json::to_string_pretty(&doc)?);
    } else {
        redact::out(&plan_text(&db.name, &plan, args.allow_destructive));
        match &outcome {
            Some(ConvergeOutcome::Converged {
                statements,
                stamped,
            }) => redact::out(&format!(
                "{}: converged: {statements} statement(s) run, fingerprint now {}, history stamped to {} ({} version(s) recorded)",
                db.name,
                plan.expected_fingerprint,
                crate::report::version_text(head),
                stamped.len()
            )),
            Some(ConvergeOutcome::StillDiffers { remaining }) => {
                redact::err(&format!(
                    "{}: not converged; nothing was committed. What would remain:",
                    db.name
                ));
                for difference in remaining {
                    let hint = if difference.destructive && !args.allow_destructive {
                        " (destructive: pass --allow-destructive)"
                    } else {
                        ""
                    };
                    redact::err(&format!("  - {}{hint}", controls(&difference.description)));
                }
            }
            None if !plan.is_empty() => redact::out("run it with --apply"),
            None => {}
        }
    }
    Ok(match outcome {
        Some(ConvergeOutcome::StillDiffers { .. }) => Outcome::Failed,
        _ => Outcome::Done,
    })
}

fn plan_text(
    name: &str,
    plan: &skein_core::schema::converge::ConvergePlan,
    allow_destructive: bool,
) -> String {
    if plan.is_empty() {
        return format!(
            "{name}: already has the schema of its migrations (fingerprint {})",
            plan.fingerprint
        );
    }
    let mut lines = vec![format!(
        "{name}: fingerprint {}, expected {}: {} additive, {} destructive, {} manual step(s)",
        plan.fingerprint,
        plan.expected_fingerprint,
        plan.additive.len(),
        plan.destructive.len(),
        plan.manual.len()
    )];
    let mut section = |title: &str, differences: &[skein_core::schema::diff::Difference]| {
        if differences.is_empty() {
            return;
        }
        lines.push(format!("-- {title}"));
        for difference in differences {
            lines.push(format!("-- {}", controls(&difference.description)));
            if let Some(sql) = &difference.sql {
                lines.extend(sql.split('\n').map(|line| controls(line).into_owned()));
            }
        }
    };
    section("additive", &plan.additive);
    let destructive_title = if allow_destructive {
        "destructive"
    } else {
        "destructive (only with --allow-destructive)"
    };
    section(destructive_title, &plan.destructive);
    section("manual (SQL cannot do these; a person must)", &plan.manual);
    lines.join("\n")
}
