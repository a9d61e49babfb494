//! `converge`: brings a divergent database to the schema of its migrations at head.

use crate::cli::{ConvergeArgs, Format};
use crate::context::{self, Context};
use crate::escape::controls;
use crate::exit::Outcome;
use crate::redact;
use skein_core::Driver;

pub async fn converge(ctx: &Context, args: ConvergeArgs) -> anyhow::Result<Outcome> {
    use skein_core::schema::converge::{ConvergeOutcome, ConvergePlan, apply};
    let db = ctx.workspace.database(&args.database)?;
    let urls = ctx.urls(&[db]).await?;
    let migrations = context::migrations(db)?;
    let options = ctx.connect_options(db, &args.lock)?;
    let url = context::url_of(db, &urls)?.to_owned();
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
                skein_core::schema::replay::replay(&url, &migrations, head, &options).await?;
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
        Err(e) => return Ok(super::failed_alone(ctx, "converge", db, &e)),
    };
    if ctx.format == Format::Json {
        let doc = serde_json::json!({ "command": "converge", "database": db.name, "plan": plan, "applied": outcome });
        crate::report::print_json(doc, Some(&ctx.workspace.profile));
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
