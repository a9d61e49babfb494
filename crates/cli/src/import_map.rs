//! `skein-import.toml`, written by `skein import` beside the migrations it wrote: each
//! migration's id in the other tool (an Alembic revision, a Flyway script) and its version
//! here. `adopt` maps the other tool's history through it, and targets may name a
//! migration by its old id.

use skein_config::ResolvedDatabase;
use skein_core::Version;
use skein_core::adopt::AdoptError;
use std::collections::BTreeMap;
use std::path::Path;

/// The file's name, in the folder the migrations were imported into.
pub const FILE: &str = "skein-import.toml";

/// What `skein-import.toml` says.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportMap {
    /// The tool the migrations were imported from (`alembic`, `golang-migrate`).
    pub from: Option<String>,
    /// That tool's history table, when it is not the tool's usual one (an Alembic
    /// project's `version_table`).
    pub table: Option<String>,
    /// Each migration's id there and its version here.
    pub versions: BTreeMap<String, Version>,
}

/// `folder`'s `skein-import.toml`; an empty map when there is no such file.
pub fn read(folder: &Path) -> Result<ImportMap, AdoptError> {
    let path = folder.join(FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(ImportMap::default());
    };
    let document = toml_edit::ImDocument::parse(text).map_err(|e| AdoptError::Mapping {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let text_of = |key: &str| {
        document
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let mut map = ImportMap {
        from: text_of("from"),
        table: text_of("table"),
        versions: BTreeMap::new(),
    };
    if let Some(versions) = document.get("versions").and_then(|v| v.as_table_like()) {
        for (id, version) in versions.iter() {
            if let Some(version) = version.as_integer() {
                map.versions.insert(id.to_owned(), version);
            }
        }
    }
    Ok(map)
}

/// A database's map: for a model, its template's (where the ids were imported) with its
/// own folder's over it; else its folder's.
pub fn of_database(db: &ResolvedDatabase) -> Result<ImportMap, AdoptError> {
    let mut map = match &db.template {
        Some(template) => read(template)?,
        None => ImportMap::default(),
    };
    let own = read(&db.migrations)?;
    map.from = own.from.or(map.from);
    map.table = own.table.or(map.table);
    map.versions.extend(own.versions);
    Ok(map)
}
