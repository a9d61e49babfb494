//! `db create`: creates the configured databases that do not exist.

use super::finish;
use crate::context::Context;
use crate::fleet;
use crate::report::{Body, DatabaseReport, Status};
use skein_config::ResolvedDatabase;

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
        let target = ctx.target(db, &urls);
        async move {
            let created = match target {
                Ok(target) => {
                    skein_core::driver::create_database(target.url, connect_timeout, &ctx.stop)
                        .await
                }
                Err(e) => Err(e),
            };
            match created {
                Ok(true) => DatabaseReport::new(&db.name, Status::Ok),
                Ok(false) => DatabaseReport::new(&db.name, Status::UpToDate),
                Err(e) => DatabaseReport::failed(&db.name, &e),
            }
        }
    })
    .await;
    Ok(reports)
}
