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

/// The ids mapped to versions in `folder`'s `skein-import.toml`; none when there is no
/// such file.
pub fn read(folder: &Path) -> Result<BTreeMap<String, Version>, AdoptError> {
    let path = folder.join(FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(BTreeMap::new());
    };
    let document = toml_edit::ImDocument::parse(text).map_err(|e| AdoptError::Mapping {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let mut mapping = BTreeMap::new();
    if let Some(versions) = document.get("versions").and_then(|v| v.as_table_like()) {
        for (id, version) in versions.iter() {
            if let Some(version) = version.as_integer() {
                mapping.insert(id.to_owned(), version);
            }
        }
    }
    Ok(mapping)
}

/// A database's map: for a model, its template's (where the ids were imported) with its
/// own folder's over it; else its folder's.
pub fn of_database(db: &ResolvedDatabase) -> Result<BTreeMap<String, Version>, AdoptError> {
    let mut mapping = match &db.template {
        Some(template) => read(template)?,
        None => BTreeMap::new(),
    };
    mapping.extend(read(&db.migrations)?);
    Ok(mapping)
}
