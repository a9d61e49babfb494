//! Checks on where a database lives, made before anything connects: settings that the
//! server would accept but quietly turn into something else.

use crate::error::{Error, Result};
use crate::history::HistoryTable;

/// Refuses a target the server would take differently from what it says: a database
/// name longer than the server keeps (two such names could be one database), or a
/// schema-qualified history table on MySQL, where a schema is a database (every database
/// would then share one history table).
pub fn check_target(url: &str, history_table: &HistoryTable) -> Result<()> {
    let Some(backend) = crate::backend::of_url(url) else {
        return Ok(());
    };
    if history_table.schema.is_some() && !backend.schema_qualified_history_is_its_own() {
        return Err(Error::QualifiedHistoryTable {
            table: history_table.to_string(),
        });
    }
    if let Some(name) = backend.database_name(url)?
        && let Some(limit) = backend.database_name_limit()
        && limit.length(&name) > limit.most
    {
        return Err(Error::DatabaseNameTooLong {
            length: limit.length(&name),
            name,
            limit: limit.most,
            unit: limit.unit,
        });
    }
    Ok(())
}

/// The one database a URL reaches, the same for two URLs that reach one database however
/// they are written: the server (host in lower case, port) and the database name (on
/// PostgreSQL the user's name when the URL gives none), or a SQLite file's absolute path.
/// `None` for a URL that does not parse or names no file.
pub fn database_identity(url: &str) -> Option<String> {
    crate::backend::of_url(url)?.database_identity(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, table: &str) -> Result<()> {
        check_target(url, &HistoryTable::parse(table).unwrap())
    }

    #[test]
    fn long_database_names_are_refused_before_the_server_cuts_them() {
        let name63 = "a".repeat(63);
        let name64 = "a".repeat(64);
        let pg = |name: &str| format!("postgres://u@h/{name}");
        assert!(check(&pg(&name63), "skein_history").is_ok());
        let err = check(&pg(&name64), "skein_history").unwrap_err();
        assert!(
            matches!(
                err,
                Error::DatabaseNameTooLong {
                    length: 64,
                    limit: 63,
                    ..
                }
            ),
            "{err}"
        );
        // Bytes on PostgreSQL: 32 two-byte characters are 64 bytes.
        assert!(check(&pg(&"%C3%A9".repeat(32)), "skein_history").is_err());
        let my = |name: &str| format!("mysql://u@h/{name}");
        assert!(check(&my(&name64), "skein_history").is_ok());
        assert!(check(&my(&"a".repeat(65)), "skein_history").is_err());
        // Characters on MySQL.
        assert!(check(&my(&"%C3%A9".repeat(64)), "skein_history").is_ok());
        assert!(check(&format!("sqlite://{}.db", "a".repeat(300)), "skein_history").is_ok());
    }

    #[test]
    fn two_urls_of_one_database_have_one_identity() {
        let same = [
            (
                "postgres://a:x@DB.internal/app",
                "postgresql://b@db.internal:5432/app?sslmode=disable",
            ),
            ("postgres://app@h", "postgres://app@h/app"),
            ("mysql://root@h/d", "mariadb://other:pw@H:3306/d"),
            ("sqlite:///tmp/./x.db", "sqlite:///tmp/x.db"),
        ];
        for (a, b) in same {
            assert_eq!(database_identity(a), database_identity(b), "{a} {b}");
            assert!(database_identity(a).is_some(), "{a}");
        }
        let different = [
            ("postgres://h/a", "postgres://h/b"),
            ("postgres://h:5432/a", "postgres://h:5433/a"),
            ("sqlite:///tmp/x.db", "sqlite:///tmp/y.db"),
        ];
        for (a, b) in different {
            assert_ne!(database_identity(a), database_identity(b), "{a} {b}");
        }
        assert_eq!(database_identity("sqlite::memory:"), None);
    }

    #[test]
    fn mysql_refuses_a_schema_qualified_history_table() {
        let err = check("mysql://u@h/db", "ops.history").unwrap_err();
        assert!(matches!(err, Error::QualifiedHistoryTable { .. }), "{err}");
        assert!(check("mariadb://u@h/db", "history").is_ok());
        assert!(check("postgres://u@h/db", "ops.history").is_ok());
    }
}
