#!/usr/bin/env python3
"""Applies one migration set to fresh PostgreSQL databases with skein, sqlx-cli and psql
(the floor), interleaved round by round, and prints the times and ratios.

    cargo build --release
    cargo install sqlx-cli --no-default-features --features postgres,rustls
    python3 bench/migrate.py --rounds 7
    python3 bench/migrate.py --baseline /path/to/older/skein   # a build against another

Each tool gets a fresh database per round; the order of the tools rotates every round
so that none is always first or last. Times are wall-clock for the whole command
(process start, connect, history table, every migration, exit).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def psql(admin_url: str, sql: str) -> None:
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql, admin_url], check=True, stderr=subprocess.DEVNULL)


def database_url(admin_url: str, name: str) -> str:
    base, _, query = admin_url.partition("?")
    base = base.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")


def tools(args, workdir: Path):
    skein = ROOT / "target" / "release" / "skein"
    if not skein.is_file():
        sys.exit("build skein first: cargo build --release")
    sqlx = shutil.which("sqlx") or "/opt/sqlx-cli/bin/sqlx"
    config = workdir / "skein.toml"

    def run_skein(url, skein=skein):
        config.write_text(
            f'[default.databases.bench]\nmigrations = "{args.dir}"\nurl = "{url}"\n'
        )
        return [str(skein), "--config", str(config), "-q", "up"]

    found = {
        "psql": lambda url: ["bash", str(ROOT / "bench" / "apply_with_psql.sh"), url, str(args.dir)],
        "skein": run_skein,
    }
    if args.baseline:
        found["baseline"] = lambda url: run_skein(url, skein=args.baseline)
    if Path(sqlx).is_file():
        found["sqlx-cli"] = lambda url: [sqlx, "migrate", "run", "--source", str(args.dir), "--database-url", url]
    else:
        print("sqlx-cli not found; install it with: cargo install sqlx-cli --no-default-features --features postgres,rustls", file=sys.stderr)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=ROOT / "crates/core/tests/fixtures/long_history")
    parser.add_argument("--url", default=os.environ.get("SKEIN_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--baseline", type=Path, help="another skein binary (an older build), run side by side as `baseline`")
    args = parser.parse_args()
    source = args.dir.resolve()
    files = len(list(source.glob("*.sql"))) - len(list(source.glob("*.down.sql")))
    with tempfile.TemporaryDirectory() as tmp:
        # Every tool runs the same copy; sqlx-cli cannot run a file that starts with a
        # UTF-8 BOM (a syntax error), so the copy has none. skein and psql accept them.
        args.dir = Path(tmp) / "migrations"
        args.dir.mkdir()
        for path in source.glob("*.sql"):
            (args.dir / path.name).write_bytes(path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
        commands = tools(args, Path(tmp))
        names = list(commands)
        times = {name: [] for name in names}
        for round_ in range(args.rounds):
            order = names[round_ % len(names):] + names[: round_ % len(names)]
            for name in order:
                db = f"skein_bench_{name.replace('-', '_')}_{os.getpid()}"
                psql(args.url, f'DROP DATABASE IF EXISTS "{db}"')
                psql(args.url, f'CREATE DATABASE "{db}"')
                command = commands[name](database_url(args.url, db))
                started = time.perf_counter()
                result = subprocess.run(command, capture_output=True, text=True)
                elapsed = time.perf_counter() - started
                psql(args.url, f'DROP DATABASE "{db}" WITH (FORCE)')
                if result.returncode != 0:
                    sys.exit(f"{name} failed:\n{result.stdout}\n{result.stderr}")
                times[name].append(elapsed)
    floor = statistics.median(times["psql"])
    shown = source.relative_to(ROOT) if source.is_relative_to(ROOT) else source
    print(f"{files} migrations from {shown}, {args.rounds} rounds, median of each:")
    print(f"{'tool':<10} {'median s':>9} {'min s':>8} {'vs psql':>8}")
    for name in names:
        median = statistics.median(times[name])
        print(f"{name:<10} {median:>9.3f} {min(times[name]):>8.3f} {median / floor:>7.2f}x")
    if "sqlx-cli" in times:
        ratio = statistics.median(times["skein"]) / statistics.median(times["sqlx-cli"])
        print(f"skein / sqlx-cli: {ratio:.2f}x")
    if "baseline" in times:
        ratio = statistics.median(times["skein"]) / statistics.median(times["baseline"])
        print(f"skein / baseline: {ratio:.3f}x")


if __name__ == "__main__":
    main()
