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
    daily_work_with(
        &|args| workspace.run(args),
        workspace.path(),
        new_args,
        db,
        sql,
        undo,
    );
}

/// `daily_work` with each command run by `run` (which may set the environment).
fn daily_work_with(
    run: &dyn Fn(&[&str]) -> Run,
    root: &Path,
    new_args: &[&str],
    db: &str,
    sql: &str,
    undo: &str,
) {
    let mut args = vec!["new"];
    args.extend_from_slice(new_args);
    args.extend_from_slice(&["add_audit_log", "--format", "json"]);
    let new = run(&args).expect(0).json();
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
    std::fs::write(root.join(up), sql).unwrap();
    std::fs::write(root.join(down), undo).unwrap();
    let deployed = run(&["up", "--db", db, "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(
        deployed["databases"][0]["steps"].as_array().map(Vec::len),
        Some(1),
        "only the new migration runs: {deployed}"
    );
    run(&["down", "--db", db, "-q"]).expect(0);
    run(&["down", "--db", db, "--to", "base", "-q"]).expect(0);
    let empty = run(&["status", "--db", db, "--format", "json"])
        .expect(0)
        .json();
    assert!(
        empty["databases"][0]["version_after"].is_null(),
        "at base: {empty}"
    );
    run(&["up", "--db", db, "-q"]).expect(0);
    run(&["drift", "--db", db]).expect(0);
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
        notes.contains(
            "seeds/001_default_personas: a repeatable migration, written as repeatable/001_default_personas.sql"
        ),
        "the seed data is a repeatable migration: {import}"
    );
    assert!(!import["skipped"].to_string().contains("seeds"), "{import}");
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
        ["applied"; 6],
        "every file the runner or psql applied is adopted, and the seed data with them: {history}"
    );
    workspace.run(&["up", "--db", "gaia"]).expect(0);
    assert_eq!(
        db.value("SELECT count(*)::text FROM personas").as_deref(),
        Some("1"),
        "the seed data the team put in is not put in again"
    );
    // Seed data changes with the schema: the edited file runs once.
    std::fs::write(
        workspace
            .path()
            .join("database/gaia/repeatable/001_default_personas.sql"),
        "INSERT INTO personas (name) SELECT n FROM (VALUES ('assistant'), ('reviewer')) AS v (n)\n WHERE NOT EXISTS (SELECT 1 FROM personas WHERE name = v.n);\n",
    )
    .unwrap();
    let seeded = workspace
        .run(&["up", "--db", "gaia", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(
        seeded["databases"][0]["steps"][0]["description"], "001_default_personas",
        "{seeded}"
    );
    assert_eq!(
        db.value("SELECT string_agg(name, ',' ORDER BY name) FROM personas")
            .as_deref(),
        Some("assistant,reviewer")
    );

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

/// Seed 001: an indexer's infrastructure database and one database per model, each with
/// an Alembic folder of its own (alembic.ini with `%(here)s`, env.py reading the URL from
/// the environment); a model's folder is copied from a template and its first revision
/// autogenerated.
#[test]
fn seed_001_an_indexers_infra_database_and_per_model_alembic_folders() {
    let infra = TestDb::new("seed001_infra");
    let model = TestDb::new("seed001_blub");
    let next_model = TestDb::new("seed001_next");
    let ini = "[alembic]\nscript_location = %(here)s\nsqlalchemy.url =\n";
    let base = "indexer/database";
    let files = vec![
        (
            format!("{base}/infra_migrations/alembic.ini"),
            ini.to_owned(),
        ),
        (
            format!("{base}/infra_migrations/env.py"),
            env_py("INFRA_DATABASE_URL"),
        ),
        (
            format!("{base}/infra_migrations/versions/1a2b3c4d5e6f_initial_configuration.py"),
            revision(
                "1a2b3c4d5e6f",
                None,
                "2025-07-01",
                "Initial configuration",
                "op.create_table('models', sa.Column('id', sa.Integer(), primary_key=True), sa.Column('name', sa.String(100), nullable=False, unique=True), sa.Column('status', sa.String(20), nullable=False, server_default='active'))\n\
                 op.create_table('contracts', sa.Column('id', sa.Integer(), primary_key=True), sa.Column('address', sa.String(42), nullable=False))",
                "op.drop_table('contracts')\nop.drop_table('models')",
            ),
        ),
        (
            format!("{base}/infra_migrations/versions/f7b8066ff184_add_configuration_models.py"),
            revision(
                "f7b8066ff184",
                Some("1a2b3c4d5e6f"),
                "2025-07-09",
                "Add configuration models",
                "op.create_table('sources', sa.Column('id', sa.Integer(), primary_key=True), sa.Column('name', sa.String(100)))\n\
                 op.create_table('tokens', sa.Column('address', sa.String(42), primary_key=True), sa.Column('symbol', sa.String(20)))",
                "op.drop_table('tokens')\nop.drop_table('sources')",
            ),
        ),
        (
            format!("{base}/model_migrations/template/alembic.ini"),
            ini.to_owned(),
        ),
        (
            format!("{base}/model_migrations/template/env.py"),
            env_py("MODEL_DATABASE_URL"),
        ),
        (
            format!("{base}/model_migrations/blub_test/alembic.ini"),
            ini.to_owned(),
        ),
        (
            format!("{base}/model_migrations/blub_test/env.py"),
            env_py("MODEL_DATABASE_URL"),
        ),
        (
            format!(
                "{base}/model_migrations/blub_test/versions/b59b5b086895_initial_model_tables.py"
            ),
            revision(
                "b59b5b086895",
                None,
                "2025-07-10",
                "Initial model tables",
                "op.create_table('transaction_processing', sa.Column('tx_hash', sa.String(66), primary_key=True), sa.Column('block_number', sa.BigInteger(), nullable=False), sa.Column('status', sa.String(20), nullable=False))\n\
                 op.create_table('trades', sa.Column('id', sa.BigInteger(), primary_key=True), sa.Column('tx_hash', sa.String(66), sa.ForeignKey('transaction_processing.tx_hash'), nullable=False), sa.Column('amount', sa.Numeric(78, 0), nullable=False))\n\
                 op.create_index('ix_trades_tx_hash', 'trades', ['tx_hash'])",
                "op.drop_index('ix_trades_tx_hash', table_name='trades')\nop.drop_table('trades')\nop.drop_table('transaction_processing')",
            ),
        ),
        (
            format!("{base}/model_migrations/blub_test/versions/3c1d2e4f5a6b_add_tx_index.py"),
            revision(
                "3c1d2e4f5a6b",
                Some("b59b5b086895"),
                "2025-07-20",
                "Add tx_index to transaction_processing",
                "op.add_column('transaction_processing', sa.Column('tx_index', sa.Integer(), nullable=False, server_default='0'))",
                "op.drop_column('transaction_processing', 'tx_index')",
            ),
        ),
    ];
    let server = postgres().admin_url.rsplit_once('/').unwrap().0.to_owned();
    let config = format!(
        "[default.databases.infra]\nurl = \"{}\"\nmigrations = \"database/infra\"\n\n\
         [default.models]\ntemplate = \"templates/model\"\nurl = \"{server}/{{model}}\"\n\
         names = [\"{}\"]\ndepends_on = [\"infra\"]\n",
        infra.url, model.name
    );
    let workspace = Workspace::new(&config, &[]);
    write_all(&workspace, &files);
    let (infra_url, model_url) = (sqlalchemy(&infra.url), sqlalchemy(&model.url));
    alembic_in(
        &workspace.path().join(format!("{base}/infra_migrations")),
        &["upgrade", "head"],
        &[("INFRA_DATABASE_URL", &infra_url)],
    );
    // The model is at its first revision; the team's next step is not applied yet.
    alembic_in(
        &workspace
            .path()
            .join(format!("{base}/model_migrations/blub_test")),
        &["upgrade", "b59b5b086895"],
        &[("MODEL_DATABASE_URL", &model_url)],
    );

    // Onto skein: the infra folder, the model's folder as the models' template, one adopt.
    let alembic = alembic().display().to_string();
    for (source, to) in [
        (format!("{base}/infra_migrations"), "database/infra"),
        (
            format!("{base}/model_migrations/blub_test"),
            "templates/model",
        ),
    ] {
        workspace
            .run(&[
                "import",
                "--from",
                "alembic",
                &source,
                "--to",
                to,
                "--alembic",
                &alembic,
            ])
            .expect(0);
    }
    workspace
        .run(&["adopt", "--db", "infra", "--db", &model.name])
        .expect(0);
    // The team's pending revision, by its Alembic id, then the whole fleet.
    workspace
        .run(&["up", "--db", &model.name, "--to", "3c1d2e4f5a6b", "-q"])
        .expect(0);
    workspace.run(&["up", "-q"]).expect(0);
    workspace.run(&["drift"]).expect(0);
    // A new model database comes from the template, with no Alembic folder to copy.
    workspace
        .run(&["model", "new", &next_model.name, "--no-create"])
        .expect(0);
    assert_eq!(
        next_model
            .value("SELECT count(*)::text FROM information_schema.columns WHERE table_name = 'transaction_processing' AND column_name = 'tx_index'")
            .as_deref(),
        Some("1")
    );
    daily_work(&workspace, &["--db", "infra"], "infra", AUDIT, AUDIT_UNDO);
    daily_work(
        &workspace,
        &["--group", "models"],
        &model.name,
        "ALTER TABLE trades ADD COLUMN fee numeric(78, 0);\n",
        "ALTER TABLE trades DROP COLUMN fee;\n",
    );
    workspace.run(&["up", "-q"]).expect(0);
    workspace.run(&["drift"]).expect(0);
}

/// Seed 002: async Alembic (asyncpg) whose URL comes from a `.env`, PostgreSQL enums with a
/// manual `DROP TYPE` in the downgrade, a data migration, ids used as targets.
#[test]
fn seed_002_async_alembic_with_a_dotenv_and_enums() {
    let db = TestDb::new("seed002");
    let async_url = db.url.replacen("postgres://", "postgresql+asyncpg://", 1);
    let env_py = r#"import asyncio
import os
from alembic import context
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import create_async_engine

config = context.config
url = os.environ["DATABASE_URL"]


def do_run_migrations(connection):
    context.configure(connection=connection, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations():
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(run_async_migrations())
"#;
    let files = vec![
        (
            "alembic.ini".to_owned(),
            "[alembic]\nscript_location = alembic\nfile_template = %%(rev)s_%%(slug)s\n".to_owned(),
        ),
        ("alembic/env.py".to_owned(), env_py.to_owned()),
        (
            ".env".to_owned(),
            format!("# local development\nDATABASE_URL={async_url}\nLOG_LEVEL=debug\n"),
        ),
        (
            "alembic/versions/cec3a80e61a4_initial_schema.py".to_owned(),
            revision(
                "cec3a80e61a4",
                None,
                "2025-09-01",
                "Initial schema",
                "op.create_table('chains', sa.Column('id', sa.Integer(), primary_key=True), sa.Column('name', sa.String(100), nullable=False), sa.Column('chain_type', postgresql.ENUM('evm', 'cosmos', 'solana', name='chaintype'), nullable=False), sa.Column('is_active', sa.Boolean(), nullable=False, server_default=sa.true()))",
                "op.drop_table('chains')\nop.execute('DROP TYPE IF EXISTS chaintype CASCADE')",
            ),
        ),
        (
            "alembic/versions/5b1e9c0d7a32_add_rpc_endpoint_to_chains.py".to_owned(),
            revision(
                "5b1e9c0d7a32",
                Some("cec3a80e61a4"),
                "2025-09-12",
                "Add RPC endpoint to chains table",
                "op.add_column('chains', sa.Column('rpc_endpoint', sa.String(200), nullable=True, comment='Primary RPC endpoint URL'))",
                "op.drop_column('chains', 'rpc_endpoint')",
            ),
        ),
        (
            "alembic/versions/9e4f2a1b3c5d_chain_status.py".to_owned(),
            revision(
                "9e4f2a1b3c5d",
                Some("5b1e9c0d7a32"),
                "2025-10-02",
                "Replace is_active with status",
                "op.add_column('chains', sa.Column('status', sa.String(20)))\n\
                 op.execute(\"\"\"\n    UPDATE chains\n    SET status = CASE\n        WHEN is_active THEN 'active'\n        ELSE 'inactive'\n    END\n\"\"\")\n\
                 op.drop_column('chains', 'is_active')",
                "op.add_column('chains', sa.Column('is_active', sa.Boolean()))\n\
                 op.execute(\"UPDATE chains SET is_active = (status = 'active')\")\n\
                 op.drop_column('chains', 'status')",
            ),
        ),
    ];
    let workspace = Workspace::new(
        "[default.databases.aurora]\nurl = \"${env:DATABASE_URL}\"\nmigrations = \"database/aurora\"\n",
        &[],
    );
    write_all(&workspace, &files);
    // ./scripts/migrate.sh upgrade: the .env's variables, then Alembic.
    alembic_in(
        workspace.path(),
        &["upgrade", "head"],
        &[("DATABASE_URL", &async_url)],
    );
    db.exec("INSERT INTO chains (name, chain_type, status) VALUES ('ethereum', 'evm', 'active')");

    // Onto skein: import and adopt, the URL read from the same .env.
    let alembic = alembic().display().to_string();
    workspace
        .run(&[
            "import",
            "--from",
            "alembic",
            ".",
            "--to",
            "database/aurora",
            "--alembic",
            &alembic,
        ])
        .expect(0);
    workspace.run(&["adopt"]).expect(0);
    // ./scripts/migrate.sh downgrade cec3a80e61a4, then upgrade: by the Alembic ids.
    workspace.run(&["downgrade", "cec3a80e61a4"]).expect(0);
    assert_eq!(
        db.value("SELECT is_active::text FROM chains WHERE name = 'ethereum'")
            .as_deref(),
        Some("true"),
        "the data migration's downgrade ran"
    );
    workspace.run(&["upgrade", "head"]).expect(0);
    assert_eq!(
        db.value("SELECT status FROM chains WHERE name = 'ethereum'")
            .as_deref(),
        Some("active")
    );
    db.exec("DELETE FROM chains");
    daily_work(&workspace, &[], "aurora", AUDIT, AUDIT_UNDO);
    assert_eq!(
        db.value("SELECT count(*)::text FROM pg_type WHERE typname = 'chaintype'")
            .as_deref(),
        Some("1"),
        "the enum is made again after base"
    );
}

/// Seed 003: one Alembic project applied to several databases, the one chosen by
/// `POSTGRES_DB` (env.py builds the URL from POSTGRES_*); sequential ids (`001`).
#[test]
fn seed_003_the_database_chosen_by_an_environment_variable() {
    let deployments = TestDb::new("seed003_deployments");
    let karacho = TestDb::new("seed003_karacho");
    let admin = postgres().admin_url.clone();
    let (authority, _) = admin
        .strip_prefix("postgres://")
        .unwrap()
        .rsplit_once('/')
        .unwrap();
    let (user, host_port) = authority.split_once('@').unwrap();
    let (host, port) = host_port.split_once(':').unwrap_or((host_port, "5432"));
    let env_py = r#"import os
from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
url = "postgresql+psycopg2://{}@{}:{}/{}".format(
    os.getenv("POSTGRES_USER", "postgres"),
    os.getenv("POSTGRES_HOST", "localhost"),
    os.getenv("POSTGRES_PORT", "5432"),
    os.getenv("POSTGRES_DB", "deployments"),
)

if context.is_offline_mode():
    context.configure(url=url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    with create_engine(url, poolclass=pool.NullPool).connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
"#;
    let files = vec![
        (
            "orchestrator/migrations/alembic.ini".to_owned(),
            "[alembic]\nscript_location = .\n".to_owned(),
        ),
        (
            "orchestrator/migrations/env.py".to_owned(),
            env_py.to_owned(),
        ),
        (
            "orchestrator/migrations/versions/20260129_0001_001_initial_schema.py".to_owned(),
            revision(
                "001",
                None,
                "2026-01-29",
                "initial schema",
                "op.create_table('deployments', sa.Column('id', sa.Integer(), primary_key=True), sa.Column('type', sa.String(50), nullable=False), sa.Column('name', sa.String(255), nullable=False), sa.Column('config', postgresql.JSONB()), sa.Column('status', sa.String(50), nullable=False, server_default='pending'), sa.Column('created_at', sa.DateTime(), server_default=sa.func.now()))",
                "op.drop_table('deployments')",
            ),
        ),
        (
            "orchestrator/migrations/versions/20260203_0900_002_deployment_blocks.py".to_owned(),
            revision(
                "002",
                Some("001"),
                "2026-02-03",
                "deployment blocks",
                "op.create_table('deployment_blocks', sa.Column('id', sa.Integer(), primary_key=True), sa.Column('block_number', sa.BigInteger(), nullable=False), sa.Column('previous_hash', sa.String(64), nullable=False), sa.Column('current_hash', sa.String(64), nullable=False, unique=True), sa.Column('source_ip', sa.String(45)))",
                "op.drop_table('deployment_blocks')",
            ),
        ),
    ];
    let config = format!(
        "[default.databases.deployments]\nurl = \"postgres://${{env:POSTGRES_USER}}@${{env:POSTGRES_HOST}}:${{env:POSTGRES_PORT}}/{}\"\nmigrations = \"database/orchestrator\"\n\n\
         [default.databases.karacho]\nurl = \"postgres://${{env:POSTGRES_USER}}@${{env:POSTGRES_HOST}}:${{env:POSTGRES_PORT}}/{}\"\nmigrations = \"database/orchestrator\"\n",
        deployments.name, karacho.name
    );
    let workspace = Workspace::new(&config, &[]);
    write_all(&workspace, &files);
    let project = workspace.path().join("orchestrator/migrations");
    let env = |db: &str| {
        vec![
            ("POSTGRES_USER", user.to_owned()),
            ("POSTGRES_HOST", host.to_owned()),
            ("POSTGRES_PORT", port.to_owned()),
            ("POSTGRES_DB", db.to_owned()),
        ]
    };
    let pairs = |vars: &[(&'static str, String)]| -> Vec<(&'static str, String)> { vars.to_vec() };
    for (db, target) in [(&deployments.name, "head"), (&karacho.name, "001")] {
        let vars = pairs(&env(db));
        let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        alembic_in(&project, &["upgrade", target], &refs);
    }
    let skein = |args: &[&str]| {
        let mut command = workspace.command(args);
        for (k, v) in env("unused") {
            command.env(k, v);
        }
        Run(command.output().unwrap())
    };
    let alembic = alembic().display().to_string();
    skein(&[
        "import",
        "--from",
        "alembic",
        "orchestrator/migrations",
        "--to",
        "database/orchestrator",
        "--alembic",
        &alembic,
    ])
    .expect(0);
    skein(&["adopt", "--db", "deployments", "--db", "karacho"]).expect(0);
    let status = skein(&["status", "--format", "json"]).expect(0).json();
    let pending: Vec<i64> = status["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["pending"].as_i64().unwrap())
        .collect();
    assert_eq!(pending, [0, 1], "karacho was at 001: {status}");
    // `alembic upgrade 001` / `downgrade 001` by the same ids.
    skein(&["up", "--db", "karacho", "--to", "002", "-q"]).expect(0);
    skein(&["down", "--db", "deployments", "--to", "001", "-q"]).expect(0);
    skein(&["up", "-q"]).expect(0);
    skein(&["drift"]).expect(0);
    daily_work_with(
        &skein,
        workspace.path(),
        &["--db", "deployments"],
        "deployments",
        AUDIT,
        AUDIT_UNDO,
    );
}

/// Seed 000 as skein models it: five nodes of two kinds (three miners, two validators),
/// each kind one entry in `skein.toml` with its template and `expect` rules; the
/// validators' connection in parts, its port from `DB_PORT` as the seed's deploys set it.
#[test]
fn seed_000_five_nodes_of_two_kinds_are_one_entry_per_kind() {
    let server = skein_testkit::postgres();
    let base = server.admin_url.rsplit_once('/').unwrap().0.to_owned();
    let (host, port) = server.authority().rsplit_once(':').map_or_else(
        || (server.authority(), "5432".to_owned()),
        |(h, p)| (h.to_owned(), p.to_owned()),
    );
    let user = server
        .admin_url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .map_or("postgres", |(user, _)| {
            user.split(':').next().unwrap_or(user)
        })
        .to_owned();
    let prefix = format!("skein_s0_{}", std::process::id());
    let node = |kind: &str, n: u32| format!("{prefix}_{kind}_{n}");
    let mut nodes: Vec<String> = (1..=3).map(|n| node("miner", n)).collect();
    nodes.extend((1..=2).map(|n| node("validator", n)));
    nodes.push(node("miner", 6));
    struct Drop(Vec<String>);
    impl std::ops::Drop for Drop {
        fn drop(&mut self) {
            for name in &self.0 {
                skein_testkit::exec(
                    &skein_testkit::postgres().admin_url,
                    &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                );
            }
        }
    }
    let _cleanup = Drop(nodes.clone());
    let quoted = |names: &[String]| {
        names
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let config = format!(
        "[default.sets.miner]\n\
         names = [{}]\n\
         url = \"{base}/{{model}}\"\n\
         [default.sets.miner.expect]\n\
         required_tables = [\"weather_miner_jobs\"]\n\
         forbidden_tables = [\"node_table\", \"score_table\"]\n\n\
         [default.sets.validator]\n\
         names = [{}]\n\
         host = \"{host}\"\n\
         port = \"${{env:DB_PORT}}\"\n\
         user = \"{user}\"\n\
         database = \"{{model}}\"\n\
         [default.sets.validator.expect]\n\
         required_tables = [\"node_table\", \"score_table\"]\n\
         forbidden_tables = [\"weather_miner_jobs\"]\n",
        quoted(&nodes[..3]),
        quoted(&nodes[3..5]),
    );
    let workspace = Workspace::new(
        &config,
        &[
            (
                "templates/miner/20250101000000_miner_jobs.sql",
                "CREATE TABLE weather_miner_jobs (id BIGSERIAL PRIMARY KEY, run_id TEXT NOT NULL);\n",
            ),
            (
                "templates/validator/20250101000000_nodes.sql",
                "CREATE TABLE node_table (uid INT PRIMARY KEY, hotkey TEXT);\n\
                 CREATE TABLE score_table (task_name TEXT, score REAL);\n",
            ),
        ],
    );
    let run = |args: &[&str]| {
        let mut command = workspace.command(args);
        command.env("DB_PORT", &port);
        Run(command.output().unwrap())
    };
    run(&["db", "create"]).expect(0);
    let first = run(&["up", "--format", "json"]).expect(0).json();
    assert_eq!(first["databases"].as_array().unwrap().len(), 5, "{first}");

    // One new migration for the miners, written once.
    let new = run(&["new", "--group", "miner", "add job status"])
        .expect(0)
        .stdout();
    assert!(new.contains("templates/miner/"), "{new}");
    let folder = workspace.path().join("templates/miner");
    let up_file = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".up.sql"))
        .unwrap();
    std::fs::write(
        &up_file,
        "ALTER TABLE weather_miner_jobs ADD COLUMN status TEXT NOT NULL DEFAULT 'pending';\n",
    )
    .unwrap();
    let up = run(&["up", "--format", "json"]).expect(0).json();
    let moved: Vec<(String, usize)> = up["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|db| {
            let steps = db["steps"].as_array().map_or(0, Vec::len);
            (db["name"].as_str().unwrap().to_owned(), steps)
        })
        .collect();
    for (name, steps) in &moved {
        let expected = usize::from(name.contains("_miner_"));
        assert_eq!(*steps, expected, "{name}: {up}");
    }

    // Checked per kind, each by its own rules.
    run(&["check"]).expect(0);
    run(&["drift", "--group", "miner"]).expect(0);
    run(&["drift", "--group", "validator"]).expect(0);
    skein_testkit::exec(
        &format!("{base}/{}", nodes[4]),
        "CREATE TABLE weather_miner_jobs (id INT)",
    );
    let check = run(&["check", "--group", "validator"]).expect(3).stdout();
    assert!(check.contains("weather_miner_jobs"), "{check}");
    run(&["check", "--group", "miner"]).expect(0);

    // A sixth miner, with one command; it lands in the miners' entry.
    let sixth = run(&["model", "new", &nodes[5], "--set", "miner"])
        .expect(0)
        .stdout();
    assert!(sixth.contains("[default.sets.miner] names"), "{sixth}");
    let status = run(&["status", "--group", "miner", "--format", "json"])
        .expect(0)
        .json();
    let miners = status["databases"].as_array().unwrap();
    assert_eq!(miners.len(), 4, "{status}");
    assert!(
        miners.iter().all(|db| db["status"] == "up_to_date"),
        "{status}"
    );
    let listed = std::fs::read_to_string(workspace.path().join("skein.toml")).unwrap();
    let miners_entry = listed.split("[default.sets.validator]").next().unwrap();
    assert!(miners_entry.contains(&nodes[5]), "{listed}");

    // With two kinds, `model new` asks which; a kind that is not there is named.
    let which = run(&["model", "new", "someone"]).expect(2).stderr();
    assert!(which.contains("several sets (miner, validator)"), "{which}");
    let unknown = run(&["new", "--group", "minr", "x"]).expect(2).stderr();
    assert!(
        unknown.contains("--group miner, --group validator"),
        "{unknown}"
    );

    // A port that is not a number, named with the setting.
    let mut bad = workspace.command(&["status", "--group", "validator"]);
    bad.env("DB_PORT", "54x2");
    let bad = Run(bad.output().unwrap()).expect(2);
    assert!(
        bad.stderr()
            .contains("`port` is \"54x2\", which is not a port number"),
        "{}",
        bad.stderr()
    );
}
