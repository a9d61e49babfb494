#!/usr/bin/env python3
"""What a migration history costs the server itself, against what it costs with skein and
with psql (each file in its own transaction): how near a tool comes to the server's time.

    cargo build --release
    git clone https://github.com/LemmyNet/lemmy /tmp/lemmy && git -C /tmp/lemmy checkout 439734dd6
    target/release/skein import --from diesel /tmp/lemmy/migrations --to /tmp/lemmy-skein
    python3 bench/server_time.py --history /tmp/lemmy-skein --to 202508010000150000

Lemmy's diesel history imports as 342 migrations; the first 247 (to 2025-08-01) run on
PostgreSQL 15 (the 248th uses a subquery without an alias, which needs 16).

Starts a throwaway PostgreSQL cluster (initdb into a temporary folder, as the `postgres`
user when run as root; trust auth, a Unix socket in the folder and --port on 127.0.0.1)
with pg_stat_statements preloaded and tracking everything: track = all (statements inside
functions and DO blocks too), track_utility = on (DDL, BEGIN, COMMIT), track_planning = on.
Then, --rounds times, for each tool (their order rotates): a fresh database,
pg_stat_statements_reset(), the tool applies the history's up files to --to (all by
default), and the server's time is the sum of execution and planning time of the
top-level statements run in that database (statements inside functions are counted in
the statement that called them). The tool's time is its process's wall time, from start
to exit.

  skein   `skein up` (--skein, the release build by default), a one-database skein.toml
  psql    bench/apply_with_psql.sh: one psql session, each file as BEGIN; \\i file; COMMIT;
  psql-1  (--single) the whole history as one file in ONE transaction (`psql -1`): one
          commit, a round trip per statement
  message (--single) the whole history in ONE transaction sent as ONE message (asyncpg's
          simple query, --floor-python), timed from connect to close (the interpreter's
          start left out): one commit, one round trip. What is left of its wall time
          beyond the server's is what no client can save (session start, parsing and
          analysis, the one commit)

The cluster runs with the settings initdb gives (fsync on, synchronous_commit on): a commit
waits for its WAL to reach the disk, which the statements' times do not include. Prints
each round, then per tool the medians and the ratio of its time to the server's.
"""

import argparse
import os
import pwd
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSIONED = re.compile(r"^(\d+)_.*\.sql$")


def pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / name).is_file():
            return str(base / name)
    sys.exit(f"{name} not found: install PostgreSQL's server package")


class Cluster:
    """A throwaway cluster in `folder`, with pg_stat_statements preloaded."""

    def __init__(self, folder: Path, port: int):
        self.folder, self.port = folder, port
        self.data = folder / "data"
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(folder, user.pw_uid, user.pw_gid)
        self.run([pg_bin("initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres", "--no-sync"])
        options = (
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 "
            "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all "
            "-c pg_stat_statements.track_utility=on -c pg_stat_statements.track_planning=on "
            "-c pg_stat_statements.max=20000"
        )
        self.run([pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(folder / "log"), "-o", options, "-w", "start"])
        self.admin = self.url("postgres")
        self.sql("CREATE EXTENSION pg_stat_statements")

    def run(self, command: list[str]) -> None:
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def sql(self, script: str, database: str = "postgres") -> str:
        result = subprocess.run(
            ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", script, self.url(database)],
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr}")
        return result.stdout.strip()

    def stop(self) -> None:
        self.run([pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"])


def history_files(history: Path, to: int | None) -> list[Path]:
    files = []
    for path in history.iterdir():
        match = VERSIONED.match(path.name)
        if match and not path.name.endswith(".down.sql") and (to is None or int(match[1]) <= to):
            files.append(path)
    return sorted(files, key=lambda p: int(VERSIONED.match(p.name)[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", type=Path, required=True, help="a folder of migrations in skein's layout")
    parser.add_argument("--to", type=int, help="the last version to apply (default: all)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--port", type=int, default=54329)
    parser.add_argument("--skein", type=Path, default=ROOT / "target" / "release" / "skein")
    parser.add_argument("--baseline", type=Path, help="another skein binary, run side by side as `baseline`")
    parser.add_argument("--single", action="store_true", help="also run psql-1 and message: the history in one transaction")
    parser.add_argument("--floor-python", type=Path, default=Path("/tmp/bench-tools/venv/bin/python"),
                        help="a Python that has asyncpg, for `message`")
    args = parser.parse_args()
    files = history_files(args.history, args.to)
    if not files:
        sys.exit(f"no up migrations in {args.history}")
    work = Path(tempfile.mkdtemp(prefix="skein-server-time-"))
    os.chmod(work, 0o755)
    history = work / "history"
    history.mkdir()
    for path in args.history.iterdir():
        match = VERSIONED.match(path.name)
        if match and (args.to is None or int(match[1]) <= args.to):
            shutil.copy(path, history / path.name)
    statements = sum(len([s for s in p.read_text().split(";") if s.strip()]) for p in files)
    print(f"{len(files)} migrations from {args.history} (about {statements} statements), "
          f"{args.rounds} rounds, {os.cpu_count()} cores", flush=True)
    tools = {"skein": args.skein.resolve()}
    if args.baseline:
        tools["baseline"] = args.baseline.resolve()
    cluster_dir = work / "cluster"
    cluster_dir.mkdir()
    cluster = Cluster(cluster_dir, args.port)
    print(f"PostgreSQL {cluster.sql('SHOW server_version')} on port {args.port}, "
          f"fsync {cluster.sql('SHOW fsync')}, synchronous_commit {cluster.sql('SHOW synchronous_commit')}", flush=True)
    names = ["psql", *(["psql-1", "message"] if args.single else []), *tools]
    whole = work / "whole.sql"
    whole.write_text("".join(p.read_text() + "\n;\n" for p in sorted(history_files(history, None), key=lambda p: int(p.name.split("_")[0]))))
    results = {name: [] for name in names}
    try:
        for round_ in range(args.rounds):
            order = names[round_ % len(names):] + names[:round_ % len(names)]
            for name in order:
                database = f"bench_{name.replace('-', '_')}_{round_}"
                cluster.sql(f"DROP DATABASE IF EXISTS {database}")
                cluster.sql(f"CREATE DATABASE {database}")
                cluster.sql("CHECKPOINT")
                url = cluster.url(database)
                if name == "psql-1":
                    command = ["psql", "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1", "-1",
                               "-f", str(whole), "--dbname", url]
                    cwd = work
                elif name == "message":
                    command = [str(args.floor_python), "-P", "-c",
                               "import asyncio, asyncpg, sys, time\n"
                               "async def main():\n"
                               "    started = time.perf_counter()\n"
                               "    conn = await asyncpg.connect(sys.argv[1])\n"
                               "    await conn.execute('BEGIN;\\n' + open(sys.argv[2]).read() + '\\n;COMMIT;')\n"
                               "    await conn.close()\n"
                               "    print(time.perf_counter() - started)\n"
                               "asyncio.run(main())\n", url, str(whole)]
                    cwd = work
                elif name == "psql":
                    command = ["bash", str(ROOT / "bench" / "apply_with_psql.sh"), url, str(history)]
                    cwd = work
                else:
                    cwd = work / name
                    cwd.mkdir(exist_ok=True)
                    (cwd / "skein.toml").write_text(
                        f'[default.databases.app]\nmigrations = "{history}"\nurl = "{url}"\n')
                    command = [str(tools[name]), "up", "-q"]
                cluster.sql("SELECT pg_stat_statements_reset()")
                started = time.perf_counter()
                done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
                wall = time.perf_counter() - started
                if name == "message" and done.returncode == 0:
                    wall = float(done.stdout.split()[-1])  # from connect on: no interpreter start
                if done.returncode != 0:
                    sys.exit(f"{name} failed ({done.returncode}):\n{done.stderr[-3000:]}")
                row = cluster.sql(
                    "SELECT round(sum(total_exec_time + total_plan_time)::numeric, 1), sum(calls) "
                    "FROM pg_stat_statements WHERE toplevel AND dbid = "
                    f"(SELECT oid FROM pg_database WHERE datname = '{database}')")
                server_ms, calls = row.split("|")
                server = float(server_ms) / 1000
                results[name].append((wall, server, int(calls)))
                print(f"round {round_ + 1} {name:<9} wall {wall:7.3f} s  server {server:7.3f} s  "
                      f"{int(calls):>6} statements  {wall / server:5.2f}x", flush=True)
                cluster.sql(f"DROP DATABASE {database}")
    finally:
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{'tool':<9} {'wall s':>8} {'server s':>9} {'statements':>10} {'wall/server':>12}")
    for name in names:
        walls = [r[0] for r in results[name]]
        servers = [r[1] for r in results[name]]
        ratios = [r[0] / r[1] for r in results[name]]
        print(f"{name:<9} {statistics.median(walls):>8.3f} {statistics.median(servers):>9.3f} "
              f"{results[name][0][2]:>10} {statistics.median(ratios):>11.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
