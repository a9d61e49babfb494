//! `show VERSION|head`: one migration of one database, its SQL and where it stands.

use crate::cli::ShowArgs;
use crate::context::Context;
use crate::report::{Body, ErrorReport, sections::ShowReport};
use skein_core::Driver;
use skein_core::engine;

pub async fn show(ctx: &Context, args: ShowArgs) -> anyhow::Result<Body> {
    let db = ctx.select_one("show")?;
    let migrations = crate::context::migrations(db)?;
    let version = match args.target.trim() {
        "head" => migrations.iter().map(|m| m.version).max().ok_or_else(|| {
            anyhow::anyhow!(
                "database `{}` has no migration yet: `skein new \"...\"` writes one",
                db.name
            )
        })?,
        text => crate::targets::version(text, &[db])?,
    };
    let migration = migrations
        .iter()
        .find(|m| m.version == version)
        .expect("the version was found among the migrations");
    let mut files = vec![
        crate::context::relative(&migration.up.path)
            .display()
            .to_string(),
    ];
    if let Some(down) = &migration.down {
        files.push(crate::context::relative(&down.path).display().to_string());
    }
    let mut report = ShowReport {
        database: db.name.clone(),
        version,
        description: migration.description.clone(),
        state: None,
        files,
        checksum: migration.checksum.to_string(),
        applied: None,
        up_sql: migration.up.sql.clone(),
        down_sql: migration.down.as_ref().map(|d| d.sql.clone()),
        error: None,
    };
    let urls = ctx.urls(&[db]).await?;
    let inventory = async {
        let prepared = ctx.prepare(db, &urls)?;
        let mut conn = prepared.open_read_only().await?;
        let inventory = engine::inventory(&mut conn, &migrations).await;
        conn.close().await;
        inventory
    };
    match inventory.await {
        Ok(inventory) => {
            if let Some(entry) = inventory.entries.into_iter().find(|e| e.version == version) {
                report.state = Some(entry.state);
                report.applied = entry.applied;
            }
        }
        Err(e) => report.error = Some(ErrorReport::from_core(&e)),
    }
    Ok(Body::Show(report))
}
