//! `db create`: creates the configured databases that do not exist.

use super::finish;
use crate::cli::DbCreateArgs;
use crate::context::Context;
use crate::exit::Outcome;
use crate::fleet;
use crate::report::{DatabaseReport, Status};

pub async fn create(ctx: &Context, args: DbCreateArgs) -> anyhow::Result<Outcome> {
    let databases = ctx.select(&args.selection, &args.fleet)?;
    let urls = ctx.connection_urls(&databases).await?;
    let connect_timeout = ctx.connect_timeout(&args.lock);
    let reports = fleet::run(&databases, &ctx.fleet(&args.fleet, &urls), |db| {
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
    Ok(finish(ctx, "db create", reports))
}
