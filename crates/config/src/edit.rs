//! Small edits to `skein.toml` that commands make for the user (`skein model new` lists a
//! new model), keeping the file's comments and layout.

use crate::error::ConfigError;
use std::path::{Path, PathBuf};

/// A change made to the config file, which can be undone.
#[derive(Debug)]
pub struct FileEdit {
    pub path: PathBuf,
    /// The table the change went into (`default.models`, `default.sets.miner`).
    pub table: String,
    /// The name added.
    model: String,
}

/// The item at `path` (dotted keys, one per segment) of the document, if there is one.
fn item_mut<'a>(
    document: &'a mut toml_edit::DocumentMut,
    path: &[&str],
) -> Option<&'a mut toml_edit::Item> {
    // Not `Item::get_mut`, which puts an empty item at a key that is missing.
    let (first, rest) = path.split_first()?;
    let mut item = document.as_table_mut().get_mut(first)?;
    for key in rest {
        item = item.as_table_like_mut()?.get_mut(key)?;
    }
    Some(item)
}

impl FileEdit {
    /// Takes the name back out of the list, leaving whatever else changed in the file
    /// meanwhile (another `model new` may have listed its own name since).
    pub fn undo(self) -> Result<(), ConfigError> {
        let mut path: Vec<&str> = self.table.split('.').collect();
        path.push("names");
        update_document(&self.path, |document| {
            let names = item_mut(document, &path).and_then(toml_edit::Item::as_array_mut);
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

/// Adds `model` to the `names` list of the set whose table is `set_key` (`models`,
/// `sets.miner`) in `profile`: in `[<profile>.<set_key>]` when that table has a `names`
/// list, else in `[default.<set_key>]` (made if need be). Refused when the name is listed
/// there already, as another run may just have done.
pub fn add_model_name(
    path: &Path,
    profile: &str,
    set_key: &str,
    model: &str,
) -> Result<FileEdit, ConfigError> {
    let invalid = |problem: String| ConfigError::Edit {
        path: path.to_owned(),
        problem,
    };
    let set_path: Vec<&str> = set_key.split('.').collect();
    let has_names = |document: &mut toml_edit::DocumentMut, profile: &str| {
        let mut names = vec![profile];
        names.extend(&set_path);
        names.push("names");
        item_mut(document, &names).is_some()
    };
    let mut table = String::new();
    update_document(path, |document| {
        let profile = if has_names(document, profile) {
            profile
        } else {
            "default"
        };
        table = format!("{profile}.{set_key}");
        let mut item = document.entry(profile).or_insert_with(implicit_table);
        for (i, key) in set_path.iter().enumerate() {
            let last = i + 1 == set_path.len();
            item = item
                .as_table_like_mut()
                .ok_or_else(|| invalid(format!("`{table}` is not a table")))?
                .entry(key)
                .or_insert_with(|| {
                    if last {
                        toml_edit::table()
                    } else {
                        implicit_table()
                    }
                });
        }
        let set = item
            .as_table_like_mut()
            .ok_or_else(|| invalid(format!("`{table}` is not a table")))?;
        let names = set
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
        let mut document: toml_edit::DocumentMut = text.parse().map_err(|e| ConfigError::Edit {
            path: path.to_owned(),
            problem: format!("cannot parse it: {e}"),
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
        let edit = add_model_name(&path, profile, "models", model).unwrap();
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
        let first = add_model_name(&path, "default", "models", "m").unwrap();
        add_model_name(&path, "default", "models", "n").unwrap();
        assert!(matches!(
            add_model_name(&path, "default", "models", "m"),
            Err(ConfigError::AlreadyListed { .. })
        ));
        first.undo().unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{original}names = [\"n\"]\n")
        );
    }

    #[test]
    fn a_named_set_gets_its_own_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("skein.toml");
        let original = "[default.sets.miner]\ntemplate = \"t\"\n\n[default.sets.validator]\nnames = [\"v1\"]\n";
        std::fs::write(&path, original).unwrap();
        let edit = add_model_name(&path, "pg", "sets.miner", "m6").unwrap();
        assert_eq!(edit.table, "default.sets.miner");
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "[default.sets.miner]\ntemplate = \"t\"\nnames = [\"m6\"]\n\n[default.sets.validator]\nnames = [\"v1\"]\n"
        );
        add_model_name(&path, "default", "sets.validator", "v2").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("names = [\"v1\", \"v2\"]"), "{text}");
        edit.undo().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("[default.sets.miner]\ntemplate = \"t\"\nnames = []"),
            "{text}"
        );
        // A set not written yet is made under [default.sets.<name>].
        add_model_name(&path, "default", "sets.relay", "r1").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("[default.sets.relay]\nnames = [\"r1\"]"),
            "{text}"
        );
    }
}
