//! `db create`, `db drop`, `db reset` and `wait`: the databases themselves.

use super::finish;
use super::migrate::{Mode, run_one, run_options};
use crate::context::Context;
use crate::fleet;
use crate::preflight::UsageProblem;
use crate::report::{Body, DatabaseReport, Detail, Status};
use skein_config::{DatabaseUrls, ResolvedDatabase};
use skein_core::plan::Target;

pub async fn create(ctx: &mut Context) -> anyhow::Result<Body> {
    let run =
        async |ctx: &Context, databases: &[&ResolvedDatabase]| create_each(ctx, databases).await;
    let phased = crate::listing::in_phases(ctx, run).await?;
    Ok(super::unlisted(
        phased.unlisted,
        finish(ctx, phased.reports),
    ))
}

async fn create_each(
    ctx: &Context,
    databases: &[&ResolvedDatabase],
) -> anyhow::Result<Vec<DatabaseReport>> {
    let urls = ctx.connection_urls(databases).await?;
    let connect_timeout = ctx.connect_timeout();
    let reports = fleet::run(databases, &ctx.fleet(&urls), |db| {
        let prepared = ctx.prepare(db, &urls);
        async move {
            let created = match prepared {
                Ok(prepared) => {
                    skein_core::driver::create_database(prepared.url, connect_timeout, &ctx.stop)
                        .await
                }
                Err(e) => Err(e),
            };
            match created {
                Ok(true) => DatabaseReport::new(&db.name, Status::Ok, Detail::None {}),
                Ok(false) => DatabaseReport::new(&db.name, Status::UpToDate, Detail::None {}),
                Err(e) => DatabaseReport::failed(&db.name, &e),
            }
        }
    })
    .await;
    Ok(reports)
}

/// What `db drop` and `db reset` do to each database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Drop it: `ok` when it was dropped, `up_to_date` when there was none.
    Drop,
    /// Drop it, create it and migrate it to head.
    Reset,
}

impl Removal {
    fn command(self) -> &'static str {
        match self {
            Removal::Drop => "db drop",
            Removal::Reset => "db reset",
        }
    }
}

/// `db drop` and `db reset`: refused on a protected profile, confirmed on a terminal or
/// by `--yes`, before any database is touched.
pub async fn remove(ctx: &Context, removal: Removal, yes: bool) -> anyhow::Result<Body> {
    let command = removal.command();
    if ctx.workspace.settings.protected {
        return Err(UsageProblem {
            argument: None,
            message: format!(
                "profile `{}` is protected (`protected = true` in {}): `{command}` refuses to run on it",
                ctx.workspace.profile,
                ctx.workspace.config_path.display()
            ),
        }
        .into());
    }
    let databases = ctx.select_explicit(command)?;
    let urls = match removal {
        Removal::Drop => ctx.connection_urls(&databases).await?,
        Removal::Reset => ctx.urls(&databases).await?,
    };
    if !yes {
        confirm(ctx, command, &databases, &urls)?;
    }
    let options = run_options(ctx, false);
    let connect_timeout = ctx.connect_timeout();
    let reports = fleet::run(&databases, &ctx.unordered_fleet(&urls), |db| {
        let (urls, options) = (&urls, &options);
        async move {
            let url = match ctx.prepare(db, urls) {
                Ok(prepared) => prepared.url,
                Err(e) => return DatabaseReport::failed(&db.name, &e),
            };
            let existed =
                match skein_core::driver::remove_database(url, connect_timeout, &ctx.stop).await {
                    Ok(existed) => existed,
                    Err(e) => return DatabaseReport::failed(&db.name, &e),
                };
            if removal == Removal::Drop {
                let status = if existed {
                    Status::Ok
                } else {
                    Status::UpToDate
                };
                return DatabaseReport::new(&db.name, status, Detail::None {});
            }
            if let Err(e) =
                skein_core::driver::create_database(url, connect_timeout, &ctx.stop).await
            {
                return DatabaseReport::failed(&db.name, &e);
            }
            let head = Target::Up {
                to: None,
                steps: None,
            };
            run_one(ctx, db, urls, head, options, Mode::Apply)
                .await
                .created()
        }
    })
    .await;
    Ok(finish(ctx, reports))
}

/// Asks on the terminal before dropping; elsewhere `--yes` must be given.
fn confirm(
    ctx: &Context,
    command: &str,
    databases: &[&ResolvedDatabase],
    urls: &DatabaseUrls,
) -> anyhow::Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return Err(UsageProblem {
            argument: Some("--yes"),
            message: format!(
                "`{command}` drops databases and stdin is not a terminal to ask on: add --yes"
            ),
        }
        .into());
    }
    let mut question = format!(
        "`{command}` drops {} database(s) of profile `{}`:\n",
        databases.len(),
        ctx.workspace.profile
    );
    for db in databases {
        let shown = ctx
            .prepare(db, urls)
            .map(|t| t.shown_url())
            .unwrap_or_default();
        question.push_str(&format!("  {} ({shown})\n", db.name));
    }
    question.push_str("Type `yes` to go on: ");
    crate::redact::err_inline(&question);
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() != "yes" {
        anyhow::bail!("`{command}` not confirmed: nothing was dropped");
    }
    Ok(())
}

/// `wait`: until the server of every selected database accepts connections, up to
/// `--connect-timeout`; the servers that did not are failed, with how long it tried.
/// `wait`: the queried database of a `names_from` first (the models are known only once
/// it answers), then the rest, models included.
pub async fn wait(ctx: &mut Context) -> anyhow::Result<Body> {
    let run =
        async |ctx: &Context, databases: &[&ResolvedDatabase]| wait_each(ctx, databases).await;
    let phased = crate::listing::in_phases(ctx, run).await?;
    Ok(super::unlisted(
        phased.unlisted,
        finish(ctx, phased.reports),
    ))
}

async fn wait_each(
    ctx: &Context,
    databases: &[&ResolvedDatabase],
) -> anyhow::Result<Vec<DatabaseReport>> {
    let urls = ctx.connection_urls(databases).await?;
    let connect_timeout = ctx.connect_timeout();
    let reports = fleet::run(databases, &ctx.unordered_fleet(&urls), |db| {
        let url = ctx.prepare(db, &urls).map(|t| t.url);
        async move {
            let reached = match url {
                Ok(url) => {
                    skein_core::driver::wait_for_server(url, connect_timeout, &ctx.stop).await
                }
                Err(e) => Err(e),
            };
            match reached {
                Ok(()) => DatabaseReport::new(&db.name, Status::Ok, Detail::None {}),
                Err(e) => DatabaseReport::failed(&db.name, &e),
            }
        }
    })
    .await;
    Ok(reports)
}
