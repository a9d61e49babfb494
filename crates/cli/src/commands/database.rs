//! `db create`: creates the configured databases that do not exist.

use super::finish;
use crate::cli::DbCreateArgs;
use crate::context::Context;
use crate::fleet;
use crate::report::{Body, DatabaseReport, Status};
use skein_config::ResolvedDatabase;

pub async fn create(ctx: &mut Context, args: DbCreateArgs) -> anyhow::Result<Body> {
    let run = async |ctx: &Context, databases: &[&ResolvedDatabase]| {
        create_each(ctx, databases, &args).await
    };
    let phased = crate::listing::in_phases(ctx, &args.selection, &args.fleet, run).await?;
    Ok(super::unlisted(
        phased.unlisted,
        finish(ctx, phased.reports),
    ))
}

async fn create_each(
    ctx: &Context,
    databases: &[&ResolvedDatabase],
    args: &DbCreateArgs,
) -> anyhow::Result<Vec<DatabaseReport>> {
    let urls = ctx.connection_urls(databases).await?;
    let connect_timeout = ctx.connect_timeout(&args.lock);
    let reports = fleet::run(databases, &ctx.fleet(&args.fleet, &urls), |db| {
        let url = urls.urls.get(&db.name).map(|u| u.expose().to_owned());
        async move {
            let Some(url) = url else {
                return DatabaseReport::skipped(&db.name, "no URL".to_owned());
            };
            match skein_core::driver::create_database(&url, connect_timeout, &ctx.stop).await {
                Ok(true) => DatabaseReport::new(&db.name, Status::Ok),
                Ok(false) => DatabaseReport::new(&db.name, Status::UpToDate),
                Err(e) => DatabaseReport::failed(&db.name, &e),
            }
        }
    })
    .await;
    Ok(reports)
}
