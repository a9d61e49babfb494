#!/usr/bin/env python3
"""Peak memory, time and human output size of skein over a large fleet of SQLite model
databases.

    cargo build --release
    python3 bench/fleet_memory.py                  # 5,000 models
    python3 bench/fleet_memory.py --models 1000 --keep

Writes a workspace into a temporary folder: --models N model databases, listed by `names`,
that follow one template of --files M migrations (a table with an index, then rows; with
--folders, a folder per model holding its copy instead), SQLite files under data/. Then
runs, one after another:

  up         migrates every database (all pending)
  up again   nothing to do
  status     every database up to date
  drift      every schema against the one its migrations give
  check      the models' `expect` rules (every table is required)
  status -v  every row
  lint, converge, up --dry-run, up --sql, model list
             the other commands that reach every database (nothing to do, nothing found)
  status json, drift json, status html, status md
             the whole fleet's report in each format

Each command is timed, and its peak resident memory is the process's maximum resident
set (ru_maxrss from wait4, what `/usr/bin/time -f %M` reports). A peak of 64 MB or more
fails the run (exit 1). The lines it printed on stdout and stderr are counted. Nothing is
installed; the release binary must exist.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKEIN = ROOT / "target" / "release" / "skein"

COMMANDS = [
    ("up", ["up"]),
    ("up again", ["up"]),
    ("status", ["status"]),
    ("drift", ["drift"]),
    ("check", ["check"]),
    ("status -v", ["status", "-v"]),
    ("lint", ["lint"]),
    ("converge", ["converge"]),
    ("up --dry-run", ["up", "--dry-run"]),
    ("up --sql", ["up", "--sql"]),
    ("model list", ["model", "list"]),
    ("status json", ["status", "--format", "json"]),
    ("drift json", ["drift", "--format", "json"]),
    ("status html", ["status", "--format", "html"]),
    ("status md", ["status", "--format", "markdown"]),
]

# The most a fleet command may hold at its peak (resident set).
PEAK_LIMIT_MB = 64


def write_workspace(root: Path, models: int, files: int, concurrency: int, folders: bool) -> None:
    tables = ", ".join(f'"t{v}"' for v in range(1, files + 1))
    if folders:
        listing = 'dir = "models"\n'
    else:
        names = ", ".join(f'"m{i}"' for i in range(1, models + 1))
        listing = f'template = "template"\nnames = [{names}]\n'
    (root / "skein.toml").write_text(
        f"[default]\nconcurrency = {concurrency}\n\n"
        f"[default.models]\n{listing}"
        'url = "sqlite://data/{model}.db"\n\n'
        "[default.models.expect]\n"
        f"required_tables = [{tables}]\n"
    )
    migrations = []
    for v in range(1, files + 1):
        migrations.append(
            (
                f"{v}_table_{v}.up.sql",
                f"CREATE TABLE t{v} (id INTEGER PRIMARY KEY, note TEXT NOT NULL);\n"
                f"CREATE INDEX t{v}_note ON t{v} (note);\n"
                f"INSERT INTO t{v} (note) VALUES ('a'), ('b'), ('c');\n",
            )
        )
    folder_names = [f"models/m{i}" for i in range(1, models + 1)] if folders else ["template"]
    for name in folder_names:
        folder = root / name
        folder.mkdir(parents=True)
        for file, sql in migrations:
            (folder / file).write_text(sql)


def run(workspace: Path, args: list[str]) -> tuple[int, float, int, int, int]:
    """Runs skein; returns its exit code, seconds, peak kB (its maximum resident set, from
    wait4: what `/usr/bin/time -f %M` reports) and stdout/stderr lines."""
    out_path, err_path = workspace / ".out", workspace / ".err"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        start = time.monotonic()
        child = subprocess.Popen([str(SKEIN), *args], cwd=workspace, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.monotonic() - start
    lines = [len(p.read_text().splitlines()) for p in (out_path, err_path)]
    return os.waitstatus_to_exitcode(status), seconds, usage.ru_maxrss, lines[0], lines[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=5000)
    parser.add_argument("--files", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--folders", action="store_true", help="a migration folder per model, not a template"
    )
    parser.add_argument("--keep", action="store_true", help="keep the workspace")
    args = parser.parse_args()
    if not SKEIN.exists():
        print(f"{SKEIN} is missing: run `cargo build --release` first", file=sys.stderr)
        return 2
    workspace = Path(tempfile.mkdtemp(prefix="skein-fleet-memory-"))
    try:
        write_workspace(workspace, args.models, args.files, args.concurrency, args.folders)
        layout = "a folder each" if args.folders else "from one template"
        print(
            f"{args.models} SQLite models, {args.files} migrations {layout}, "
            f"concurrency {args.concurrency}"
        )
        print(f"{'command':<13} {'exit':>4} {'seconds':>8} {'peak MB':>8} {'stdout':>7} {'stderr':>7}")
        over = []
        for label, command in COMMANDS:
            code, seconds, peak, out, err = run(workspace, command)
            print(f"{label:<13} {code:>4} {seconds:>8.2f} {peak / 1024:>8.1f} {out:>7} {err:>7}", flush=True)
            if peak / 1024 >= PEAK_LIMIT_MB:
                over.append(f"{label}: {peak / 1024:.1f} MB")
        if over:
            print(f"OVER {PEAK_LIMIT_MB} MB: " + ", ".join(over), file=sys.stderr)
            return 1
    finally:
        if args.keep:
            print(f"workspace kept in {workspace}")
        else:
            shutil.rmtree(workspace, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
