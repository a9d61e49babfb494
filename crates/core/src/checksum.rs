//! The checksum that ties a history row to the file it was applied from.
//!
//! Computed over the normalised text (no BOM, LF line endings) so that a checkout on
//! Windows or an editor that adds a BOM does not make an applied migration look edited.
//! Stored with its algorithm as a prefix so the algorithm can change without breaking old rows.

use sha2::{Digest, Sha256};

/// A migration's checksum, `sha256:<hex>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct Checksum(String);

impl Checksum {
    /// Checksum of text that is already normalised (see [`normalise`]).
    pub fn of_normalised(text: &str) -> Self {
        Checksum(format!(
            "sha256:{}",
            hex::encode(Sha256::digest(text.as_bytes()))
        ))
    }

    /// Wraps a checksum read back from a history table.
    pub fn from_stored(stored: impl Into<String>) -> Self {
        Checksum(stored.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Checksum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Removes a leading UTF-8 BOM and turns CRLF into LF.
pub fn normalise(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains("\r\n") {
        text.replace("\r\n", "\n")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_and_crlf_do_not_change_the_checksum() {
        let plain = Checksum::of_normalised(&normalise("CREATE TABLE t (id INT);\nSELECT 1;\n"));
        let crlf = Checksum::of_normalised(&normalise("CREATE TABLE t (id INT);\r\nSELECT 1;\r\n"));
        let bom = Checksum::of_normalised(&normalise(
            "\u{feff}CREATE TABLE t (id INT);\r\nSELECT 1;\n",
        ));
        assert_eq!(plain, crlf);
        assert_eq!(plain, bom);
        assert!(plain.as_str().starts_with("sha256:"));
        assert_eq!(plain.as_str().len(), 7 + 64);
    }

    #[test]
    fn a_changed_statement_changes_the_checksum() {
        let a = Checksum::of_normalised("SELECT 1;\n");
        let b = Checksum::of_normalised("SELECT 2;\n");
        assert_ne!(a, b);
    }
}
