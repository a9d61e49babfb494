#!/usr/bin/env python3
"""Times `skein inspect` on a PostgreSQL schema of many tables, with `pg_dump
--schema-only` on the same database as a reference.

    cargo build --release
    python3 bench/inspect.py --tables 2000 --rounds 5

Each table has a primary key, a NOT NULL column with a default, a check constraint, a
foreign key to the table before it and an index; every tenth table also has a trigger.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def schema_sql(tables: int) -> str:
    lines = ["CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;"]
    for i in range(tables):
        parent = f", parent_id BIGINT REFERENCES t{i - 1:05d} (id)" if i else ""
        lines.append(
            f"CREATE TABLE t{i:05d} (id BIGINT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', "
            f"amount NUMERIC(20, 2) CHECK (amount >= 0), created_at TIMESTAMPTZ NOT NULL DEFAULT now(){parent});"
        )
        lines.append(f"CREATE INDEX t{i:05d}_name ON t{i:05d} (name);")
        if i % 10 == 0:
            lines.append(f"CREATE TRIGGER t{i:05d}_touch BEFORE UPDATE ON t{i:05d} FOR EACH ROW EXECUTE FUNCTION touch();")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--url", default=os.environ.get("SKEIN_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    skein = ROOT / "target" / "release" / "skein"
    if not skein.is_file():
        sys.exit("build skein first: cargo build --release")
    name = f"skein_bench_inspect_{os.getpid()}"
    base = args.url.split("?")[0].rsplit("/", 1)[0]
    url = f"{base}/{name}"
    psql = lambda target, *extra: subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", *extra, target], check=True, stdout=subprocess.DEVNULL)
    psql(args.url, "-c", f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "schema.sql"
            script.write_text(schema_sql(args.tables))
            psql(url, "-f", str(script))  # not one transaction: 2,000 tables exceed the lock table
            config = Path(tmp) / "skein.toml"
            config.write_text(f'[default.databases.bench]\nmigrations = "{tmp}"\nurl = "{url}"\n')
            commands = {
                "skein inspect": [str(skein), "--config", str(config), "inspect", "--db", "bench", "--format", "json"],
                "pg_dump -s": ["pg_dump", "--schema-only", url],
            }
            times = {tool: [] for tool in commands}
            for _ in range(args.rounds):
                for tool, command in commands.items():
                    started = time.perf_counter()
                    result = subprocess.run(command, capture_output=True)
                    times[tool].append(time.perf_counter() - started)
                    if result.returncode != 0:
                        sys.exit(f"{tool} failed: {result.stderr.decode()}")
            print(f"{args.tables} tables (+ {args.tables} indexes, {args.tables - 1} foreign keys, {args.tables // 10} triggers), {args.rounds} rounds:")
            print(f"{'tool':<14} {'median s':>9} {'min s':>8}")
            for tool, values in times.items():
                print(f"{tool:<14} {statistics.median(values):>9.3f} {min(values):>8.3f}")
    finally:
        psql(args.url, "-c", f'DROP DATABASE "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
