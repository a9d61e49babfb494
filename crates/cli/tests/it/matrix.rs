//! `converge --apply` over a matrix of divergences, on PostgreSQL and SQLite: each either
//! reaches the expected fingerprint, losing no row, or names what it cannot change and
//! commits nothing.

use crate::support::*;
use skein_testkit::TestDb;

const PG_MIGRATION: &str = "CREATE TYPE mood AS ENUM ('calm', 'busy');\n\
     CREATE TABLE parent (id BIGINT PRIMARY KEY, name TEXT NOT NULL UNIQUE);\n\
     CREATE TABLE item (id BIGINT PRIMARY KEY, parent BIGINT REFERENCES parent (id), \
     qty INT NOT NULL DEFAULT 1 CHECK (qty > 0), note VARCHAR(20), mood mood);\n\
     CREATE INDEX item_note ON item (note);\n\
     INSERT INTO parent VALUES (1, 'p1'), (2, 'p2');\n\
     INSERT INTO item VALUES (1, 1, 3, 'a', 'calm'), (2, 2, 5, NULL, NULL);\n";

/// How a divergence ends under `converge --apply --allow-destructive`.
enum Ends {
    /// The expected fingerprint, every row kept.
    Converged,
    /// Not converged, nothing committed; the message names this.
    Refused(&'static str),
}

const PG_CASES: [(&str, &str, Ends); 17] = [
    ("missing table", "DROP TABLE item", Ends::Converged),
    (
        "extra table",
        "CREATE TABLE extra (id INT)",
        Ends::Converged,
    ),
    (
        "missing column",
        "ALTER TABLE item DROP COLUMN note",
        Ends::Converged,
    ),
    (
        "extra column",
        "ALTER TABLE item ADD COLUMN extra INT",
        Ends::Converged,
    ),
    ("missing index", "DROP INDEX item_note", Ends::Converged),
    (
        "extra index",
        "CREATE INDEX item_qty ON item (qty)",
        Ends::Converged,
    ),
    (
        "missing unique",
        "ALTER TABLE parent DROP CONSTRAINT parent_name_key",
        Ends::Converged,
    ),
    (
        "extra unique",
        "ALTER TABLE item ADD UNIQUE (qty)",
        Ends::Converged,
    ),
    (
        "missing check",
        "ALTER TABLE item DROP CONSTRAINT item_qty_check",
        Ends::Converged,
    ),
    (
        "extra check",
        "ALTER TABLE item ADD CHECK (qty < 100)",
        Ends::Converged,
    ),
    (
        "missing foreign key",
        "ALTER TABLE item DROP CONSTRAINT item_parent_fkey",
        Ends::Converged,
    ),
    (
        "extra foreign key",
        "ALTER TABLE item ADD CONSTRAINT extra_fk FOREIGN KEY (id) REFERENCES parent (id)",
        Ends::Converged,
    ),
    (
        "missing enum value",
        "ALTER TABLE item DROP COLUMN mood; DROP TYPE mood; CREATE TYPE mood AS ENUM ('calm'); ALTER TABLE item ADD COLUMN mood mood",
        Ends::Converged,
    ),
    (
        "extra enum value",
        "ALTER TYPE mood ADD VALUE 'sleepy'",
        Ends::Refused("sleepy"),
    ),
    (
        "default",
        "ALTER TABLE item ALTER COLUMN qty SET DEFAULT 7",
        Ends::Converged,
    ),
    (
        "nullability",
        "ALTER TABLE item ALTER COLUMN qty DROP NOT NULL",
        Ends::Converged,
    ),
    (
        "type widened",
        "ALTER TABLE item ALTER COLUMN note TYPE VARCHAR(80)",
        Ends::Converged,
    ),
];

/// `converge --apply` without --allow-destructive: the expected schema with nothing
/// destroyed, or the destructive step named (and, where DDL is transactional, nothing
/// committed: the fingerprint is still `diverged`).
fn careful(workspace: &Workspace, name: &str, expected: &str, diverged: Option<&str>) {
    let run = workspace.run(&["converge", "--db", "app", "--apply"]);
    match run.code() {
        0 => assert_eq!(fingerprint(workspace, "app"), expected, "{name}"),
        _ => {
            assert!(
                run.stderr().contains("pass --allow-destructive"),
                "{name}: {}",
                run.stderr()
            );
            if let Some(diverged) = diverged {
                assert_eq!(
                    fingerprint(workspace, "app"),
                    diverged,
                    "{name}: nothing committed"
                );
            }
        }
    }
}

#[test]
fn postgres_converges_every_kind_of_divergence_or_names_what_it_cannot() {
    for (name, divergence, ends) in PG_CASES {
        let db = TestDb::new("matrix");
        let workspace = Workspace::postgres(&db.url, &[("1_schema.up.sql", PG_MIGRATION)]);
        workspace.run(&["up", "-q"]).expect(0);
        let expected = fingerprint(&workspace, "app");
        let parents = || db.value("SELECT string_agg(id || name, ',' ORDER BY id) FROM parent");
        let before = parents();
        db.exec(divergence);
        let diverged = fingerprint(&workspace, "app");
        assert_ne!(diverged, expected, "{name}: diverged");
        // Without --allow-destructive: converged with nothing destroyed, or nothing
        // committed and the destructive step named.
        let careful = workspace.run(&["converge", "--db", "app", "--apply"]);
        match careful.code() {
            0 => assert_eq!(fingerprint(&workspace, "app"), expected, "{name}"),
            _ => {
                assert_eq!(
                    fingerprint(&workspace, "app"),
                    diverged,
                    "{name}: nothing committed"
                );
                let said = careful.stderr();
                assert!(
                    said.contains("pass --allow-destructive") || matches!(ends, Ends::Refused(_)),
                    "{name}: {said}"
                );
            }
        }
        let run = workspace.run(&["converge", "--db", "app", "--apply", "--allow-destructive"]);
        match ends {
            Ends::Converged => {
                assert_eq!(run.code(), 0, "{name}: {}\n{}", run.stdout(), run.stderr());
                assert_eq!(fingerprint(&workspace, "app"), expected, "{name}");
                assert_eq!(parents(), before, "{name}: no row lost");
                if name != "missing table" {
                    assert_eq!(
                        db.value("SELECT string_agg(id || ':' || qty, ',' ORDER BY id) FROM item")
                            .as_deref(),
                        Some("1:3,2:5"),
                        "{name}: no row lost"
                    );
                }
            }
            Ends::Refused(what) => {
                assert_eq!(run.code(), 1, "{name}: {}", run.stdout());
                assert!(run.stderr().contains(what), "{name}: {}", run.stderr());
                assert_eq!(
                    fingerprint(&workspace, "app"),
                    diverged,
                    "{name}: nothing committed"
                );
            }
        }
    }
}

const SQLITE_TABLE: &str = "CREATE TABLE item (id INTEGER PRIMARY KEY, parent INT REFERENCES parent (id), \
     qty INT NOT NULL DEFAULT 1 CHECK (qty > 0), note VARCHAR(20), UNIQUE (note))";

/// The item table made again as `create`, its rows kept (SQLite changes a table so).
fn rebuilt(create: &str) -> String {
    format!(
        "PRAGMA foreign_keys = OFF; {} ; INSERT INTO item_new SELECT id, parent, qty, note FROM item; \
         DROP TABLE item; ALTER TABLE item_new RENAME TO item;",
        create.replacen("CREATE TABLE item ", "CREATE TABLE item_new ", 1)
    )
}

#[test]
fn sqlite_converges_every_kind_of_divergence() {
    let migration = format!(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);\n{SQLITE_TABLE};\n\
         CREATE INDEX item_note ON item (note);\n\
         INSERT INTO parent VALUES (1, 'p1'), (2, 'p2');\n\
         INSERT INTO item VALUES (1, 1, 3, 'a'), (2, 2, 5, NULL);\n"
    );
    let cases: [(&str, String); 14] = [
        ("missing table", "DROP TABLE item".into()),
        ("extra table", "CREATE TABLE extra (id INT)".into()),
        (
            "missing column",
            "PRAGMA foreign_keys = OFF; DROP INDEX item_note; \
             CREATE TABLE item_new (id INTEGER PRIMARY KEY, parent INT REFERENCES parent (id), \
             qty INT NOT NULL DEFAULT 1 CHECK (qty > 0)); \
             INSERT INTO item_new SELECT id, parent, qty FROM item; DROP TABLE item; \
             ALTER TABLE item_new RENAME TO item;"
                .into(),
        ),
        (
            "extra column",
            "ALTER TABLE item ADD COLUMN extra INT".into(),
        ),
        ("missing index", "DROP INDEX item_note".into()),
        ("extra index", "CREATE INDEX item_qty ON item (qty)".into()),
        (
            "missing unique",
            rebuilt(&SQLITE_TABLE.replace(", UNIQUE (note)", "")),
        ),
        (
            "extra unique",
            rebuilt(&SQLITE_TABLE.replace("UNIQUE (note)", "UNIQUE (note), UNIQUE (qty)")),
        ),
        (
            "missing check",
            rebuilt(&SQLITE_TABLE.replace(" CHECK (qty > 0)", "")),
        ),
        (
            "extra check",
            rebuilt(&SQLITE_TABLE.replace("UNIQUE (note)", "UNIQUE (note), CHECK (qty < 100)")),
        ),
        (
            "missing foreign key",
            rebuilt(&SQLITE_TABLE.replace(" REFERENCES parent (id)", "")),
        ),
        (
            "default",
            rebuilt(&SQLITE_TABLE.replace("DEFAULT 1", "DEFAULT 7")),
        ),
        (
            "nullability",
            rebuilt(&SQLITE_TABLE.replace("qty INT NOT NULL", "qty INT")),
        ),
        (
            "type widened",
            rebuilt(&SQLITE_TABLE.replace("VARCHAR(20)", "VARCHAR(80)")),
        ),
    ];
    for (name, divergence) in cases {
        let workspace = Workspace::new(
            "[default.databases.app]\nmigrations = \"m\"\nurl = \"sqlite://data/app.db\"\n",
            &[("m/1_schema.up.sql", &migration)],
        );
        workspace.run(&["up", "-q"]).expect(0);
        let expected = fingerprint(&workspace, "app");
        let file = workspace.path().join("data/app.db");
        sqlite(&file, &divergence).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_ne!(fingerprint(&workspace, "app"), expected, "{name}: diverged");
        let rows = || sqlite_text(&file, "SELECT group_concat(id || name, ',') FROM parent");
        let before = rows();
        let diverged = fingerprint(&workspace, "app");
        careful(&workspace, name, &expected, Some(&diverged));
        let run = workspace.run(&["converge", "--db", "app", "--apply", "--allow-destructive"]);
        assert_eq!(run.code(), 0, "{name}: {}\n{}", run.stdout(), run.stderr());
        assert_eq!(fingerprint(&workspace, "app"), expected, "{name}");
        assert_eq!(rows(), before, "{name}: no row lost");
        if name != "missing table" {
            assert_eq!(
                sqlite_text(
                    &file,
                    "SELECT group_concat(id || ':' || qty, ',') FROM item"
                ),
                "1:3,2:5",
                "{name}: no row lost"
            );
        }
    }
}

const MY_MIGRATION: &str = "CREATE TABLE parent (id BIGINT PRIMARY KEY, name VARCHAR(40) NOT NULL, \
     UNIQUE KEY parent_name (name));\n\
     CREATE TABLE item (id BIGINT PRIMARY KEY, parent BIGINT, qty INT NOT NULL DEFAULT 1, \
     note VARCHAR(20), mood ENUM('calm', 'busy'), \
     CONSTRAINT item_parent FOREIGN KEY (parent) REFERENCES parent (id), \
     CONSTRAINT item_qty CHECK (qty > 0));\n\
     CREATE INDEX item_note ON item (note);\n\
     INSERT INTO parent VALUES (1, 'p1'), (2, 'p2');\n\
     INSERT INTO item VALUES (1, 1, 3, 'a', 'calm'), (2, 2, 5, NULL, NULL);\n";

const MY_CASES: [(&str, &str); 17] = [
    ("missing table", "DROP TABLE item"),
    ("extra table", "CREATE TABLE extra (id INT)"),
    ("missing column", "ALTER TABLE item DROP COLUMN note"),
    ("extra column", "ALTER TABLE item ADD COLUMN extra INT"),
    ("missing index", "DROP INDEX item_note ON item"),
    ("extra index", "CREATE INDEX item_qty_idx ON item (qty)"),
    (
        "missing unique",
        "ALTER TABLE parent DROP INDEX parent_name",
    ),
    (
        "extra unique",
        "ALTER TABLE item ADD UNIQUE KEY item_qty_u (qty)",
    ),
    ("missing check", "ALTER TABLE item DROP CONSTRAINT item_qty"),
    (
        "extra check",
        "ALTER TABLE item ADD CONSTRAINT extra_check CHECK (qty < 100)",
    ),
    (
        "missing foreign key",
        "ALTER TABLE item DROP FOREIGN KEY item_parent",
    ),
    (
        "extra foreign key",
        "ALTER TABLE item ADD CONSTRAINT extra_fk FOREIGN KEY (id) REFERENCES parent (id)",
    ),
    (
        "missing enum value",
        "ALTER TABLE item MODIFY mood ENUM('calm')",
    ),
    (
        "extra enum value",
        "ALTER TABLE item MODIFY mood ENUM('calm', 'busy', 'sleepy')",
    ),
    ("default", "ALTER TABLE item ALTER COLUMN qty SET DEFAULT 7"),
    (
        "nullability",
        "ALTER TABLE item MODIFY qty INT NULL DEFAULT 1",
    ),
    ("type widened", "ALTER TABLE item MODIFY note VARCHAR(80)"),
];

#[test]
fn mariadb_converges_every_kind_of_divergence() {
    for (name, divergence) in MY_CASES {
        let db = skein_testkit::MyTestDb::new("my_matrix");
        let workspace = Workspace::new(
            &format!(
                "[default.databases.app]\nmigrations = \"m\"\nurl = \"{}\"\n",
                db.url
            ),
            &[("m/1_schema.up.sql", MY_MIGRATION)],
        );
        workspace.run(&["up", "-q"]).expect(0);
        let expected = fingerprint(&workspace, "app");
        let parents = || db.value("SELECT GROUP_CONCAT(id, name ORDER BY id) FROM parent");
        let before = parents();
        db.exec(divergence);
        assert_ne!(fingerprint(&workspace, "app"), expected, "{name}: diverged");
        // MySQL commits DDL as it runs: without the flag, the additive steps stay.
        careful(&workspace, name, &expected, None);
        assert_eq!(parents(), before, "{name}: no row lost");
        let run = workspace.run(&["converge", "--db", "app", "--apply", "--allow-destructive"]);
        assert_eq!(run.code(), 0, "{name}: {}\n{}", run.stdout(), run.stderr());
        assert_eq!(fingerprint(&workspace, "app"), expected, "{name}");
        assert_eq!(parents(), before, "{name}: no row lost");
        if name != "missing table" {
            assert_eq!(
                db.value("SELECT GROUP_CONCAT(id, ':', qty ORDER BY id) FROM item")
                    .as_deref(),
                Some("1:3,2:5"),
                "{name}: no row lost"
            );
        }
    }
}
