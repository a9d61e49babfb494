//! Alembic projects as teams have them: several ini files, revisions in more than one
//! folder, revisions that look at the database, merges and branch labels, data migrations.

use crate::support::*;
use skein_testkit::{TestDb, alembic, postgres};

/// An env.py that runs the revisions on the ini's `sqlalchemy.url`, online or offline.
const ENV: &str = r#"from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config

if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, version_table="miner_version")
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, version_table="miner_version")
        with context.begin_transaction():
            context.run_migrations()
"#;

fn revision(
    id: &str,
    down: &str,
    labels: &str,
    day: u32,
    message: &str,
    up: &str,
    back: &str,
) -> String {
    format!(
        "\"\"\"{message}\n\nRevision ID: {id}\nCreate Date: 2025-06-{day:02} 09:00:00.000000\n\"\"\"\n\
         from alembic import op\nimport sqlalchemy as sa\n\n\
         revision = '{id}'\ndown_revision = {down}\nbranch_labels = {labels}\ndepends_on = None\n\n\
         def upgrade():\n    {up}\n\n\ndef downgrade():\n    {back}\n"
    )
}

#[test]
fn a_miner_project_with_its_own_ini_and_a_revision_that_reads_the_database_imports_whole() {
    let alembic = alembic();
    let team = TestDb::new("alembic_miner");
    let url = team
        .url
        .replacen("postgres://", "postgresql+psycopg2://", 1);
    let ini = format!(
        "[alembic]\nscript_location = alembic_migrations_miner\n\
         version_locations = alembic_migrations_miner/versions alembic_migrations_miner/extra\n\
         sqlalchemy.url = {url}\n"
    );
    // a1 base; b2 and c3 branch from it; m4 merges them; d5 reads the database (as the
    // convergence migrations of the miner team do); e6 is a data migration.
    let files = [
        ("project/alembic_miner.ini".to_owned(), ini),
        (
            "project/alembic_migrations_miner/env.py".to_owned(),
            ENV.to_owned(),
        ),
        (
            "project/alembic_migrations_miner/versions/a1.py".to_owned(),
            revision(
                "a1",
                "None",
                "('miner',)",
                1,
                "create jobs",
                "op.create_table('weather_miner_jobs', sa.Column('id', sa.Integer, primary_key=True), sa.Column('status', sa.String(20), nullable=False))",
                "op.drop_table('weather_miner_jobs')",
            ),
        ),
        (
            "project/alembic_migrations_miner/versions/b2.py".to_owned(),
            revision(
                "b2",
                "'a1'",
                "None",
                2,
                "add gfs hash",
                "op.add_column('weather_miner_jobs', sa.Column('gfs_hash', sa.Text))",
                "op.drop_column('weather_miner_jobs', 'gfs_hash')",
            ),
        ),
        (
            "project/alembic_migrations_miner/extra/c3.py".to_owned(),
            revision(
                "c3",
                "'a1'",
                "None",
                3,
                "add kerchunk path",
                "op.add_column('weather_miner_jobs', sa.Column('kerchunk_path', sa.Text))",
                "op.drop_column('weather_miner_jobs', 'kerchunk_path')",
            ),
        ),
        (
            "project/alembic_migrations_miner/versions/m4.py".to_owned(),
            revision(
                "m4",
                "('b2', 'c3')",
                "None",
                4,
                "merge heads",
                "pass",
                "pass",
            ),
        ),
        (
            "project/alembic_migrations_miner/versions/d5.py".to_owned(),
            revision(
                "d5",
                "'m4'",
                "None",
                5,
                "converge the miner schema",
                "inspector = sa.inspect(op.get_bind())\n    columns = [c['name'] for c in inspector.get_columns('weather_miner_jobs')]\n    if 'error_message' not in columns:\n        op.add_column('weather_miner_jobs', sa.Column('error_message', sa.Text))\n    if 'node_table' in inspector.get_table_names():\n        op.drop_table('node_table')\n    op.create_index('jobs_status', 'weather_miner_jobs', ['status'])",
                "op.drop_index('jobs_status', table_name='weather_miner_jobs')\n    op.drop_column('weather_miner_jobs', 'error_message')",
            ),
        ),
        (
            "project/alembic_migrations_miner/versions/e6.py".to_owned(),
            revision(
                "e6",
                "'d5'",
                "None",
                6,
                "seed statuses",
                "t = sa.table('job_status', sa.column('name', sa.String))\n    op.create_table('job_status', sa.Column('name', sa.String(20), primary_key=True))\n    op.bulk_insert(t, [{'name': 'queued'}, {'name': \"it's done\"}])",
                "op.drop_table('job_status')",
            ),
        ),
    ];
    let config = format!(
        "[default.databases.miner]\nurl = \"{}\"\nmigrations = \"database/miner\"\n",
        team.url
    );
    let file_refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let workspace = Workspace::new(&config, &file_refs);
    // The team's database, as Alembic left it: at the merge.
    let alembic_here = |args: &[&str]| {
        let out = std::process::Command::new(&alembic)
            .args(["-c", "alembic_miner.ini"])
            .args(args)
            .current_dir(workspace.path().join("project"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "alembic {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    alembic_here(&["upgrade", "m4"]);

    let scratch = postgres().admin_url.clone();
    let alembic_command = alembic.display().to_string();
    let import = workspace
        .run(&[
            "import",
            "--from",
            "alembic",
            "project/alembic_miner.ini",
            "--to",
            "database/miner",
            "--alembic",
            &alembic_command,
            "--scratch",
            &scratch,
        ])
        .expect(0);
    let out = import.stdout();
    assert!(
        out.contains("note: 1 revision(s) cannot run offline"),
        "{out}"
    );
    assert!(out.contains(": d5;"), "{out}");
    let mapping =
        std::fs::read_to_string(workspace.path().join("database/miner/skein-import.toml")).unwrap();
    for id in ["a1", "b2", "c3", "m4", "d5", "e6"] {
        assert!(mapping.contains(&format!("\"{id}\" =")), "{id}: {mapping}");
    }
    let d5 = written(
        &workspace.path().join("database/miner"),
        "converge_the_miner_schema.up.sql",
    );
    // It converges, as the revision does under Alembic.
    assert!(
        d5.contains("ADD COLUMN IF NOT EXISTS error_message TEXT"),
        "{d5}"
    );
    assert!(d5.contains("captured on a fresh scratch database"), "{d5}");
    let e6 = written(
        &workspace.path().join("database/miner"),
        "seed_statuses.up.sql",
    );
    assert!(e6.contains("'it''s done'"), "{e6}");
    assert!(!d5.contains("miner_version"), "{d5}");
    // env.py's version table is kept in the map, for adopt to find.
    assert!(mapping.contains("table = \"miner_version\""), "{mapping}");

    // The team's database is adopted at the merge, then brought to head.
    workspace.run(&["adopt", "--db", "miner"]).expect(0);
    let status = workspace
        .run(&["status", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(status["databases"][0]["pending"], 2, "{status}");
    // Once no Alembic job reads it, the old table goes.
    team.exec("DROP TABLE miner_version");
    workspace.run(&["up"]).expect(0);
    workspace.run(&["drift"]).expect(0);
    let skein_head = fingerprint(&workspace, "miner");

    // A database that Alembic alone took to head has the same schema.
    let native = TestDb::new("alembic_miner_native");
    let native_ini = format!(
        "[alembic]\nscript_location = alembic_migrations_miner\n\
         version_locations = alembic_migrations_miner/versions alembic_migrations_miner/extra\n\
         sqlalchemy.url = {}\n",
        native
            .url
            .replacen("postgres://", "postgresql+psycopg2://", 1)
    );
    workspace.write("project/alembic_miner.ini", &native_ini);
    alembic_here(&["upgrade", "heads"]);
    native.exec("DROP TABLE miner_version");
    let probe = Workspace::new(
        &format!(
            "[default.databases.native]\nurl = \"{}\"\nmigrations = \"m\"\n",
            native.url
        ),
        &[("m/.keep", "")],
    );
    assert_eq!(fingerprint(&probe, "native"), skein_head);

    // Alembic's revision ids stay usable as targets, whole or by a unique start.
    let at = |workspace: &Workspace| {
        workspace
            .run(&["status", "--format", "json"])
            .expect(0)
            .json()["databases"][0]["version_after"]
            .as_i64()
            .unwrap()
    };
    let mapped = |id: &str| -> i64 {
        let line = mapping
            .lines()
            .find(|l| l.starts_with(&format!("\"{id}\" =")))
            .unwrap();
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    workspace.run(&["downgrade", "m4"]).expect(0);
    assert_eq!(at(&workspace), mapped("m4"));
    workspace.run(&["upgrade", "d5"]).expect(0);
    assert_eq!(at(&workspace), mapped("d5"));
    let show = workspace
        .run(&["show", "c3", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(show["version"], mapped("c3"), "{show}");
    workspace.run(&["upgrade", "head"]).expect(0);

    // Down to base and back to head with skein alone.
    workspace.run(&["down", "base"]).expect(0);
    workspace.run(&["up"]).expect(0);
    workspace.run(&["drift"]).expect(0);
}

#[test]
fn a_revision_that_cannot_be_written_names_its_file_and_line_and_can_be_given_by_hand() {
    let alembic = alembic();
    let ini = "[alembic]\nscript_location = migrations\nsqlalchemy.url = sqlite:///app.db\n";
    let broken = revision(
        "x1",
        "None",
        "None",
        1,
        "broken",
        "bind = op.get_bind()\n    raise RuntimeError('needs the database: ' + str(sa.inspect(bind)))",
        "pass",
    );
    let workspace = Workspace::new(
        "[default.databases.app]\nurl = \"sqlite://app.db\"\nmigrations = \"database/app\"\n",
        &[
            ("project/alembic.ini", ini),
            ("project/migrations/env.py", ENV),
            ("project/migrations/versions/x1.py", &broken),
            ("x1.up.sql", "CREATE TABLE x (id INTEGER);\n"),
        ],
    );
    let alembic_command = alembic.display().to_string();
    // SQLite: the scratch database is a file of skein's own; the revision fails there too.
    let run = workspace
        .run(&[
            "import",
            "--from",
            "alembic",
            "project",
            "--to",
            "database/app",
            "--alembic",
            &alembic_command,
        ])
        .expect(2);
    let err = run.stderr();
    assert!(err.contains("x1.py:"), "{err}");
    assert!(err.contains("RuntimeError: needs the database"), "{err}");
    assert!(
        !err.contains("\\n"),
        "the traceback keeps its own lines: {err}"
    );
    assert!(err.contains("--replace"), "{err}");
    assert!(!workspace.path().join("database/app").exists());

    let run = workspace
        .run(&[
            "import",
            "--from",
            "alembic",
            "project",
            "--to",
            "database/app",
            "--alembic",
            &alembic_command,
            "--replace",
            "x1=x1.up.sql",
        ])
        .expect(0);
    assert!(
        run.stdout()
            .contains("note: revision x1: the SQL is x1.up.sql"),
        "{}",
        run.stdout()
    );
    workspace.run(&["up"]).expect(0);
}

#[test]
fn a_model_database_is_adopted_through_its_templates_import_map() {
    let alembic = alembic();
    let model = TestDb::new("alembic_model");
    let base = postgres().admin_url.rsplit_once('/').unwrap().0.to_owned();
    let ini = format!(
        "[alembic]\nscript_location = migrations\nsqlalchemy.url = {}\n",
        model
            .url
            .replacen("postgres://", "postgresql+psycopg2://", 1)
    );
    let env = ENV.replace(
        "version_table=\"miner_version\"",
        "version_table=\"alembic_version\"",
    );
    let files = [
        ("project/alembic.ini".to_owned(), ini),
        ("project/migrations/env.py".to_owned(), env),
        (
            "project/migrations/versions/aa1.py".to_owned(),
            revision(
                "aa1f00d",
                "None",
                "None",
                1,
                "create pools",
                "op.create_table('pools', sa.Column('id', sa.Integer, primary_key=True))",
                "op.drop_table('pools')",
            ),
        ),
        (
            "project/migrations/versions/bb2.py".to_owned(),
            revision(
                "bb2cafe",
                "'aa1f00d'",
                "None",
                2,
                "add fee",
                "op.add_column('pools', sa.Column('fee', sa.Integer))",
                "op.drop_column('pools', 'fee')",
            ),
        ),
    ];
    let config = format!(
        "[default.models]\ntemplate = \"templates/model\"\ndir = \"database/models\"\n\
         url = \"{base}/{{model}}\"\nnames = [\"{}\"]\n",
        model.name
    );
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let workspace = Workspace::new(&config, &refs);
    let out = std::process::Command::new(&alembic)
        .args(["upgrade", "aa1f00d"])
        .current_dir(workspace.path().join("project"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alembic_command = alembic.display().to_string();
    workspace
        .run(&[
            "import",
            "--from",
            "alembic",
            "project",
            "--to",
            "templates/model",
            "--alembic",
            &alembic_command,
        ])
        .expect(0);
    // The map is the template's: the model has no folder of its own.
    workspace.run(&["adopt", "--db", &model.name]).expect(0);
    let status = workspace
        .run(&["status", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(status["databases"][0]["pending"], 1, "{status}");
    workspace.run(&["up"]).expect(0);
    workspace.run(&["downgrade", "aa1"]).expect(0);
    assert_eq!(
        model
            .value(
                "SELECT count(*)::text FROM information_schema.columns WHERE column_name = 'fee'"
            )
            .as_deref(),
        Some("0")
    );
}

/// MLflow's shape: the project makes its first tables with `create_all` of its models and
/// only then runs Alembic, whose first revision alters them.
#[test]
fn a_project_whose_first_revision_starts_from_create_all_imports_with_base() {
    let alembic = alembic();
    let scratch = postgres().admin_url.clone();
    let models = "import sqlalchemy as sa\nfrom sqlalchemy.orm import declarative_base\n\n\
                  Base = declarative_base()\n\n\n\
                  class Run(Base):\n    __tablename__ = 'runs'\n    id = sa.Column(sa.Integer, primary_key=True)\n    name = sa.Column(sa.String(50), nullable=False)\n";
    let files = [
        (
            "project/alembic.ini".to_owned(),
            "[alembic]\nscript_location = migrations\nprepend_sys_path = .\nsqlalchemy.url =\n"
                .to_owned(),
        ),
        ("project/tracking_models.py".to_owned(), models.to_owned()),
        ("project/migrations/env.py".to_owned(), ENV.to_owned()),
        (
            "project/migrations/versions/r1.py".to_owned(),
            revision(
                "r1",
                "None",
                "None",
                1,
                "add status",
                "op.add_column('runs', sa.Column('status', sa.String(20)))",
                "op.drop_column('runs', 'status')",
            ),
        ),
        (
            "project/migrations/versions/r2.py".to_owned(),
            revision(
                "r2",
                "'r1'",
                "None",
                2,
                "backfill status",
                "if 'status' in {c['name'] for c in sa.inspect(op.get_bind()).get_columns('runs')}:\n        op.execute(\"UPDATE runs SET status = 'done' WHERE status IS NULL\")\n    op.create_index('runs_status', 'runs', ['status'])",
                "op.drop_index('runs_status', table_name='runs')",
            ),
        ),
    ];
    let db = TestDb::new("alembic_base");
    let workspace = Workspace::new(
        &format!(
            "[default.databases.app]\nurl = \"{}\"\nmigrations = \"database/app\"\n",
            db.url
        ),
        &[],
    );
    for (path, text) in &files {
        workspace.write(path, text);
    }
    let alembic_command = alembic.display().to_string();
    let import = |extra: &[&str]| {
        let mut args = vec![
            "import",
            "--from",
            "alembic",
            "project",
            "--to",
            "database/app",
            "--alembic",
            &alembic_command,
            "--scratch",
            &scratch,
        ];
        args.extend_from_slice(extra);
        workspace.run(&args)
    };
    // Without the base, the chain cannot run on a scratch database: it says what to do.
    let refused = import(&[]).expect(2);
    assert!(refused.stderr().contains("--base"), "{}", refused.stderr());
    assert!(!workspace.path().join("database/app").exists());
    let imported = import(&["--base", "tracking_models:Base"]).expect(0);
    assert!(
        imported.stderr().contains("base-schema") || imported.stdout().contains("base-schema"),
        "{}{}",
        imported.stdout(),
        imported.stderr()
    );
    workspace.run(&["up", "-q"]).expect(0);
    workspace.run(&["drift"]).expect(0);
    workspace.run(&["down", "--to", "base", "-q"]).expect(0);
    assert_eq!(db.value("SELECT to_regclass('runs')::text"), None);
    workspace.run(&["up", "-q"]).expect(0);
    let skein_head = fingerprint(&workspace, "app");

    // The project's own way: create_all, then Alembic.
    let native = TestDb::new("alembic_base_native");
    let python = alembic.parent().unwrap().join("python");
    let made = std::process::Command::new(&python)
        .args([
            "-c",
            &format!(
                "import sqlalchemy as sa, tracking_models\ntracking_models.Base.metadata.create_all(sa.create_engine('{}'))",
                native.url.replacen("postgres://", "postgresql+psycopg2://", 1)
            ),
        ])
        .current_dir(workspace.path().join("project"))
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    workspace.write(
        "project/alembic.ini",
        &format!(
            "[alembic]\nscript_location = migrations\nprepend_sys_path = .\nsqlalchemy.url = {}\n",
            native
                .url
                .replacen("postgres://", "postgresql+psycopg2://", 1)
        ),
    );
    let upgraded = std::process::Command::new(&alembic)
        .args(["upgrade", "head"])
        .current_dir(workspace.path().join("project"))
        .output()
        .unwrap();
    assert!(
        upgraded.status.success(),
        "{}",
        String::from_utf8_lossy(&upgraded.stderr)
    );
    native.exec("DROP TABLE miner_version");
    let probe = Workspace::new(
        &format!(
            "[default.databases.native]\nurl = \"{}\"\nmigrations = \"m\"\n",
            native.url
        ),
        &[("m/.keep", "")],
    );
    assert_eq!(fingerprint(&probe, "native"), skein_head);
}

/// Prefect's shapes: an index made CONCURRENTLY in autocommit_block(), and constraints
/// named by the naming convention of the MetaData env.py gives as target_metadata.
#[test]
fn autocommit_blocks_run_outside_a_transaction_and_the_naming_convention_is_kept() {
    let alembic = alembic();
    let db = TestDb::new("alembic_autocommit");
    let models = "import sqlalchemy as sa\n\n\
                  metadata = sa.MetaData(naming_convention={'ck': 'ck_%(table_name)s__%(constraint_name)s'})\n";
    let files = [
        (
            "project/alembic.ini",
            "[alembic]\nscript_location = migrations\nprepend_sys_path = .\nsqlalchemy.url =\n"
                .to_owned(),
        ),
        ("project/app_models.py", models.to_owned()),
        ("project/migrations/env.py", ENV.to_owned()),
        (
            "project/migrations/versions/p1.py",
            revision(
                "p1",
                "None",
                "None",
                1,
                "flow runs",
                "op.create_table('flow_run', sa.Column('id', sa.Integer, primary_key=True), sa.Column('state', sa.String(20)), sa.Column('runs', sa.Integer))\n    op.create_check_constraint('positive_runs', 'flow_run', 'runs >= 0')",
                "op.drop_table('flow_run')",
            ),
        ),
        (
            "project/migrations/versions/p2.py",
            revision(
                "p2",
                "'p1'",
                "None",
                2,
                "index state",
                "with op.get_context().autocommit_block():\n        op.execute('CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_flow_run__state ON flow_run (state)')",
                "with op.get_context().autocommit_block():\n        op.execute('DROP INDEX CONCURRENTLY IF EXISTS ix_flow_run__state')",
            ),
        ),
    ];
    let workspace = Workspace::new(
        &format!(
            "[default.databases.app]\nurl = \"{}\"\nmigrations = \"database/app\"\n",
            db.url
        ),
        &[],
    );
    for (path, text) in &files {
        workspace.write(path, text);
    }
    let alembic_command = alembic.display().to_string();
    workspace
        .run(&[
            "import",
            "--from",
            "alembic",
            "project",
            "--to",
            "database/app",
            "--alembic",
            &alembic_command,
            "--metadata",
            "app_models:metadata",
        ])
        .expect(0);
    let p2 = written(&workspace.path().join("database/app"), "index_state.up.sql");
    assert!(p2.contains("-- skein:no-transaction"), "{p2}");
    workspace.run(&["up", "-q"]).expect(0);
    assert_eq!(
        db.value("SELECT conname::text FROM pg_constraint WHERE contype = 'c' AND conrelid = 'flow_run'::regclass")
            .as_deref(),
        Some("ck_flow_run__positive_runs"),
        "named by the convention, as under Alembic"
    );
    workspace.run(&["down", "--to", "base", "-q"]).expect(0);
    workspace.run(&["up", "-q"]).expect(0);
    workspace.run(&["drift"]).expect(0);
}
