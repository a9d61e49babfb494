//! Small edits to `skein.toml` that commands make for the user (`skein model new` lists a
//! new model), keeping the file's comments and layout.

use crate::error::ConfigError;
use std::path::{Path, PathBuf};

/// A change made to the config file, which can be undone.
#[derive(Debug)]
pub struct FileEdit {
    pub path: PathBuf,
    /// The table the change went into (`default.models`).
    pub table: String,
    /// The name added.
    model: String,
}

impl FileEdit {
    /// Takes the name back out of the list, leaving whatever else changed in the file
    /// meanwhile (another `model new` may have listed its own name since).
    pub fn undo(self) -> Result<(), ConfigError> {
        let (profile, _) = self.table.split_once('.').unwrap_or((&self.table, ""));
        update_document(&self.path, |document| {
            let names = document
                .get_mut(profile)
                .and_then(|p| p.get_mut("models"))
                .and_then(|m| m.get_mut("names"))
                .and_then(toml_edit::Item::as_array_mut);
            let Some(names) = names else {
                return Ok(false);
            };
            let before = names.len();
            names.retain(|n| n.as_str() != Some(self.model.as_str()));
            if names.len() == before {
                return Ok(false);
            }
            if let Some(first) = names.get_mut(0) {
                first.decor_mut().set_prefix("");
            }
            Ok(true)
        })
    }
}

/// Adds `model` to the `names` list of the models of `profile`: in `[<profile>.models]`
/// when that table has a `names` list, else in `[default.models]` (made if need be).
/// Refused when the name is listed there already, as another run may just have done.
pub fn add_model_name(path: &Path, profile: &str, model: &str) -> Result<FileEdit, ConfigError> {
    let invalid = |problem: String| ConfigError::Invalid(format!("{}: {problem}", path.display()));
    let has_names = |document: &toml_edit::DocumentMut, profile: &str| {
        document
            .get(profile)
            .and_then(|p| p.get("models"))
            .and_then(|m| m.get("names"))
            .is_some()
    };
    let mut table = String::new();
    update_document(path, |document| {
        let profile = if has_names(document, profile) {
            profile
        } else {
            "default"
        };
        table = format!("{profile}.models");
        let models = document
            .entry(profile)
            .or_insert_with(implicit_table)
            .as_table_like_mut()
            .and_then(|p| {
                p.entry("models")
                    .or_insert(toml_edit::table())
                    .as_table_like_mut()
            })
            .ok_or_else(|| invalid(format!("`{table}` is not a table")))?;
        let names = models
            .entry("names")
            .or_insert(toml_edit::value(toml_edit::Array::new()))
            .as_array_mut()
            .ok_or_else(|| invalid(format!("`{table}.names` is not a list of names")))?;
        if names.iter().any(|n| n.as_str() == Some(model)) {
            return Err(ConfigError::AlreadyListed {
                model: model.to_owned(),
                path: path.to_owned(),
                table: table.clone(),
            });
        }
        names.push(model);
        Ok(true)
    })?;
    Ok(FileEdit {
        path: path.to_owned(),
        table,
        model: model.to_owned(),
    })
}

/// Edits the TOML document at `path` under its lock; `edit` says whether it changed it.
fn update_document(
    path: &Path,
    edit: impl FnOnce(&mut toml_edit::DocumentMut) -> Result<bool, ConfigError>,
) -> Result<(), ConfigError> {
    crate::user_file::update(path, |text| {
        let mut document: toml_edit::DocumentMut = text.parse().map_err(|e| {
            ConfigError::Invalid(format!("{}: cannot parse it: {e}", path.display()))
        })?;
        let changed = edit(&mut document)?;
        Ok((changed.then(|| document.to_string()), ()))
    })
}

fn implicit_table() -> toml_edit::Item {
    let mut table = toml_edit::Table::new();
    table.set_implicit(true);
    toml_edit::Item::Table(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(text: &str, profile: &str, model: &str) -> (String, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("skein.toml");
        std::fs::write(&path, text).unwrap();
        let edit = add_model_name(&path, profile, model).unwrap();
        (std::fs::read_to_string(&path).unwrap(), edit.table)
    }

    #[test]
    fn appends_to_the_default_models_keeping_comments() {
        let (text, table) = edit(
            "# top\n[default.models] # the models\ntemplate = \"t\"\n",
            "pg",
            "aave_v3",
        );
        assert_eq!(table, "default.models");
        assert!(
            text.starts_with("# top\n[default.models] # the models\n"),
            "{text}"
        );
        assert!(text.contains("names = [\"aave_v3\"]"), "{text}");
        let (again, _) = edit(&text, "default", "b");
        assert!(again.contains("names = [\"aave_v3\", \"b\"]"), "{again}");
    }

    #[test]
    fn goes_to_the_profile_whose_list_is_in_force() {
        let (text, table) = edit(
            "[default.models]\nnames = [\"a\"]\n[pg.models]\nnames = [\"p\"]\n",
            "pg",
            "n",
        );
        assert_eq!(table, "pg.models");
        assert!(text.contains("names = [\"p\", \"n\"]"), "{text}");
        assert!(text.contains("names = [\"a\"]\n"), "{text}");
    }

    #[test]
    fn undo_takes_back_only_its_own_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("skein.toml");
        let original = "[default.models]\n";
        std::fs::write(&path, original).unwrap();
        let first = add_model_name(&path, "default", "m").unwrap();
        add_model_name(&path, "default", "n").unwrap();
        assert!(matches!(
            add_model_name(&path, "default", "m"),
            Err(ConfigError::AlreadyListed { .. })
        ));
        first.undo().unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{original}names = [\"n\"]\n")
        );
    }
}
