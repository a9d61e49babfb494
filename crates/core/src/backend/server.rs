//! Creating, finding and dropping a database on its server, written once: a backend says
//! how it reaches its server's catalog (a connection of its own) and the SQL of each
//! step ([`Catalog`]); the steps are the same on every server.

use crate::error::{Error, Result};
use sqlx::AssertSqlSafe;

/// The SQL a server's catalog is read and changed with.
pub(crate) struct Catalog {
    /// Counts the databases named the bound value.
    pub count: &'static str,
    /// The statement that creates the database `name`.
    pub create: fn(name: &str) -> String,
    /// The statement that drops the database `name` if it is there.
    pub drop: fn(name: &str) -> String,
    /// An error of `create` that says the database is there after all (another run made
    /// it between the look and the CREATE): what was asked.
    pub exists_already: fn(&sqlx::Error) -> bool,
}

impl Catalog {
    /// Creates `name` if it is not there; whether it was created.
    pub async fn create<C>(&self, mut admin: C, name: &str) -> Result<bool>
    where
        C: sqlx::Connection,
        for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
        for<'q> String: sqlx::Encode<'q, C::Database> + sqlx::Type<C::Database>,
        for<'r> i64: sqlx::Decode<'r, C::Database> + sqlx::Type<C::Database>,
        (i64,): for<'r> sqlx::FromRow<'r, <C::Database as sqlx::Database>::Row>,
        <C::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<C::Database>,
    {
        let mut created = false;
        if !self.exists_on(&mut admin, name).await? {
            created = match sqlx::raw_sql(AssertSqlSafe((self.create)(name)))
                .execute(&mut admin)
                .await
            {
                Ok(_) => true,
                Err(err) if (self.exists_already)(&err) => false,
                Err(source) => {
                    return Err(Error::Database {
                        action: format!("creating database {name}"),
                        source: source.into(),
                    });
                }
            };
        }
        let _ = admin.close().await;
        Ok(created)
    }

    /// Whether `name` is there.
    pub async fn exists<C>(&self, mut admin: C, name: &str) -> Result<bool>
    where
        C: sqlx::Connection,
        for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
        for<'q> String: sqlx::Encode<'q, C::Database> + sqlx::Type<C::Database>,
        for<'r> i64: sqlx::Decode<'r, C::Database> + sqlx::Type<C::Database>,
        (i64,): for<'r> sqlx::FromRow<'r, <C::Database as sqlx::Database>::Row>,
        <C::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<C::Database>,
    {
        let exists = self.exists_on(&mut admin, name).await;
        let _ = admin.close().await;
        exists
    }

    /// Drops `name` if it is there.
    pub async fn drop<C>(&self, mut admin: C, name: &str) -> Result<()>
    where
        C: sqlx::Connection,
        for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
    {
        sqlx::raw_sql(AssertSqlSafe((self.drop)(name)))
            .execute(&mut admin)
            .await
            .map_err(Error::database(format!("dropping database {name}")))?;
        let _ = admin.close().await;
        Ok(())
    }

    async fn exists_on<C>(&self, admin: &mut C, name: &str) -> Result<bool>
    where
        C: sqlx::Connection,
        for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
        for<'q> String: sqlx::Encode<'q, C::Database> + sqlx::Type<C::Database>,
        for<'r> i64: sqlx::Decode<'r, C::Database> + sqlx::Type<C::Database>,
        (i64,): for<'r> sqlx::FromRow<'r, <C::Database as sqlx::Database>::Row>,
        <C::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<C::Database>,
    {
        let count: i64 = sqlx::query_scalar(self.count)
            .bind(name.to_owned())
            .fetch_one(admin)
            .await
            .map_err(Error::database("looking for the database"))?;
        Ok(count > 0)
    }
}
