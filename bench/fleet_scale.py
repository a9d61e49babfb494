#!/usr/bin/env python3
"""Time and peak memory of skein's no-op `up`, `status` and `drift` over large fleets of
template-driven model databases: SQLite and PostgreSQL.

    cargo build --release
    python3 bench/fleet_scale.py                          # 5,000 SQLite, 500 PostgreSQL
    python3 bench/fleet_scale.py --sqlite 30 --postgres 20 --skein target/debug/skein
    python3 bench/fleet_scale.py --postgres 0             # SQLite only

Each backend gets a workspace in a temporary folder, with a copy of templates/model (the
example's three migrations, `{{ model }}` in their comments) as the template:

  sqlite    [default.models] lists the models with `names = [...]`, url
            `sqlite://data/{model}.db`
  postgres  an infra database whose one migration creates a `models` table and fills it
            with the fleet's names; [default.models] lists them with
            `names_from = { db = "infra", query = "SELECT name FROM models" }` and depends
            on infra. Every database is named skein_bench_<pid>_... and all are dropped at
            the end, also when the run fails.

Then, per backend: `skein up --create -q` once (creates and migrates the fleet: "first
up"), and --rounds rounds of the no-op `up`, `status` and `drift`, in that order. For
PostgreSQL a CHECKPOINT runs between the two, so that the first `drift` (whose scratch
database's DROP DATABASE forces a checkpoint) does not pay for flushing the whole
fleet's new pages. skein
runs with its default concurrency (no `concurrency` in skein.toml, no --concurrency).

Each round also runs the connection floor (bench/floor.py, with --floor-python: a Python
that has asyncpg): every database opened by a minimal client running `SELECT 1`, 8 at a
time; the ratios of the medians (up and drift to status, each to the floor) end each
backend's lines.

Each command is one skein process. Its wall time is from start to exit; its peak memory
is the process's maximum resident set (ru_maxrss from wait4, what `/usr/bin/time -f %M`
reports). Output is human (off a terminal) and its lines are counted. Every exit code
must be 0; the run exits 1 otherwise, or if an up-to-date fleet's `status` prints 30
lines or more.

For PostgreSQL, one psql session samples pg_stat_activity every 0.1 s during each command
and reports the most backends of skein (application_name `skein`) it saw at once, as
fleet+scratch+admin: to the run's databases, to scratch databases (`skein_scratch_...`,
where drift replays migrations) and to the admin database (where `--create` runs CREATE
DATABASE), next to the server's max_connections. This is the server's view: a backend
whose client has just closed its connection is listed until it has exited, so the count
can exceed skein's concurrency by a backend or two; and a connection that lives less
than 0.1 s can be missed.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "templates" / "model"
STATUS_LINES_LIMIT = 30
NOOP = [("up", ["up"]), ("status", ["status"]), ("drift", ["drift"])]


def database_url(admin_url: str, name: str) -> str:
    base, _, query = admin_url.partition("?")
    base = base.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")


def psql(admin_url: str, script: str) -> str:
    """Runs a script in one psql session and returns what it printed."""
    result = subprocess.run(
        ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-f", "-", admin_url],
        input=script, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"psql failed:\n{result.stderr}")
    return result.stdout


def copy_template(workspace: Path) -> None:
    target = workspace / "templates" / "model"
    target.mkdir(parents=True)
    files = sorted(TEMPLATE.glob("*.sql"))
    if not files:
        sys.exit(f"no migrations in {TEMPLATE}")
    for file in files:
        shutil.copy(file, target / file.name)


def sqlite_workspace(workspace: Path, count: int) -> None:
    copy_template(workspace)
    (workspace / "data").mkdir()
    names = ", ".join(f'"m{i}"' for i in range(1, count + 1))
    (workspace / "skein.toml").write_text(
        "[default.models]\n"
        'template = "templates/model"\n'
        f"names = [{names}]\n"
        'url = "sqlite://data/{model}.db"\n'
    )


def postgres_workspace(workspace: Path, count: int, admin_url: str, prefix: str) -> None:
    copy_template(workspace)
    infra = workspace / "database" / "infra"
    infra.mkdir(parents=True)
    (infra / "20240101000000_models.up.sql").write_text(
        "CREATE TABLE models (name TEXT PRIMARY KEY);\n"
        f"INSERT INTO models (name) SELECT '{prefix}m' || g FROM generate_series(1, {count}) AS g;\n"
    )
    (workspace / "skein.toml").write_text(
        "[default.databases.infra]\n"
        'migrations = "database/infra"\n'
        f'url = "{database_url(admin_url, prefix + "infra")}"\n\n'
        "[default.models]\n"
        'template = "templates/model"\n'
        f'url = "{database_url(admin_url, "{model}")}"\n'
        'depends_on = ["infra"]\n'
        'names_from = { db = "infra", query = "SELECT name FROM models" }\n'
    )


class ConnectionSampler:
    """One psql session that counts skein's connections every 0.1 s: to the run's own
    databases, to scratch databases and to the admin database (where skein creates and
    drops databases)."""

    def __init__(self, admin_url: str, prefix: str):
        admin = admin_url.partition("?")[0].rsplit("/", 1)[1] or "postgres"
        query = (
            "SELECT count(*) FILTER (WHERE datname LIKE '" + prefix.replace("_", "\\_") + "%'), "
            "count(*) FILTER (WHERE datname LIKE 'skein\\_scratch\\_%'), "
            f"count(*) FILTER (WHERE datname = '{admin}') "
            "FROM pg_stat_activity WHERE application_name = 'skein'\n\\watch 0.1\n"
        )
        self.process = subprocess.Popen(
            ["psql", "-X", "-At", admin_url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True,
        )
        self.process.stdin.write(query)
        self.process.stdin.flush()
        self.lock = threading.Lock()
        self.reset()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            parts = line.strip().split("|")
            if len(parts) != 3 or not all(p.isdigit() for p in parts):
                continue
            sample = tuple(int(p) for p in parts)
            with self.lock:
                self.samples += 1
                if sum(sample) > sum(self.peak):
                    self.peak = sample

    def reset(self) -> None:
        with self.lock:
            self.peak, self.samples = (0, 0, 0), 0

    def read(self) -> tuple[tuple[int, int, int], int]:
        """The sample with the most connections (fleet, scratch, admin) and the sample count."""
        with self.lock:
            return self.peak, self.samples

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def run(program: Path, workspace: Path, args: list[str]) -> dict:
    """One process: exit code, wall seconds, peak RSS (kB) and lines printed."""
    out_path, err_path = workspace / ".stdout", workspace / ".stderr"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        started = time.perf_counter()
        child = subprocess.Popen([str(program), *args], cwd=workspace, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = out_path.read_text(), err_path.read_text()
    return {
        "code": child.returncode, "seconds": seconds, "rss_kb": usage.ru_maxrss,
        "stdout": len(stdout.splitlines()), "stderr": len(stderr.splitlines()),
        "out_text": stdout, "err_text": stderr,
    }


def bench_backend(backend: str, count: int, args, workspace: Path, sampler=None, settle=None, floor=None) -> list[dict]:
    """First up, then --rounds rounds of the no-op commands (and the connection floor,
    `floor`: the arguments of bench/floor.py); one row per command."""
    rows = []

    def measure(label: str, command: list[str]) -> dict:
        if sampler:
            sampler.reset()
        if label == "floor":
            # -P: bench/ (which holds an inspect.py) is not put first on the module path.
            result = run(args.floor_python, workspace, ["-P", str(ROOT / "bench" / "floor.py"), *command])
        else:
            result = run(args.skein, workspace, command)
        if sampler:
            time.sleep(0.15)  # let the last sample in
            result["connections"], result["samples"] = sampler.read()
        if result["code"] != 0:
            print(f"  {backend} {label}: exit {result['code']}\n"
                  f"  stdout (last lines):\n{tail(result['out_text'])}\n"
                  f"  stderr (last lines):\n{tail(result['err_text'])}", file=sys.stderr)
        return result

    first = measure("first up", ["up", "--create", "-q"])
    rows.append(summarise(backend, count, "first up", [first]))
    print(format_row(rows[-1]), flush=True)
    if settle:
        settle()
    commands = NOOP + ([("floor", floor)] if floor else [])
    results = {label: [] for label, _ in commands}
    for _ in range(args.rounds):
        for label, command in commands:
            results[label].append(measure(label, command))
    for label, _ in commands:
        rows.append(summarise(backend, count, label, results[label]))
        print(format_row(rows[-1]), flush=True)
    for row in rows:
        print(f"  {backend} {row['command']}: " + ", ".join(f"{t:.3f}" for t in row["times"]) + " s")
    median = {row["command"]: row["median"] for row in rows}
    ratios = [("up", "status"), ("drift", "status")]
    if floor:
        ratios += [("status", "floor"), ("up", "floor"), ("drift", "floor")]
    print(f"  {backend} ratios of medians: " + ", ".join(
        f"{a}/{b} {median[a] / median[b]:.2f}x" for a, b in ratios), flush=True)
    status_out = results["status"][-1]["out_text"]
    if args.show_status:
        print(f"--- {backend} status output ---\n{status_out}--- end ---")
    return rows


def checkpoint(admin_url: str) -> None:
    """Flushes what the first up wrote. Otherwise the first DROP DATABASE after it (drift
    drops its scratch database, and DROP DATABASE forces a checkpoint) waits for the
    flush of every page of the new databases: 11.5 s after 500 databases here."""
    started = time.perf_counter()
    psql(admin_url, "CHECKPOINT")
    print(f"  CHECKPOINT after the first up (not timed with skein): {time.perf_counter() - started:.3f} s", flush=True)


def tail(text: str, lines: int = 15) -> str:
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


def summarise(backend: str, count: int, label: str, runs: list[dict]) -> dict:
    lines = sorted({(r["stdout"], r["stderr"]) for r in runs})
    row = {
        "backend": backend, "databases": count, "command": label, "runs": len(runs),
        "codes": sorted({r["code"] for r in runs}),
        "median": statistics.median(r["seconds"] for r in runs),
        "min": min(r["seconds"] for r in runs), "max": max(r["seconds"] for r in runs),
        "rss_mb": max(r["rss_kb"] for r in runs) / 1024,
        "lines": lines,
    }
    row["times"] = [r["seconds"] for r in runs]
    if "connections" in runs[0]:
        row["connections"] = max((r["connections"] for r in runs), key=sum)
    return row


HEADER = (f"{'backend':<9} {'databases':>9} {'command':<9} {'runs':>4} {'exit':>5} "
          f"{'median s':>9} {'min s':>7} {'max s':>7} {'peak RSS MB':>11} {'stdout':>7} {'stderr':>7} {'connections':>11}")


def format_row(row: dict) -> str:
    codes = ",".join(str(c) for c in row["codes"])
    out = "/".join(str(o) for o, _ in row["lines"])
    err = "/".join(str(e) for _, e in row["lines"])
    conns = "+".join(str(c) for c in row["connections"]) if "connections" in row else "-"
    return (f"{row['backend']:<9} {row['databases']:>9,} {row['command']:<9} {row['runs']:>4} {codes:>5} "
            f"{row['median']:>9.3f} {row['min']:>7.3f} {row['max']:>7.3f} {row['rss_mb']:>11.1f} "
            f"{out:>7} {err:>7} {conns:>11}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", type=int, default=5000, help="SQLite model databases (0: skip)")
    parser.add_argument("--postgres", type=int, default=500, help="PostgreSQL model databases (0: skip)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each no-op command")
    parser.add_argument("--skein", type=Path, default=ROOT / "target" / "release" / "skein")
    parser.add_argument("--url", default=os.environ.get("SKEIN_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
                        help="an admin connection to the PostgreSQL server")
    parser.add_argument("--show-status", action="store_true", help="print the last `status` output of each backend")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (PostgreSQL databases are dropped anyway)")
    parser.add_argument("--floor-python", type=Path, default=Path("/tmp/bench-tools/venv/bin/python"),
                        help="a Python with asyncpg, for the connection floor (bench/floor.py); "
                             "'' leaves the floor out")
    args = parser.parse_args()
    if str(args.floor_python) in ("", "."):
        args.floor_python = None
    elif not args.floor_python.is_file():
        sys.exit(f"no Python at {args.floor_python} for the connection floor: python3 -m venv "
                 f"/tmp/bench-tools/venv && /tmp/bench-tools/venv/bin/pip install asyncpg "
                 f"(or --floor-python '' to leave it out)")
    args.skein = args.skein.resolve()
    if not args.skein.is_file():
        sys.exit(f"build skein first (cargo build --release), or pass --skein: {args.skein}")
    version = subprocess.run([str(args.skein), "--version"], capture_output=True, text=True).stdout.strip()
    print(f"{version} ({args.skein}), {os.cpu_count()} cores, default concurrency, "
          f"{args.rounds} round(s) of the no-op commands")

    tmp = Path(tempfile.mkdtemp(prefix="skein-fleet-scale-"))
    rows = []
    try:
        if args.sqlite:
            workspace = tmp / "sqlite"
            workspace.mkdir()
            sqlite_workspace(workspace, args.sqlite)
            print(HEADER, flush=True)
            rows += bench_backend("sqlite", args.sqlite, args, workspace,
                                  floor=["sqlite", str(workspace / "data")] if args.floor_python else None)
        if args.postgres:
            prefix = f"skein_bench_{os.getpid()}_"
            max_connections = psql(args.url, "SHOW max_connections").strip()
            server = psql(args.url, "SHOW server_version").strip()
            print(f"PostgreSQL {server}, max_connections {max_connections}, databases {prefix}*")
            workspace = tmp / "postgres"
            workspace.mkdir()
            postgres_workspace(workspace, args.postgres, args.url, prefix)
            sampler = ConnectionSampler(args.url, prefix)
            try:
                print(HEADER, flush=True)
                rows += bench_backend("postgres", args.postgres, args, workspace, sampler,
                                      settle=lambda: checkpoint(args.url),
                                      floor=["postgres", args.url, prefix] if args.floor_python else None)
            finally:
                sampler.close()
                drop = psql(args.url, f"SELECT datname FROM pg_database WHERE datname LIKE '{prefix}%'").split()
                psql(args.url, "".join(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE);\n' for name in drop))
                print(f"dropped {len(drop)} PostgreSQL databases")
            peak = max((r["connections"] for r in rows if "connections" in r), key=sum)
            print(f"most skein backends seen at once (sampled): {sum(peak)} = {peak[0]} to the fleet's "
                  f"databases + {peak[1]} to scratch databases + {peak[2]} to the admin database; "
                  f"max_connections {max_connections}")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    failed = [r for r in rows if r["codes"] != [0]]
    for r in failed:
        print(f"FAILED: {r['backend']} {r['command']}: exit codes {r['codes']}", file=sys.stderr)
    too_long = [r for r in rows if r["command"] == "status" and max(o + e for o, e in r["lines"]) >= STATUS_LINES_LIMIT]
    for r in too_long:
        print(f"TOO LONG: {r['backend']} status printed {r['lines']} (stdout, stderr) lines "
              f"for an up-to-date fleet (limit {STATUS_LINES_LIMIT})", file=sys.stderr)
    return 1 if failed or too_long else 0


if __name__ == "__main__":
    sys.exit(main())
