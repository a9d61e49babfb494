//! The members a set's `names_from` query lists: run once per command against the
//! database it names, after that database was migrated when the command migrates it, and
//! added to the workspace before any member database is touched.

use crate::context::Context;
use crate::report::{DatabaseReport, Status};
use anyhow::Context as _;
use skein_config::{FoundModel, ResolvedDatabase, Selection};
use skein_core::Driver as _;
use skein_core::driver::rows::{Cell, Rows};
use std::collections::BTreeSet;

impl Context {
    /// Whether `selection` may take in members that only a `names_from` query knows:
    /// everything, a listed set's groups, or a name the configuration does not list.
    pub fn needs_listing(&self, selection: &Selection) -> bool {
        let queries = self.workspace.names_queries();
        if queries.is_empty() {
            return false;
        }
        if selection.databases.is_empty() && selection.groups.is_empty() {
            return true;
        }
        let listed_groups: BTreeSet<String> = queries
            .iter()
            .flat_map(|(set, _)| self.workspace.set_groups(set))
            .collect();
        selection.groups.iter().any(|g| listed_groups.contains(g))
            // A member named here may be one a query lists (and gives its variables).
            || selection
                .databases
                .iter()
                .any(|name| match self.workspace.database(name) {
                    Ok(db) => db.is_model,
                    Err(_) => true,
                })
    }

    /// Runs the `names_from` queries when `selection` needs them and adds the members
    /// they list.
    pub async fn list_models_for(&mut self, selection: &Selection) -> anyhow::Result<()> {
        if self.needs_listing(selection) {
            self.list_models().await?;
        }
        Ok(())
    }

    /// Runs each set's `names_from` query and adds the members it lists. If a query
    /// fails, the error names the set, the database and the query; no member database
    /// has been touched.
    pub async fn list_models(&mut self) -> anyhow::Result<()> {
        let queries: Vec<(String, String, skein_config::settings::NamesFrom)> = self
            .workspace
            .names_queries()
            .into_iter()
            .map(|(set, from)| (set.name.clone(), set.key.clone(), from.clone()))
            .collect();
        for (set, key, from) in queries {
            let failed = || {
                format!(
                    "{key}.names_from: the query `{}` on `{}` failed, so the members of `{set}` are not known and none was touched (a new `{1}` needs its migrations first: `skein up --create` migrates it, then lists and makes the members)",
                    from.query, from.db
                )
            };
            let db = self.workspace.database(&from.db)?.clone();
            let rows = self.query(&db, &from.query).await.with_context(failed)?;
            let found = models_of(rows).with_context(failed)?;
            self.workspace.add_models(&set, found)?;
        }
        Ok(())
    }

    async fn query(&self, db: &ResolvedDatabase, sql: &str) -> anyhow::Result<Rows> {
        let urls = self.connection_urls(&[db]).await?;
        let mut conn = self.prepare(db, &urls)?.open_read_only().await?;
        let rows = tokio::select! {
            rows = conn.query_rows(sql) => rows,
            () = self.stop.requested() => {
                return Err(skein_core::Error::Stopped { during: "listing the models" }.into());
            }
        };
        conn.close().await;
        Ok(rows?)
    }
}

/// The first column of each row is a model's name; the others are its variables.
fn models_of(rows: Rows) -> anyhow::Result<Vec<FoundModel>> {
    let Some((_, variables)) = rows.columns.split_first() else {
        return Ok(Vec::new());
    };
    rows.rows
        .into_iter()
        .map(|row| {
            let mut cells = row.into_iter();
            let name = match cells.next() {
                Some(Cell::String(name)) => name,
                other => anyhow::bail!(
                    "its first column must be the model's name, as text; a row has {}",
                    other.map_or_else(|| "nothing".to_owned(), |c| c.to_string())
                ),
            };
            // A NULL column gives the model no such variable: a template that uses it
            // then says so, instead of rendering `none`.
            let vars = variables
                .iter()
                .cloned()
                .zip(cells)
                .filter(|(_, cell)| !cell.is_null())
                .collect();
            Ok(FoundModel { name, vars })
        })
        .collect()
}

/// The reports of a run in phases, and why it stopped early, if it did.
pub struct Phased {
    pub reports: Vec<DatabaseReport>,
    /// The models could not be listed: the listed database failed, or the query did.
    pub unlisted: Option<anyhow::Error>,
}

/// Runs `run` over the selected databases. When they include models that a `names_from`
/// query lists, `run` goes first over the queried database (and those it depends on), if
/// selected, so that a model an infra migration adds is seen; then the query runs; then
/// `run` goes over the rest, models included.
pub async fn in_phases(
    ctx: &mut Context,
    run: impl AsyncFn(&Context, &[&ResolvedDatabase]) -> anyhow::Result<Vec<DatabaseReport>>,
) -> anyhow::Result<Phased> {
    let selection = &ctx.options.selection.clone();
    let mut reports = Vec::new();
    if ctx.needs_listing(selection) {
        let first = ctx.listed_database_first(selection)?;
        if !first.is_empty() {
            reports = run(ctx, &first).await?;
            if let Some(failed) = reports.iter().find(|r| {
                matches!(
                    r.status,
                    Status::Failed | Status::Skipped | Status::Interrupted
                )
            }) {
                let unlisted = anyhow::anyhow!(
                    "the models were not listed: `{}` did not finish, so its names_from query did not run; no model database was touched",
                    failed.name
                );
                return Ok(Phased {
                    reports,
                    unlisted: Some(unlisted),
                });
            }
        }
        if let Err(unlisted) = ctx.list_models().await {
            if reports.is_empty() {
                return Err(unlisted);
            }
            return Ok(Phased {
                reports,
                unlisted: Some(unlisted),
            });
        }
    }
    let done: BTreeSet<String> = reports.iter().map(|r| r.name.clone()).collect();
    let rest: Vec<&ResolvedDatabase> = ctx
        .select()?
        .into_iter()
        .filter(|db| !done.contains(&db.name))
        .collect();
    match run(ctx, &rest).await {
        Ok(more) => reports.extend(more),
        // The first phase ran: its report stands, and the error is the run's failure.
        Err(err) if !reports.is_empty() => {
            return Ok(Phased {
                reports,
                unlisted: Some(err.context("the models were listed but none was touched")),
            });
        }
        Err(err) => return Err(err),
    }
    Ok(Phased {
        reports,
        unlisted: None,
    })
}

impl Context {
    /// The databases the `names_from` queries run on and those they depend on, in
    /// dependency order, when the selection takes them in; else nothing.
    fn listed_database_first(
        &self,
        selection: &Selection,
    ) -> anyhow::Result<Vec<&ResolvedDatabase>> {
        let everything = selection.databases.is_empty() && selection.groups.is_empty();
        let mut wanted = BTreeSet::new();
        let mut to_visit: Vec<&str> = Vec::new();
        for (_, from) in self.workspace.names_queries() {
            let db = self.workspace.database(&from.db)?;
            let selected = everything
                || selection.databases.contains(&db.name)
                || db.groups.iter().any(|g| selection.groups.contains(g));
            if selected {
                to_visit.push(db.name.as_str());
            }
        }
        while let Some(name) = to_visit.pop() {
            if wanted.insert(name) {
                to_visit.extend(
                    self.workspace
                        .database(name)?
                        .depends_on
                        .iter()
                        .map(String::as_str),
                );
            }
        }
        Ok(self
            .workspace
            .databases
            .iter()
            .filter(|d| wanted.contains(d.name.as_str()))
            .collect())
    }
}
