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
    before: String,
}

impl FileEdit {
    /// Puts the file back as it was.
    pub fn undo(self) -> std::io::Result<()> {
        std::fs::write(&self.path, self.before)
    }
}

/// Adds `model` to the `names` list of the models of `profile`: in `[<profile>.models]`
/// when that table has a `names` list, else in `[default.models]` (made if need be).
pub fn add_model_name(path: &Path, profile: &str, model: &str) -> Result<FileEdit, ConfigError> {
    let invalid = |problem: String| ConfigError::Invalid(format!("{}: {problem}", path.display()));
    let before = std::fs::read_to_string(path)
        .map_err(|e| invalid(format!("cannot read it to list the model: {e}")))?;
    let mut document: toml_edit::DocumentMut = before
        .parse()
        .map_err(|e| invalid(format!("cannot parse it: {e}")))?;
    let has_names = |document: &toml_edit::DocumentMut, profile: &str| {
        document
            .get(profile)
            .and_then(|p| p.get("models"))
            .and_then(|m| m.get("names"))
            .is_some()
    };
    let profile = if has_names(&document, profile) {
        profile
    } else {
        "default"
    };
    let table = format!("{profile}.models");
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
    if !names.iter().any(|n| n.as_str() == Some(model)) {
        names.push(model);
    }
    std::fs::write(path, document.to_string())
        .map_err(|e| invalid(format!("cannot write it: {e}")))?;
    Ok(FileEdit {
        path: path.to_owned(),
        table,
        before,
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
    fn undo_puts_the_file_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("skein.toml");
        let original = "[default.models]\n";
        std::fs::write(&path, original).unwrap();
        add_model_name(&path, "default", "m")
            .unwrap()
            .undo()
            .unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
    }
}
