#!/usr/bin/env python3
"""Times `skein config show` and `skein status` on workspaces of many databases, to check
that both grow linearly with the number of databases.

    cargo build --release
    python3 bench/config_scale.py                      # 1,000 and 10,000 databases
    python3 bench/config_scale.py --sizes 1000 2000 4000 --rounds 3

Two layouts, each in a temporary folder:
- `models`: one folder per model database under database/models (each with one
  migration file), one `[default.models]` table in skein.toml;
- `databases`: one `[default.databases.<name>]` table per database in skein.toml (a long
  file: this is the layout where "where each setting came from" has the most to look up).

Every database is an SQLite file that does not exist yet, so `status` reads each as an
empty database and creates nothing: the time is skein's own, not a server's.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIGRATION = "CREATE TABLE trades (id INTEGER PRIMARY KEY);\n"


def models_workspace(root: Path, count: int) -> None:
    (root / "skein.toml").write_text(
        '[default.models]\ndir = "database/models"\nurl = "sqlite://.skein/{model}.db"\n'
    )
    for i in range(count):
        folder = root / "database" / "models" / f"model_{i:06d}"
        folder.mkdir(parents=True)
        (folder / "1_trades.up.sql").write_text(MIGRATION)


def databases_workspace(root: Path, count: int) -> None:
    (root / "migrations").mkdir()
    (root / "migrations" / "1_trades.up.sql").write_text(MIGRATION)
    tables = [
        f'[default.databases.db_{i:06d}]\nmigrations = "migrations"\nurl = "sqlite://.skein/db_{i:06d}.db"\n'
        for i in range(count)
    ]
    (root / "skein.toml").write_text("\n".join(tables))


LAYOUTS = {"models": models_workspace, "databases": databases_workspace}
COMMANDS = {
    "config show": ["config", "show", "--format", "json"],
    "status": ["status", "--format", "json", "-q"],
}


def run(skein: Path, root: Path, args: list[str], timeout: float) -> float | None:
    started = time.perf_counter()
    try:
        subprocess.run([str(skein), *args], cwd=root, check=True, timeout=timeout,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except subprocess.TimeoutExpired:
        return None
    except subprocess.CalledProcessError as e:
        sys.exit(f"skein {' '.join(args)} failed in {root}:\n{e.stderr.decode()}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--layouts", nargs="+", choices=sorted(LAYOUTS), default=sorted(LAYOUTS))
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a run is given up")
    parser.add_argument("--skein", type=Path, default=ROOT / "target" / "release" / "skein")
    args = parser.parse_args()
    args.skein = args.skein.resolve()
    if not args.skein.is_file():
        sys.exit(f"build skein first (cargo build --release), or pass --skein: {args.skein}")
    print(f"{args.skein}, {args.rounds} round(s), median seconds")
    print(f"{'layout':<10} {'databases':>9} {'command':<12} {'median s':>9} {'per 1,000':>10}")
    for layout in args.layouts:
        for size in args.sizes:
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp)
                LAYOUTS[layout](root, size)
                for name, command in COMMANDS.items():
                    times = [run(args.skein, root, command, args.timeout) for _ in range(args.rounds)]
                    if any(t is None for t in times):
                        print(f"{layout:<10} {size:>9,} {name:<12} {'>' + str(int(args.timeout)):>9}")
                        continue
                    median = statistics.median(times)
                    print(f"{layout:<10} {size:>9,} {name:<12} {median:>9.3f} {median / size * 1000:>10.3f}",
                          flush=True)


if __name__ == "__main__":
    main()
