//! The `expect` rules of a role (a validator, a miner, a model): tables a database must
//! have (and their columns), may have, and must not have, checked against its live
//! schema. Checking never changes anything: a missing table is reported, not recreated.

use super::Schema;
use serde::Serialize;
use std::collections::BTreeMap;

/// The rules, as configured.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    pub required_tables: Vec<String>,
    pub required_columns: BTreeMap<String, Vec<String>>,
    pub optional_tables: Vec<String>,
    pub forbidden_tables: Vec<String>,
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Fails the check.
    Error,
    /// Said, without failing the check.
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One rule that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Finding {
    pub severity: Severity,
    pub table: String,
    pub message: String,
}

/// The live table a rule's name stands for: `votes` matches `votes` in any schema,
/// `audit.log` only that one.
fn find<'a>(schema: &'a Schema, name: &str) -> Option<&'a str> {
    schema.tables.keys().map(String::as_str).find(|table| {
        *table == name
            || (!name.contains('.') && table.rsplit_once('.').is_some_and(|(_, bare)| bare == name))
    })
}

/// The required tables `schema` lacks. Their data is what makes them required, so they
/// are restored, never recreated empty (`converge` refuses to).
pub fn missing_required(rules: &Expectations, schema: &Schema) -> Vec<String> {
    rules
        .required_tables
        .iter()
        .filter(|table| find(schema, table).is_none())
        .cloned()
        .collect()
}

/// Every rule of `rules` that `schema` breaks.
pub fn check(rules: &Expectations, schema: &Schema, database: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let required = rules.required_tables.iter().chain(
        rules
            .required_columns
            .keys()
            .filter(|t| !rules.required_tables.contains(t)),
    );
    for table in required {
        let Some(live) = find(schema, table) else {
            findings.push(Finding {
                severity: Severity::Error,
                table: table.clone(),
                message: format!(
                    "required table `{table}` is missing; restore it from a backup, or if the database is new run its migrations (`skein up --db {database}`); check does not recreate it"
                ),
            });
            continue;
        };
        for column in rules.required_columns.get(table).into_iter().flatten() {
            if !schema.tables[live].columns.contains_key(column) {
                findings.push(Finding {
                    severity: Severity::Error,
                    table: table.clone(),
                    message: format!(
                        "table `{table}` lacks its required column `{column}`; restore it from a backup or from the migration that adds it"
                    ),
                });
            }
        }
    }
    for table in &rules.optional_tables {
        if find(schema, table).is_none() {
            findings.push(Finding {
                severity: Severity::Warning,
                table: table.clone(),
                message: format!("optional table `{table}` is absent"),
            });
        }
    }
    for table in &rules.forbidden_tables {
        if let Some(live) = find(schema, table) {
            findings.push(Finding {
                severity: Severity::Error,
                table: table.clone(),
                message: format!(
                    "forbidden table `{live}` is present: it belongs to another role; check its data, then drop it by hand"
                ),
            });
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Column, Table};

    fn schema(tables: &[(&str, &[&str])]) -> Schema {
        let mut schema = Schema::default();
        for (name, columns) in tables {
            let mut table = Table::default();
            for column in *columns {
                table.columns.insert(
                    (*column).to_owned(),
                    Column {
                        data_type: "text".into(),
                        nullable: true,
                        default: None,
                        identity: None,
                        generated: None,
                        comment: None,
                    },
                );
            }
            schema.tables.insert((*name).to_owned(), table);
        }
        schema
    }

    #[test]
    fn rules() {
        let rules = Expectations {
            required_tables: vec!["blocks".into(), "votes".into()],
            required_columns: [(
                "votes".to_owned(),
                vec!["id".to_owned(), "signature".to_owned()],
            )]
            .into(),
            optional_tables: vec!["cache".into()],
            forbidden_tables: vec!["miner_jobs".into()],
        };
        let healthy = schema(&[
            ("public.blocks", &["id"]),
            ("public.votes", &["id", "signature"]),
        ]);
        let findings = check(&rules, &healthy, "validator");
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].severity,
            Severity::Warning,
            "only the optional table is absent"
        );

        let broken = schema(&[
            ("public.votes", &["id"]),
            ("public.miner_jobs", &[]),
            ("public.cache", &[]),
        ]);
        let findings = check(&rules, &broken, "validator");
        let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(findings.len(), 3, "{messages:?}");
        assert!(
            messages[0].starts_with("required table `blocks` is missing")
                && messages[0].contains("skein up --db validator")
        );
        assert!(messages[1].contains("lacks its required column `signature`"));
        assert!(messages[2].starts_with("forbidden table `public.miner_jobs` is present"));
        assert!(findings.iter().all(|f| f.severity == Severity::Error));
    }
}
