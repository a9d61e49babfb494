//! The JSON contract: the schema every `--format json` document follows, generated from
//! the report types and committed as `docs/report.schema.json`.

use super::{Document, SCHEMA_VERSION};

/// The committed schema, relative to the workspace root.
pub const SCHEMA_FILE: &str = "docs/report.schema.json";

/// The JSON Schema of [`Document`], with the `schema_version` it describes.
pub fn schema() -> serde_json::Value {
    // The schema of what skein writes (fields it leaves out when empty are optional).
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let mut schema = serde_json::to_value(generator.into_root_schema_for::<Document>())
        .expect("a JSON Schema serialises");
    if let serde_json::Value::Object(map) = &mut schema {
        map.insert(
            "$id".to_owned(),
            format!("https://skein.dev/report/v{SCHEMA_VERSION}.schema.json").into(),
        );
        map.insert(
            "description".to_owned(),
            "One document per `skein --format json` run: the result of a command, or the error that stopped it before it touched a database."
                .into(),
        );
        map.insert("x-schema-version".to_owned(), SCHEMA_VERSION.into());
    }
    schema
}

/// The schema as committed: pretty JSON and a final newline.
pub fn schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).expect("a schema serialises");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};
    use std::path::PathBuf;

    /// The SHA-256 of each `schema_version`'s schema: its shape, without its `$id`,
    /// `x-schema-version` and descriptions (the docs may change within a version). A change to the report types changes the schema: bump
    /// [`SCHEMA_VERSION`] and add a line here.
    const VERSIONS: &[(u32, &str)] = &[
        (
            1,
            "bfa0502d9ce055138440cff59ded3b6256087082334d08b4d1bdfbd0b06cc514",
        ),
        (
            2,
            "b4b6b24334506762bd7bb1b43aa1154cbc7dedc4e5b22e0fa723b59623ed058f",
        ),
        (
            3,
            "b4e95f2def5f6a56cbfa1cf57695759f96615702df38a23ecab0134f596bbd5f",
        ),
        (
            4,
            "38d9b5d8dde7c92fb7cbaf5cba9801ed76de2f6507b8c578cdfa6c2f3bf2891b",
        ),
        (
            5,
            "89ed17f1e2e373e4efa25ed946fe72d442e94facf823e7edfbe55dd3bd88818e",
        ),
    ];

    fn committed_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(SCHEMA_FILE)
    }

    fn fingerprint() -> String {
        fn shape(value: &mut serde_json::Value) {
            match value {
                serde_json::Value::Object(map) => {
                    map.remove("description");
                    map.values_mut().for_each(shape);
                }
                serde_json::Value::Array(items) => items.iter_mut().for_each(shape),
                _ => {}
            }
        }
        let mut schema = schema();
        if let serde_json::Value::Object(map) = &mut schema {
            map.remove("$id");
            map.remove("x-schema-version");
        }
        shape(&mut schema);
        let text = serde_json::to_string(&schema).expect("a schema serialises");
        format!("{:x}", Sha256::digest(text.as_bytes()))
    }

    /// The committed file is the schema of the types; `SKEIN_BLESS=1` rewrites it.
    #[test]
    fn the_committed_schema_is_the_report_types_schema() {
        let path = committed_path();
        if std::env::var_os("SKEIN_BLESS").is_some() {
            std::fs::write(&path, schema_text()).expect("the schema is written");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == schema_text(),
            "{} is not the schema of the report types: run `SKEIN_BLESS=1 cargo test -p skein-migrate contract` and commit it",
            path.display()
        );
    }

    /// The shape changed while `schema_version` did not: readers of the old shape would
    /// be misled.
    #[test]
    fn a_changed_schema_has_a_new_schema_version() {
        let recorded = VERSIONS
            .iter()
            .find(|(version, _)| *version == SCHEMA_VERSION)
            .map(|(_, hash)| *hash);
        let now = fingerprint();
        assert!(
            recorded == Some(now.as_str()),
            "the report schema changed (sha256 {now}) but SCHEMA_VERSION is still {SCHEMA_VERSION}: \
             bump SCHEMA_VERSION in report/mod.rs, add ({}, \"{now}\") to VERSIONS, and say what changed in the README",
            SCHEMA_VERSION + 1
        );
        let mut versions: Vec<u32> = VERSIONS.iter().map(|(v, _)| *v).collect();
        versions.dedup();
        assert_eq!(
            versions.len(),
            VERSIONS.len(),
            "a version is recorded twice"
        );
    }
}
