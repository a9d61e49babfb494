//! `inspect`: a database's live schema, normalised, with its fingerprint.

use crate::context::Context;
use crate::options::Format;
use crate::report::live::SchemaInfo;
use crate::report::{Body, DatabaseReport, Detail, Status};
use skein_core::Driver;

pub async fn inspect(ctx: &Context) -> anyhow::Result<Body> {
    let db = ctx.select_one("inspect")?;
    let urls = ctx.connection_urls(&[db]).await?;
    let result = async {
        let mut conn = ctx.prepare(db, &urls)?.open_read_only().await?;
        let dialect = conn.dialect();
        let schema = conn.inspect().await;
        conn.close().await;
        schema.map(|s| (s, dialect))
    }
    .await;
    let (schema, dialect) = match result {
        Ok(found) => found,
        Err(e) => return Ok(super::failed_alone(db, &e)),
    };
    if ctx.options.format == Format::Sql && dialect.backend().dump(&schema).is_none() {
        return Err(skein_core::driver::mysql_ddl_unsupported(
            "inspect --format sql of a generated column",
        )
        .into());
    }
    let info = SchemaInfo {
        dialect,
        fingerprint: schema.fingerprint(),
        schema,
    };
    let report = DatabaseReport::new(&db.name, Status::Ok, Detail::Inspect(info));
    Ok(super::finish(ctx, vec![report]))
}
