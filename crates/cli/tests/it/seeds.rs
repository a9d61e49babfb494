//! The five teams skein is built for, each rebuilt from the state its own tool left, moved
//! onto skein in at most three commands with `skein.toml` as the only hand edit, then
//! doing its daily work: a new migration, a deploy, one step back, base and back to head,
//! and a clean drift.

use crate::support::*;
use skein_testkit::TestDb;

/// What every team does once it is on skein: a new migration, deployed; one step back; to
/// base and back to head; and the database is what its files say.
fn daily_work(workspace: &Workspace, db: &str, folder: &str, sql: &str, undo: &str) {
    let new = workspace
        .run(&["new", "--db", db, "add_audit_log", "--format", "json"])
        .expect(0)
        .json();
    let written: Vec<String> = new["files"]
        .as_array()
        .map(|files| {
            files
                .iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let up = written
        .iter()
        .find(|f| f.ends_with(".up.sql"))
        .unwrap_or_else(|| panic!("`new` wrote no up file: {new}"));
    let down = written
        .iter()
        .find(|f| f.ends_with(".down.sql"))
        .unwrap_or_else(|| panic!("`new` wrote no down file: {new}"));
    assert!(up.contains(folder), "{up}");
    std::fs::write(workspace.path().join(up), sql).unwrap();
    std::fs::write(workspace.path().join(down), undo).unwrap();
    let deployed = workspace
        .run(&["up", "--db", db, "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(
        deployed["databases"][0]["steps"].as_array().map(Vec::len),
        Some(1),
        "only the new migration runs: {deployed}"
    );
    workspace.run(&["down", "--db", db, "-q"]).expect(0);
    workspace
        .run(&["down", "--db", db, "--to", "base", "-q"])
        .expect(0);
    let empty = workspace
        .run(&["status", "--db", db, "--format", "json"])
        .expect(0)
        .json();
    assert!(
        empty["databases"][0]["version_after"].is_null(),
        "at base: {empty}"
    );
    workspace.run(&["up", "--db", db, "-q"]).expect(0);
    workspace.run(&["drift", "--db", db]).expect(0);
}

/// Seed 004: a hand-made runner that records each file's name (with a checksum, who and
/// how long) in `schema_migrations`; files from before the runner wrap themselves in
/// BEGIN ... COMMIT and record their own row; two files share a number; a table made by a
/// script outside the migrations; seed data in a folder of its own.
#[test]
fn seed_004_a_checksummed_runner_with_up_and_down_folders() {
    let db = TestDb::new("seed004");
    let files: &[(&str, &str)] = &[
        (
            "migrations/up/001_initial_schema.sql",
            "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE);\n",
        ),
        (
            "migrations/down/001_initial_schema.sql",
            "DROP TABLE users;\n",
        ),
        (
            "migrations/up/003_create_personas.sql",
            "-- Migration: 003_create_personas.sql\nBEGIN;\n\nCREATE TABLE personas (id serial PRIMARY KEY, name text NOT NULL);\n\n-- Record migration\nINSERT INTO schema_migrations (version, applied_by)\nVALUES ('003_create_personas', 'migration_script');\n\nCOMMIT;\n",
        ),
        (
            "migrations/down/003_create_personas.sql",
            "BEGIN;\nDROP TABLE personas;\nDELETE FROM schema_migrations WHERE version = '003_create_personas';\nCOMMIT;\n",
        ),
        (
            "migrations/up/003_add_user_settings.sql",
            "ALTER TABLE users ADD COLUMN settings jsonb NOT NULL DEFAULT '{}';\n",
        ),
        (
            "migrations/down/003_add_user_settings.sql",
            "ALTER TABLE users DROP COLUMN settings;\n",
        ),
        (
            "migrations/up/20250813140000_create_conversations_table.sql",
            "-- Migration: 20250813140000_create_conversations_table.sql\n-- Description: Creates conversations table for chat organization\n\nBEGIN;\n\nCREATE TABLE conversations (\n    id serial PRIMARY KEY,\n    user_id int NOT NULL REFERENCES users (id),\n    title text\n);\nCREATE INDEX conversations_user ON conversations (user_id);\n\n-- Record migration\nINSERT INTO schema_migrations (version, applied_by) \nVALUES ('20250813140000_create_conversations_table', 'migration_script');\n\nCOMMIT;\n",
        ),
        (
            "migrations/down/20250813140000_create_conversations_table.sql",
            "DROP TABLE conversations;\n",
        ),
        (
            "migrations/up/20250901090000_add_messages.sql",
            "CREATE TABLE messages (id bigserial PRIMARY KEY, conversation_id int NOT NULL REFERENCES conversations (id), body text NOT NULL);\n",
        ),
        (
            "migrations/down/20250901090000_add_messages.sql",
            "DROP TABLE messages;\n",
        ),
        (
            "migrations/seeds/001_default_personas.sql",
            "INSERT INTO personas (name) VALUES ('assistant');\n",
        ),
        (
            "scripts/create_persona_tables.sql",
            "CREATE TABLE persona_traits (id serial PRIMARY KEY, trait text);\n",
        ),
    ];
    let config = format!(
        "[default.databases.gaia]\nurl = \"{}\"\nmigrations = \"database/gaia\"\nignore_tables = [\"persona_traits\"]\n",
        db.url
    );
    let workspace = Workspace::new(&config, files);
    // The state the team's tools left: the runner's table; the two files from before the
    // runner ran by hand with psql (their own INSERT recorded them); the rest by the
    // runner, which records name, checksum and time; the script's table; the seed data.
    db.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version VARCHAR(255) PRIMARY KEY,
            applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            applied_by VARCHAR(255) DEFAULT 'migration_script',
            checksum VARCHAR(64),
            execution_time_ms INTEGER
        )",
    );
    for (name, runner) in [
        ("001_initial_schema", true),
        ("003_add_user_settings", true),
        ("003_create_personas", false),
        ("20250813140000_create_conversations_table", false),
        ("20250901090000_add_messages", true),
    ] {
        let text =
            std::fs::read_to_string(workspace.path().join(format!("migrations/up/{name}.sql")))
                .unwrap();
        db.exec(&text);
        if runner {
            db.exec(&format!(
                "INSERT INTO schema_migrations (version, checksum, execution_time_ms) VALUES ('{name}', md5('{name}'), 12)"
            ));
        }
    }
    db.exec(files[11].1);
    db.exec(files[10].1);

    // Onto skein: import, adopt.
    let import = workspace
        .run(&[
            "import",
            "--from",
            "schema-migrations",
            "migrations",
            "--to",
            "database/gaia",
            "--format",
            "json",
        ])
        .expect(0)
        .json();
    let notes = import["notes"].to_string();
    assert!(
        notes.contains("BEGIN ... COMMIT taken out")
            && notes.contains("003_create_personas")
            && notes.contains("writing schema_migrations"),
        "{import}"
    );
    assert!(
        notes.contains("(003_add_user_settings and 003_create_personas)"),
        "the shared number is explained: {import}"
    );
    assert!(
        import["skipped"].to_string().contains("seeds/"),
        "the seed folder is named as left out: {import}"
    );
    let personas = written(
        &workspace.path().join("database/gaia"),
        "create_personas.up.sql",
    );
    assert!(
        !personas.contains("BEGIN") && !personas.contains("schema_migrations"),
        "{personas}"
    );
    assert!(personas.contains("CREATE TABLE personas"), "{personas}");
    let adopted = workspace
        .run(&["adopt", "--db", "gaia", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(
        adopted["databases"][0]["foreign_history"]["table"], "schema_migrations",
        "{adopted}"
    );
    let history = workspace
        .run(&["history", "--db", "gaia", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(
        migration_states(&history),
        ["applied"; 5],
        "every file the runner or psql applied is adopted: {history}"
    );
    workspace.run(&["up", "--db", "gaia"]).expect(0);

    daily_work(
        &workspace,
        "gaia",
        "database/gaia",
        "CREATE TABLE audit_log (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());\n",
        "DROP TABLE audit_log;\n",
    );
}
