//! The five teams skein is built for, each rebuilt from the state its own tool left, moved
//! onto skein in at most three commands with `skein.toml` as the only hand edit, then
//! doing its daily work: a new migration, a deploy, one step back, base and back to head,
//! and a clean drift.

use crate::support::*;
use skein_testkit::{TestDb, alembic, postgres};
use std::path::Path;

/// An Alembic revision file as `alembic revision` writes it.
fn revision(
    id: &str,
    parent: Option<&str>,
    date: &str,
    message: &str,
    up: &str,
    down: &str,
) -> String {
    format!(
        "\"\"\"{message}\n\nRevision ID: {id}\nRevises: {}\nCreate Date: {date} 09:00:00.000000\n\n\"\"\"\n\
         from alembic import op\nimport sqlalchemy as sa\nfrom sqlalchemy.dialects import postgresql\n\n\
         revision = '{id}'\ndown_revision = {}\nbranch_labels = None\ndepends_on = None\n\n\n\
         def upgrade() -> None:\n{}\n\n\ndef downgrade() -> None:\n{}\n",
        parent.unwrap_or(""),
        parent.map_or("None".to_owned(), |p| format!("'{p}'")),
        indent(up),
        indent(down),
    )
}

fn indent(body: &str) -> String {
    body.lines()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// An env.py that takes the database's URL from the environment variable `variable`, as
/// the teams' do (they never put it in alembic.ini).
fn env_py(variable: &str) -> String {
    format!(
        r#"import os
from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
url = os.environ["{variable}"]

if context.is_offline_mode():
    context.configure(url=url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
"#
    )
}

/// Runs the team's own Alembic in `dir` with `env`, as the team does.
fn alembic_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) {
    let out = std::process::Command::new(alembic())
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "alembic {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// SQLAlchemy's URL of a test database.
fn sqlalchemy(url: &str) -> String {
    url.replacen("postgres://", "postgresql+psycopg2://", 1)
}

fn write_all(workspace: &Workspace, files: &[(String, String)]) {
    for (path, text) in files {
        workspace.write(path, text);
    }
}

/// What every team does once it is on skein: a new migration (`new_args` writes it),
/// deployed; one step back; to base and back to head; and the database is what its files
/// say. `db` is the database the steps are checked on.
fn daily_work(workspace: &Workspace, new_args: &[&str], db: &str, sql: &str, undo: &str) {
    let mut args = vec!["new"];
    args.extend_from_slice(new_args);
    args.extend_from_slice(&["add_audit_log", "--format", "json"]);
    let new = workspace.run(&args).expect(0).json();
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

const AUDIT: &str =
    "CREATE TABLE audit_log (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());\n";
const AUDIT_UNDO: &str = "DROP TABLE audit_log;\n";

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

    daily_work(&workspace, &["--db", "gaia"], "gaia", AUDIT, AUDIT_UNDO);
}

/// Seed 000: miners and validators, two Alembic configs in one project
/// (`alembic_miner.ini`, `alembic_validator.ini`), each with its own folder; the URL
/// from the environment; convergence revisions that inspect the database and have no
/// downgrade.
#[test]
fn seed_000_miners_and_validators_with_two_alembic_configs() {
    let miner = TestDb::new("seed000_miner");
    let validator = TestDb::new("seed000_validator");
    let mut files = vec![
        (
            "gaia/alembic_miner.ini".to_owned(),
            "[alembic]\nscript_location = alembic_migrations_miner\nsqlalchemy.url = driver://from-the-environment\n".to_owned(),
        ),
        (
            "gaia/alembic_validator.ini".to_owned(),
            "[alembic]\nscript_location = alembic_migrations_validator\nsqlalchemy.url = driver://from-the-environment\n".to_owned(),
        ),
        ("gaia/alembic_migrations_miner/env.py".to_owned(), env_py("MINER_DB_URL")),
        ("gaia/alembic_migrations_validator/env.py".to_owned(), env_py("VALIDATOR_DB_URL")),
    ];
    files.push((
        "gaia/alembic_migrations_miner/versions/8a1c0e2b7d41_initial_miner_schema.py".to_owned(),
        revision(
            "8a1c0e2b7d41",
            None,
            "2025-05-02",
            "initial miner schema",
            "op.create_table('weather_miner_jobs', sa.Column('id', sa.String(), primary_key=True), sa.Column('status', sa.String(50), nullable=False), sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now()))",
            "op.drop_table('weather_miner_jobs')",
        ),
    ));
    files.push((
        "gaia/alembic_migrations_miner/versions/15952c9da69b_converge_miner_schema.py".to_owned(),
        revision(
            "15952c9da69b",
            Some("8a1c0e2b7d41"),
            "2025-06-11",
            "converge miner schema",
            "bind = op.get_bind()\n\
             inspector = sa.inspect(bind)\n\
             for forbidden in ('node_table', 'score_table'):\n    if inspector.has_table(forbidden):\n        op.drop_table(forbidden)\n\
             columns = {c['name'] for c in inspector.get_columns('weather_miner_jobs')}\n\
             if 'gfs_init_time' not in columns:\n    op.add_column('weather_miner_jobs', sa.Column('gfs_init_time', sa.DateTime(timezone=True), nullable=True))\n\
             if 'error_message' not in columns:\n    op.add_column('weather_miner_jobs', sa.Column('error_message', sa.Text(), nullable=True))\n\
             indexes = {i['name'] for i in inspector.get_indexes('weather_miner_jobs')}\n\
             if 'idx_wmj_status' not in indexes:\n    op.create_index('idx_wmj_status', 'weather_miner_jobs', ['status'])",
            "pass",
        ),
    ));
    files.push((
        "gaia/alembic_migrations_validator/versions/c3d9e1f04a22_initial_validator_schema.py".to_owned(),
        revision(
            "c3d9e1f04a22",
            None,
            "2025-05-02",
            "initial validator schema",
            "op.create_table('node_table', sa.Column('uid', sa.Integer(), primary_key=True), sa.Column('hotkey', sa.String(255), nullable=False))\n\
             op.create_table('score_table', sa.Column('id', sa.Integer(), primary_key=True), sa.Column('task_name', sa.String(100), nullable=False), sa.Column('score', postgresql.ARRAY(sa.Float()), nullable=False))",
            "op.drop_table('score_table')\nop.drop_table('node_table')",
        ),
    ));
    files.push((
        "gaia/alembic_migrations_validator/versions/2e00df6800b9_validate_validator_schema.py".to_owned(),
        revision(
            "2e00df6800b9",
            Some("c3d9e1f04a22"),
            "2025-06-11",
            "validate validator schema",
            "inspector = sa.inspect(op.get_bind())\n\
             missing = {'node_table', 'score_table'} - set(inspector.get_table_names())\n\
             if missing:\n    raise RuntimeError(f'Missing core tables: {missing}')\n\
             if inspector.has_table('weather_miner_jobs'):\n    op.drop_table('weather_miner_jobs')",
            "pass",
        ),
    ));
    let config = format!(
        "[default.databases.miner]\nurl = \"{}\"\nmigrations = \"database/miner\"\n\n\
         [default.databases.validator]\nurl = \"{}\"\nmigrations = \"database/validator\"\n",
        miner.url, validator.url
    );
    let workspace = Workspace::new(&config, &[]);
    write_all(&workspace, &files);
    let gaia = workspace.path().join("gaia");
    let (miner_url, validator_url) = (sqlalchemy(&miner.url), sqlalchemy(&validator.url));
    // The nodes as the team's Alembic left them.
    alembic_in(
        &gaia,
        &["-c", "alembic_miner.ini", "upgrade", "head"],
        &[("MINER_DB_URL", &miner_url)],
    );
    alembic_in(
        &gaia,
        &["-c", "alembic_validator.ini", "upgrade", "head"],
        &[("VALIDATOR_DB_URL", &validator_url)],
    );

    // Onto skein: two imports and one adopt.
    let alembic = alembic().display().to_string();
    let scratch = postgres().admin_url.clone();
    for (ini, to) in [
        ("gaia/alembic_miner.ini", "database/miner"),
        ("gaia/alembic_validator.ini", "database/validator"),
    ] {
        workspace
            .run(&[
                "import",
                "--from",
                "alembic",
                ini,
                "--to",
                to,
                "--alembic",
                &alembic,
                "--scratch",
                &scratch,
            ])
            .expect(0);
    }
    workspace
        .run(&["adopt", "--db", "miner", "--db", "validator"])
        .expect(0);
    let status = workspace
        .run(&["status", "--format", "json"])
        .expect(0)
        .json();
    for db in status["databases"].as_array().unwrap() {
        assert_eq!(db["pending"], 0, "{status}");
    }
    // The old id still names a version: back to the initial schema and forward again.
    workspace
        .run(&["down", "--db", "miner", "--to", "8a1c0e2b7d41", "-q"])
        .expect(0);
    assert_eq!(
        miner.value("SELECT count(*)::text FROM information_schema.columns WHERE table_name = 'weather_miner_jobs' AND column_name = 'error_message'").as_deref(),
        Some("1"),
        "the convergence revision had no downgrade: going back over it changes nothing"
    );
    workspace.run(&["up", "--db", "miner", "-q"]).expect(0);
    for db in ["miner", "validator"] {
        daily_work(&workspace, &["--db", db], db, AUDIT, AUDIT_UNDO);
    }
}
