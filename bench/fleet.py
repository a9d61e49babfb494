#!/usr/bin/env python3
"""Upgrades a fleet of fresh PostgreSQL databases (one per model) with skein, sqlx-cli,
dbmate, alembic and psql (the floor), interleaved round by round, and prints the times
and ratios.

    cargo build --release
    cargo install sqlx-cli --no-default-features --features postgres,rustls
    npm install --prefix /tmp/bench-tools dbmate
    python3 -m venv /tmp/bench-tools/venv
    /tmp/bench-tools/venv/bin/pip install alembic sqlalchemy psycopg2-binary
    python3 bench/fleet.py --rounds 3

The migration set (--files M, written into a temporary folder, the same bytes every
time; schema changes only, and with --backfill a data backfill in each file too) is
applied to --databases N fresh databases, --concurrency C databases at a time:

  psql      one psql session per database, each file as BEGIN; \\i file; COMMIT;
  skein     ONE `skein up` over a skein.toml that declares the N databases as models
  sqlx-cli  `sqlx migrate run` per database
  dbmate    `dbmate up` per database (each migration in its own transaction)
  alembic   `alembic upgrade head` per database, one process each, one transaction per
            migration (transaction_per_migration = True)

Every tool gets N fresh databases per round; they are dropped after its run. The order
of the tools rotates every round. A time is wall-clock for the whole fleet, from the
first process start to the last exit. Right after each upgrade the same command runs
again on the migrated fleet: that is the no-op time (nothing pending).

In round 1 the schema of one database per tool (pg_dump --schema-only, without the
tool's own history table) must equal the one psql leaves, and every database must have
reached the last migration; the run stops if not.

psql is the floor and always runs; --tools restricts the others. A tool that is not
installed is skipped with the command that installs it. This script installs nothing.
"""

import argparse
import datetime as dt
import difflib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ("psql", "skein", "sqlx-cli", "dbmate", "alembic")
HISTORY_TABLES = ("skein_history", "_sqlx_migrations", "schema_migrations", "alembic_version")
INSTALL = {
    "skein": "cargo build --release",
    "sqlx-cli": "cargo install sqlx-cli --no-default-features --features postgres,rustls",
    "dbmate": "npm install --prefix {tools_dir} dbmate",
    "alembic": "python3 -m venv {tools_dir}/venv && {tools_dir}/venv/bin/pip install alembic sqlalchemy psycopg2-binary",
}

# What a model database of an exchange indexer holds. Past the end of the list the
# names repeat with a suffix (_2, _3, ...), so any --files works.
ENTITIES = (
    "accounts", "markets", "orders", "trades", "positions", "fills", "funding_payments",
    "liquidations", "deposits", "withdrawals", "price_ticks", "oracle_updates", "vaults",
    "vault_shares", "rewards", "referrals", "fee_tiers", "transfers", "snapshots", "alerts",
)
START = dt.datetime(2025, 1, 6, 9, 0, 0)


# ---------------------------------------------------------------------------
# The migration set
# ---------------------------------------------------------------------------

def entity(i: int) -> str:
    cycle, index = divmod(i, len(ENTITIES))
    return ENTITIES[index] + (f"_{cycle + 1}" if cycle else "")


def migration_sql(i: int, backfill: bool = False) -> str:
    """Migration i: a new table with a foreign key to the previous one, two columns and a
    partial index added to that previous table, and a view; with `backfill`, also 200
    rows inserted and the previous table updated from them. No `:` or `%` in the text,
    so alembic's op.execute takes it as it is."""
    table = entity(i)
    parent = entity(i - 1) if i else None
    lines = [f"-- {table}", f"CREATE TABLE {table} (", "    id bigint PRIMARY KEY,"]
    if parent:
        lines.append(f"    parent_id bigint NOT NULL REFERENCES {parent} (id),")
    lines += [
        "    name text NOT NULL,",
        "    amount numeric(20, 6) NOT NULL DEFAULT 0,",
        "    status smallint NOT NULL DEFAULT 0 CHECK (status BETWEEN 0 AND 3),",
        "    created_at timestamptz NOT NULL DEFAULT now()",
        ");",
        f"CREATE INDEX {table}_created_at_idx ON {table} (created_at);",
    ]
    if parent:
        lines += [
            f"CREATE INDEX {table}_parent_id_idx ON {table} (parent_id);",
            "",
            f"ALTER TABLE {parent} ADD COLUMN {table}_count integer NOT NULL DEFAULT 0;",
            f"ALTER TABLE {parent} ADD COLUMN last_{table}_at timestamptz;",
            f"CREATE INDEX {parent}_last_{table}_at_idx ON {parent} (last_{table}_at) WHERE last_{table}_at IS NOT NULL;",
            "",
        ]
        if backfill:
            lines += [
                f"INSERT INTO {table} (id, parent_id, name, amount, status)",
                f"SELECT g, 1 + mod(g, 100), '{table} ' || g, g * 1.5, mod(g, 4)",
                "FROM generate_series(1, 200) AS g;",
                f"UPDATE {parent} AS p SET {table}_count = c.n, last_{table}_at = c.last_at",
                f"FROM (SELECT parent_id, count(*) AS n, max(created_at) AS last_at FROM {table} GROUP BY parent_id) AS c",
                "WHERE p.id = c.parent_id;",
                "",
            ]
        lines += [
            f"CREATE VIEW {table}_by_{parent} AS",
            f"SELECT p.id AS {parent}_id, p.name, count(c.id) AS {table}, coalesce(sum(c.amount), 0) AS total",
            f"FROM {parent} AS p LEFT JOIN {table} AS c ON c.parent_id = p.id",
            "GROUP BY p.id, p.name;",
        ]
    else:
        lines += [
            "",
        ]
        if backfill:
            lines += [
                f"INSERT INTO {table} (id, name, amount, status)",
                f"SELECT g, '{table} ' || g, g * 1.5, mod(g, 4)",
                "FROM generate_series(1, 200) AS g;",
                "",
            ]
        lines += [
            f"CREATE VIEW {table}_by_status AS",
            f"SELECT status, count(*) AS {table}, sum(amount) AS total FROM {table} GROUP BY status;",
        ]
    return "\n".join(lines) + "\n"


def migration_set(count: int, backfill: bool = False):
    """(version, description, sql) for each migration, oldest first."""
    return [
        ((START + dt.timedelta(hours=7 * i)).strftime("%Y%m%d%H%M%S"), f"create_{entity(i)}", migration_sql(i, backfill))
        for i in range(count)
    ]


def write_sql(migrations, folder: Path) -> None:
    """<version>_<description>.up.sql: skein's and sqlx-cli's layout (psql reads it too)."""
    folder.mkdir()
    for version, description, sql in migrations:
        (folder / f"{version}_{description}.up.sql").write_text(sql)


def write_dbmate(migrations, folder: Path) -> None:
    """<version>_<description>.sql with -- migrate:up / -- migrate:down sections."""
    folder.mkdir()
    for version, description, sql in migrations:
        (folder / f"{version}_{description}.sql").write_text(f"-- migrate:up\n{sql}\n-- migrate:down\n")


ALEMBIC_ENV = '''\
import os

from alembic import context
from sqlalchemy import create_engine, pool

engine = create_engine(os.environ["FLEET_DATABASE_URL"], poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
'''

ALEMBIC_REVISION = '''\
"""{description}

Revision ID: {revision}
Revises: {down_revision}
"""
from alembic import op

revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = None
depends_on = None

SQL = """\\
{sql}"""


def upgrade():
    op.execute(SQL)


def downgrade():
    raise NotImplementedError
'''


def write_alembic(migrations, folder: Path) -> Path:
    """One alembic project: a linear chain of revisions (ids are the versions), each
    running its migration's SQL with op.execute. Returns the alembic.ini."""
    (folder / "versions").mkdir(parents=True)
    (folder / "env.py").write_text(ALEMBIC_ENV)
    down = None
    for version, description, sql in migrations:
        (folder / "versions" / f"{version}_{description}.py").write_text(
            ALEMBIC_REVISION.format(description=description, revision=version, down_revision=down, sql=sql)
        )
        down = version
    ini = folder / "alembic.ini"
    ini.write_text(f"[alembic]\nscript_location = {folder}\npath_separator = os\n")
    return ini


# ---------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------

def database_url(admin_url: str, name: str) -> str:
    base, _, query = admin_url.partition("?")
    base = base.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")


def psql_script(admin_url: str, script: str) -> str:
    """Runs a script in one psql session, statement by statement (so CREATE DATABASE
    works), and returns what it printed."""
    result = subprocess.run(
        ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-f", "-", admin_url],
        input=script, capture_output=True, text=True,
    )
    if result.returncode != 0:
        sys.exit(f"psql failed:\n{result.stderr}")
    return result.stdout


def create_databases(admin_url: str, names) -> None:
    psql_script(admin_url, "".join(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE);\nCREATE DATABASE "{n}";\n' for n in names))


def drop_databases(admin_url: str, names) -> None:
    psql_script(admin_url, "".join(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE);\n' for n in names))


def not_at_head(admin_url: str, names, last_table: str):
    """The databases in which the last migration's table does not exist."""
    script = "".join(f"\\c {n}\nSELECT '{n}' WHERE to_regclass('public.{last_table}') IS NULL;\n" for n in names)
    return psql_script(admin_url, script).split()


def schema(url: str) -> str:
    """pg_dump --schema-only without any tool's history table, comments, SET lines and
    the per-run \\restrict key."""
    command = ["pg_dump", "--schema-only", "--no-owner", "--no-privileges"]
    for table in HISTORY_TABLES:
        command += ["--exclude-table", f"public.{table}*"]
    result = subprocess.run(command + [url], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"pg_dump failed:\n{result.stderr}")
    keep = []
    for line in result.stdout.splitlines():
        if not line or line.startswith(("--", "SET ", "SELECT pg_catalog.set_config", "\\restrict", "\\unrestrict")):
            continue
        keep.append(line)
    return "\n".join(keep) + "\n"


# ---------------------------------------------------------------------------
# The tools
# ---------------------------------------------------------------------------

class Fleet:
    """How one tool upgrades a list of databases: either one command for the whole fleet
    (`whole`), or one command per database (`per_database`, which may also return extra
    environment variables) run `concurrency` at a time. `run` returns the failures."""

    def __init__(self, per_database=None, whole=None, concurrency=4, env=None):
        self.per_database = per_database
        self.whole = whole
        self.concurrency = concurrency
        self.env = env

    def run(self, names, urls):
        if self.whole:
            result = subprocess.run(self.whole(names), capture_output=True, text=True, env=self.env)
            return [] if result.returncode == 0 else [f"exit {result.returncode}\n{result.stdout}{result.stderr}"]

        def one(pair):
            name, url = pair
            command = self.per_database(url)
            env = self.env
            if isinstance(command, tuple):  # (command, extra environment)
                command, extra = command
                env = dict(env or os.environ, **extra)
            result = subprocess.run(command, capture_output=True, text=True, env=env)
            return None if result.returncode == 0 else f"{name}: exit {result.returncode}\n{result.stdout}{result.stderr}"

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return [f for f in pool.map(one, zip(names, urls)) if f]


def tools(args, workdir: Path, migrations):
    """The fleets of every selected tool that is installed, keyed by tool name, and the
    version each reports."""
    tools_dir = args.tools_dir
    wanted = ["psql"] + [t for t in args.tools if t != "psql"]
    sql_dir = workdir / "sql"
    write_sql(migrations, sql_dir)
    found, versions = {}, {}

    def missing(name):
        print(f"{name} not found, skipped; install it with: {INSTALL[name].format(tools_dir=tools_dir)}", file=sys.stderr)

    # The floor: the same driver as bench/apply_with_psql.sh, written once.
    driver = workdir / "apply.psql"
    driver.write_text(
        "\\set ON_ERROR_STOP on\n\\set QUIET on\n"
        + "".join(f"BEGIN;\n\\i '{p}'\nCOMMIT;\n" for p in sorted(sql_dir.iterdir()))
    )
    quiet = dict(os.environ, PGOPTIONS=(os.environ.get("PGOPTIONS", "") + " -c client_min_messages=warning").strip())
    found["psql"] = Fleet(lambda url: ["psql", "--no-psqlrc", "--quiet", f"--dbname={url}", f"--file={driver}"], concurrency=args.concurrency, env=quiet)

    def skein_fleet(name, skein):
        # One folder per database, named like it, each holding links to the shared files.
        models = workdir / name / "models"
        for db in fleet_names(name, args.databases):
            (models / db).mkdir(parents=True)
            for path in sql_dir.iterdir():
                (models / db / path.name).symlink_to(path)
        config = workdir / name / "skein.toml"
        config.write_text(f'[default.models]\ndir = "{models}"\nurl = "{database_url(args.url, "{model}")}"\n')
        return [str(skein), "--config", str(config)]

    if args.baseline:
        wanted.append("baseline")
    for name in wanted[1:]:
        if name == "skein":
            skein = ROOT / "target" / "release" / "skein"
            if not skein.is_file():
                missing(name)
                continue
            base = skein_fleet(name, skein)
            found[name] = Fleet(whole=lambda names, base=base: base + ["up", "--concurrency", str(args.concurrency), "-q"])
            found["skein status --check"] = Fleet(whole=lambda names, base=base: base + ["status", "--check", "--concurrency", str(args.concurrency), "-q"])
            versions[name] = version_of([str(skein), "--version"])
        elif name == "baseline":
            base = skein_fleet(name, args.baseline)
            found[name] = Fleet(whole=lambda names, base=base: base + ["up", "--concurrency", str(args.concurrency), "-q"])
            versions[name] = version_of([str(args.baseline), "--version"]) + " (baseline)"
        elif name == "sqlx-cli":
            sqlx = shutil.which("sqlx") or "/opt/sqlx-cli/bin/sqlx"
            if not Path(sqlx).is_file():
                missing(name)
                continue
            found[name] = Fleet(lambda url, sqlx=sqlx: [sqlx, "migrate", "run", "--source", str(sql_dir), "--database-url", url], concurrency=args.concurrency)
            versions[name] = version_of([sqlx, "--version"])
        elif name == "dbmate":
            dbmate = tools_dir / "node_modules" / ".bin" / "dbmate"
            if not dbmate.is_file():
                missing(name)
                continue
            dbmate_dir = workdir / "dbmate"
            write_dbmate(migrations, dbmate_dir)
            found[name] = Fleet(
                lambda url, dbmate=dbmate: [str(dbmate), "--url", url, "--migrations-dir", str(dbmate_dir), "--no-dump-schema", "up"],
                concurrency=args.concurrency,
            )
            versions[name] = version_of([str(dbmate), "--version"])
        elif name == "alembic":
            alembic = tools_dir / "venv" / "bin" / "alembic"
            if not alembic.is_file():
                missing(name)
                continue
            ini = write_alembic(migrations, workdir / "alembic")
            # Each database is its own process; the URL comes from the environment.
            found[name] = Fleet(
                lambda url, alembic=alembic: ([str(alembic), "-c", str(ini), "upgrade", "head"], {"FLEET_DATABASE_URL": sqlalchemy_url(url)}),
                concurrency=args.concurrency,
            )
            versions[name] = version_of([str(alembic), "--version"])
    return found, versions


def sqlalchemy_url(url: str) -> str:
    return re.sub(r"^postgres(ql)?://", "postgresql+psycopg2://", url)


def version_of(command) -> str:
    result = subprocess.run(command, capture_output=True, text=True)
    line = (result.stdout or result.stderr).strip().splitlines()[0] if result.returncode == 0 else "?"
    return line.replace(" version ", " ")  # "dbmate version 2.36.0"


def fleet_names(tool: str, count: int):
    """Database names: lower-case letters, digits and _, as skein's model folders need."""
    slug = tool.replace("-", "_")
    return [f"fleet_{os.getpid()}_{slug}_{i:03d}" for i in range(count)]


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", type=int, default=50)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backfill", action="store_true", help="add data to every migration: an INSERT ... SELECT of 200 rows and an UPDATE of the previous table")
    parser.add_argument("--url", default=os.environ.get("SKEIN_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated, of {', '.join(TOOLS)} (psql always runs)")
    parser.add_argument("--tools-dir", type=Path, default=Path("/tmp/bench-tools"), help="where dbmate (npm) and alembic (venv) are installed")
    parser.add_argument("--baseline", type=Path, help="another skein binary (an older build), run side by side as `baseline`")
    args = parser.parse_args()
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = [t for t in args.tools if t not in TOOLS]
    if unknown:
        parser.error(f"unknown tool(s): {', '.join(unknown)}; known: {', '.join(TOOLS)}")
    if args.files < 2 or args.databases < 1 or args.concurrency < 1 or args.rounds < 1:
        parser.error("--files needs at least 2; --databases, --concurrency and --rounds at least 1")

    migrations = migration_set(args.files, backfill=args.backfill)
    last_table = entity(args.files - 1)
    with tempfile.TemporaryDirectory() as tmp:
        fleets, versions = tools(args, Path(tmp), migrations)
        names = [n for n in fleets if n != "skein status --check"]
        times = {name: [] for name in names}
        noop = {name: [] for name in fleets if name != "psql"}
        try:
            for round_ in range(args.rounds):
                order = names[round_ % len(names):] + names[: round_ % len(names)]
                schemas = {}
                for name in order:
                    dbs = fleet_names(name, args.databases)
                    urls = [database_url(args.url, db) for db in dbs]
                    create_databases(args.url, dbs)
                    try:
                        started = time.perf_counter()
                        failures = fleets[name].run(dbs, urls)
                        times[name].append(time.perf_counter() - started)
                        if failures:
                            sys.exit(f"{name} failed on {len(failures)} database(s); the first:\n{failures[0]}")
                        if round_ == 0:
                            behind = not_at_head(args.url, dbs, last_table)
                            if behind:
                                sys.exit(f"{name} exited 0 but {len(behind)} database(s) lack {last_table}, e.g. {behind[0]}")
                            schemas[name] = schema(urls[0])
                        # The no-op: the same command on the migrated fleet.
                        for again in [name] + (["skein status --check"] if name == "skein" else []):
                            if again == "psql":
                                continue
                            started = time.perf_counter()
                            failures = fleets[again].run(dbs, urls)
                            noop[again].append(time.perf_counter() - started)
                            if failures:
                                sys.exit(f"{again} failed on an up-to-date fleet:\n{failures[0]}")
                    finally:
                        drop_databases(args.url, dbs)
                    print(f"round {round_ + 1}/{args.rounds}: {name} {times[name][-1]:.2f} s", file=sys.stderr)
                for name, text in schemas.items():
                    if text != schemas["psql"]:
                        diff = difflib.unified_diff(schemas["psql"].splitlines(), text.splitlines(), "psql", name, lineterm="")
                        sys.exit(f"the schema {name} leaves differs from psql's:\n" + "\n".join(diff))
        except KeyboardInterrupt:
            sys.exit("interrupted; the databases of the current tool were dropped")

    floor = statistics.median(times["psql"])
    shown = ", ".join(f"{versions[n]}" for n in names if n in versions)
    kind = "schema and data" if args.backfill else "schema"
    print(f"{args.databases} databases x {args.files} migrations ({kind}), concurrency {args.concurrency}, {args.rounds} rounds, median of each:")
    if shown:
        print(f"({shown})")
    print(f"{'tool':<10} {'median s':>9} {'min s':>8} {'vs psql':>8}")
    for name in names:
        median = statistics.median(times[name])
        print(f"{name:<10} {median:>9.3f} {min(times[name]):>8.3f} {median / floor:>7.2f}x")
    if "alembic" in times and "skein" in times:
        ratio = statistics.median(times["alembic"]) / statistics.median(times["skein"])
        print(f"alembic / skein: {ratio:.2f}x")
    if "baseline" in times and "skein" in times:
        ratio = statistics.median(times["skein"]) / statistics.median(times["baseline"])
        noop_ratio = statistics.median(noop["skein"]) / statistics.median(noop["baseline"])
        print(f"skein / baseline: {ratio:.3f}x upgrade, {noop_ratio:.3f}x no-op")
    if noop:
        print(f"no-op (all {args.databases} databases already at head), median of each:")
        print(f"{'tool':<21} {'median s':>9} {'min s':>8}")
        for name, values in noop.items():
            print(f"{name:<21} {statistics.median(values):>9.3f} {min(values):>8.3f}")


if __name__ == "__main__":
    main()
