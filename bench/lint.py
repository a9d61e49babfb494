#!/usr/bin/env python3
"""skein lint over the 240-migration history (crates/core/tests/fixtures/long_history),
as a deploy job's CI step would run it: every migration pending on a fresh PostgreSQL
database, table sizes read from it. Prints the median wall time of N rounds and how many
statements the parser could not check.

Run by hand, never by `cargo test`. Needs the release binary (cargo build --release -p
skein-migrate) and the local PostgreSQL (127.0.0.1:5432, user postgres).
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKEIN = os.path.join(ROOT, "target", "release", "skein")
HISTORY = os.path.join(ROOT, "crates", "core", "tests", "fixtures", "long_history")
DB = f"skein_bench_lint_{os.getpid()}"
URL = f"postgres://postgres@127.0.0.1:5432/{DB}"


def psql(sql):
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    if not os.path.exists(SKEIN):
        sys.exit("build skein first: cargo build --release -p skein-migrate")
    files = [f for f in os.listdir(HISTORY) if f.endswith(".up.sql") or (f.endswith(".sql") and not f.endswith(".down.sql"))]
    psql(f"CREATE DATABASE {DB}")
    try:
        times = []
        report = None
        for _ in range(rounds):
            started = time.perf_counter()
            run = subprocess.run(
                [SKEIN, "--no-dotenv", "--url", URL, "--migrations", HISTORY, "lint", "--format", "json"],
                capture_output=True,
                text=True,
                cwd=tempfile.gettempdir(),  # no skein.toml there: --url defines the database
            )
            times.append(time.perf_counter() - started)
            if run.returncode not in (0, 3):
                sys.exit(f"skein lint failed ({run.returncode}): {run.stderr}")
            report = json.loads(run.stdout)
        lint = report["databases"][0]["lint"]
        by_severity = {}
        for finding in lint["findings"]:
            by_severity[finding["severity"]] = by_severity.get(finding["severity"], 0) + 1
        print(f"{len(files)} migration files, {lint['statements']} statements, {rounds} rounds")
        print(f"skein lint: median {statistics.median(times) * 1000:.0f} ms (min {min(times) * 1000:.0f} ms)")
        print(f"not checked: {lint['unchecked']} statement(s); findings: {by_severity}")
    finally:
        psql(f"DROP DATABASE IF EXISTS {DB}")


if __name__ == "__main__":
    main()
