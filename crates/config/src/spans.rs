//! Where a setting is written: finds a key's line in `skein.toml` and names the source of
//! a value (file and line with its profile, or the environment variable).
//!
//! `config show` asks this for every setting of every database, so each answer costs
//! the same however long the file is: the layers are merged once ([`Origins`]) and the
//! file's line starts are indexed once ([`SourceFile`]).

use figment::Figment;
use figment::value::Value;
use std::path::{Path, PathBuf};

/// The config file's text, parsed with positions.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    document: Option<toml_edit::ImDocument<String>>,
    /// The byte offset where each line after the first starts.
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn read(path: &Path) -> Self {
        Self::from_text(path, std::fs::read_to_string(path).ok())
    }

    /// A configuration that is not read from a file: `path` is where it would be.
    pub fn from_text(path: &Path, text: Option<String>) -> Self {
        let document = text.and_then(|text| toml_edit::ImDocument::parse(text).ok());
        let line_starts = document
            .as_ref()
            .map(|d| {
                d.raw()
                    .bytes()
                    .enumerate()
                    .filter(|&(_, b)| b == b'\n')
                    .map(|(i, _)| i + 1)
                    .collect()
            })
            .unwrap_or_default();
        SourceFile {
            path: path.to_owned(),
            document,
            line_starts,
        }
    }

    /// Whether the file sets nothing at all (it is empty, or only comments and headers).
    pub fn sets_nothing(&self) -> bool {
        fn empty(table: &dyn toml_edit::TableLike) -> bool {
            table
                .iter()
                .all(|(_, item)| item.as_table_like().is_some_and(empty))
        }
        self.document
            .as_ref()
            .is_some_and(|document| empty(document.as_table()))
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
        Some(self.line_starts.partition_point(|&start| start <= offset) + 1)
    }

    fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// Where settings came from: the selected profile's merged layers, computed once, and
/// the config file's positions.
#[derive(Debug, Clone)]
pub struct Origins {
    figment: Figment,
    /// `None` when the layers do not merge; extraction reports why.
    merged: Option<Value>,
    file: SourceFile,
    profile: String,
}

impl Origins {
    pub fn new(figment: Figment, file: SourceFile, profile: String) -> Self {
        let merged = figment.find_value("").ok();
        Origins {
            figment,
            merged,
            file,
            profile,
        }
    }

    pub fn figment(&self) -> &Figment {
        &self.figment
    }

    pub fn file(&self) -> &SourceFile {
        &self.file
    }

    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// Where the value at `key` (dotted, within the selected profile) came from:
    /// `skein.toml:12 [pg]`, `env SKEIN_DATABASES__INFRA__URL`, or `default`.
    pub fn describe(&self, key: &str) -> String {
        let Some(value) = self.merged.as_ref().and_then(|m| m.find_ref(key)) else {
            return "default".to_owned();
        };
        let tag = value.tag();
        let Some(metadata) = self.figment.get_metadata(tag) else {
            return "default".to_owned();
        };
        match &metadata.source {
            Some(figment::Source::File(_)) => {
                // figment tags know default and global; any other profile is the selected one.
                let profile = match tag.profile() {
                    Some(profile) => profile.as_str().as_str().to_owned(),
                    None => self.profile.clone(),
                };
                let parts: Vec<&str> = key.split('.').collect();
                let file = &self.file;
                match file.line_of(&profile, &parts) {
                    Some(line) => format!("{}:{line} [{profile}]", file.file_name()),
                    None => format!("{} [{profile}]", file.file_name()),
                }
            }
            // The one database made from DATABASE_URL (or --url) without a skein.toml.
            None if metadata.name.ends_with("source string") => {
                "DATABASE_URL or --url, --migrations (no skein.toml)".to_owned()
            }
            _ => format!("env {}", env_name(key)),
        }
    }
}

impl Origins {
    /// The file and line where the value at `key` is set, when the file sets it.
    pub fn file_line(&self, key: &str) -> Option<(PathBuf, usize)> {
        let value = self.merged.as_ref()?.find_ref(key)?;
        let tag = value.tag();
        let metadata = self.figment.get_metadata(tag)?;
        if !matches!(metadata.source, Some(figment::Source::File(_))) {
            return None;
        }
        let profile = match tag.profile() {
            Some(profile) => profile.as_str().as_str().to_owned(),
            None => self.profile.clone(),
        };
        let parts: Vec<&str> = key.split('.').collect();
        let line = self.file.line_of(&profile, &parts)?;
        Some((self.file.path.clone(), line))
    }

    /// Whether the value at `key` comes from a `SKEIN_...` environment variable (and not
    /// from the file, which the variable would override).
    pub fn from_environment(&self, key: &str) -> bool {
        let Some(value) = self.merged.as_ref().and_then(|m| m.find_ref(key)) else {
            return false;
        };
        self.figment
            .get_metadata(value.tag())
            .is_some_and(|metadata| {
                metadata.source.is_none() && metadata.name.contains("environment")
            })
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
        assert!(!file.sets_nothing());
        assert_eq!(
            env_name("databases.infra.url"),
            "SKEIN_DATABASES__INFRA__URL"
        );
        for (text, nothing) in [
            ("", true),
            ("# only a comment\n\n[default]\n[default.databases]\n", true),
            ("[default]\nconcurrency = 2\n", false),
        ] {
            std::fs::write(&path, text).unwrap();
            assert_eq!(SourceFile::read(&path).sets_nothing(), nothing, "{text:?}");
        }
    }
}
