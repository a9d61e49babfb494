//! Where a setting is written: finds a key's line in `skein.toml` and names the source of
//! a value (file and line with its profile, or the environment variable).

use figment::Figment;
use std::path::{Path, PathBuf};

/// The config file's text, parsed with positions.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    document: Option<toml_edit::ImDocument<String>>,
}

impl SourceFile {
    pub fn read(path: &Path) -> Self {
        let document = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| toml_edit::ImDocument::parse(text).ok());
        SourceFile {
            path: path.to_owned(),
            document,
        }
    }

    /// The 1-based line where `[profile] key.path` is set, if the file sets it.
    pub fn line_of(&self, profile: &str, path: &[&str]) -> Option<usize> {
        let document = self.document.as_ref()?;
        let mut table: &dyn toml_edit::TableLike = document.as_table();
        let mut span = None;
        for key in std::iter::once(profile).chain(path.iter().copied()) {
            let (found, item) = table.get_key_value(key)?;
            span = found.span().or_else(|| item.span());
            match item.as_table_like() {
                Some(inner) => table = inner,
                None => break,
            }
        }
        let offset = span?.start;
        Some(
            document.raw()[..offset]
                .bytes()
                .filter(|&b| b == b'\n')
                .count()
                + 1,
        )
    }

    fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// Where the value at `key` (dotted, within the selected profile) came from:
/// `skein.toml:12 [pg]`, `env SKEIN_DATABASES__INFRA__URL`, or `default`.
pub fn describe_source(figment: &Figment, file: &SourceFile, selected: &str, key: &str) -> String {
    let Ok(value) = figment.find_value(key) else {
        return "default".to_owned();
    };
    let tag = value.tag();
    let Some(metadata) = figment.get_metadata(tag) else {
        return "default".to_owned();
    };
    match &metadata.source {
        Some(figment::Source::File(_)) => {
            // figment tags know default and global; any other profile is the selected one.
            let profile = match tag.profile() {
                Some(profile) => profile.as_str().as_str().to_owned(),
                None => selected.to_owned(),
            };
            let parts: Vec<&str> = key.split('.').collect();
            match file.line_of(&profile, &parts) {
                Some(line) => format!("{}:{line} [{profile}]", file.file_name()),
                None => format!("{} [{profile}]", file.file_name()),
            }
        }
        _ => format!("env {}", env_name(key)),
    }
}

/// The environment variable that sets `key`.
pub fn env_name(key: &str) -> String {
    format!(
        "SKEIN_{}",
        key.split('.')
            .map(str::to_uppercase)
            .collect::<Vec<_>>()
            .join("__")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("skein.toml");
        std::fs::write(
            &path,
            "[default]\nhistory_table = \"h\"\n\n[default.databases.infra]\nurl = \"x\"\nport = 1\n\n[pg.models]\nurl = \"y\"\n",
        )
        .unwrap();
        let file = SourceFile::read(&path);
        assert_eq!(file.line_of("default", &["history_table"]), Some(2));
        assert_eq!(
            file.line_of("default", &["databases", "infra", "url"]),
            Some(5)
        );
        assert_eq!(
            file.line_of("default", &["databases", "infra", "port"]),
            Some(6)
        );
        assert_eq!(file.line_of("pg", &["models", "url"]), Some(9));
        assert_eq!(file.line_of("pg", &["models", "dir"]), None);
        assert_eq!(
            env_name("databases.infra.url"),
            "SKEIN_DATABASES__INFRA__URL"
        );
    }
}
