#!/usr/bin/env python3
"""Attacks skein the way a hostile user and a flaky network would, and prints figures.

Run by hand, never by `cargo test`. Needs the release binary (cargo build --release -p skein-migrate),
PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth) and MariaDB at 127.0.0.1:3306
(root, no password), and the psql and mysql clients. Python standard library only.

  python3 bench/attack.py            # every attack, about 10 minutes
  python3 bench/attack.py --quick    # fewer runs of each
  python3 bench/attack.py --only kill9-pg,sigterm  # some attacks only

Every database it makes is named skein_attack_<pid>_... and dropped at the end. Every
attack is bounded in count and in time and stops by itself. Only loopback is contacted.
"""

import argparse
import json
import os
import random
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKEIN = ROOT / "target" / "release" / "skein"
PID = os.getpid()
PREFIX = f"skein_attack_{PID}_"
PG = "postgres://postgres@127.0.0.1:5432"
MY = "mysql://root@127.0.0.1:3306"

RESULTS = []  # (attack, runs, passed, failed, figures)
DEFECTS = []  # free text, printed at the end
WORK = Path(tempfile.mkdtemp(prefix="skein_attack_"))
PG_DBS = set()
MY_DBS = set()


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def defect(text):
    if text not in DEFECTS:
        DEFECTS.append(text)
    log("  DEFECT:", text)


# ---------------------------------------------------------------- servers


def psql(sql, db="postgres", check=True):
    r = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-AtXq", "-v", "ON_ERROR_STOP=1", "-c", sql],
        env={**os.environ, "PGDATABASE": db, "PGCONNECT_TIMEOUT": "5"},
        capture_output=True, text=True, timeout=60,
    )
    if check and r.returncode != 0:
        raise RuntimeError(f"psql {sql!r} on {db!r}: {r.stderr.strip()}")
    return r.stdout.rstrip("\n")


def mysql(sql, db=None, check=True):
    cmd = ["mysql", "-h", "127.0.0.1", "-P", "3306", "-u", "root", "-N", "-B", "-r", "-e", sql]
    if db:
        cmd.append(db)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise RuntimeError(f"mysql {sql!r}: {r.stderr.strip()}")
    return r.stdout.rstrip("\n")


def pg_lit(s):
    """A PostgreSQL text literal for any string, with no quoting to get wrong."""
    return f"convert_from(decode('{s.encode().hex()}', 'hex'), 'UTF8')"


def my_lit(s):
    return f"CONVERT(0x{s.encode().hex()} USING utf8mb4)" if s else "''"


def pg_ident(s):
    return '"' + s.replace('"', '""') + '"'


def my_ident(s):
    return "`" + s.replace("`", "``") + "`"


def pg_create(name):
    psql(f"CREATE DATABASE {pg_ident(name)}")
    PG_DBS.add(name)


def pg_drop(name):
    psql(f"DROP DATABASE IF EXISTS {pg_ident(name)} WITH (FORCE)", check=False)
    PG_DBS.discard(name)


def my_create(name):
    mysql(f"CREATE DATABASE {my_ident(name)}")
    MY_DBS.add(name)


def my_drop(name):
    mysql(f"DROP DATABASE IF EXISTS {my_ident(name)}", check=False)
    MY_DBS.discard(name)


def pg_databases():
    return set(psql("SELECT datname FROM pg_database").splitlines())


def my_databases():
    return set(mysql("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA").splitlines())


def pg_advisory_locks(db):
    return int(psql(
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        f"WHERE l.locktype = 'advisory' AND d.datname = {pg_lit(db)}"))


def wait_until(pred, limit):
    """Seconds until pred() is true, or None after limit seconds."""
    t0 = time.monotonic()
    while True:
        if pred():
            return time.monotonic() - t0
        if time.monotonic() - t0 > limit:
            return None
        time.sleep(0.05)


def pg_tables(db):
    return set(psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", db).splitlines())


def pg_history(db):
    if "skein_history" not in pg_tables(db):
        return {}
    rows = psql("SELECT version, success FROM skein_history", db).splitlines()
    return {int(v): s == "t" for v, s in (r.split("|") for r in rows)}


def my_tables(db):
    return set(mysql(f"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = {my_lit(db)}").splitlines())


def my_history(db):
    if "skein_history" not in my_tables(db):
        return {}
    rows = mysql("SELECT version, success FROM skein_history", db).splitlines()
    return {int(v): s not in ("0", "false") for v, s in (r.split("\t") for r in rows)}


def sqlite_tables(path):
    if not Path(path).exists():
        return set()
    c = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        c.close()


def sqlite_history(path):
    if "skein_history" not in sqlite_tables(path):
        return {}
    c = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return {int(v): bool(s) for v, s in c.execute("SELECT version, success FROM skein_history")}
    finally:
        c.close()


# ---------------------------------------------------------------- skein


def workspace(name, url, migrations, extra=""):
    """A folder with skein.toml (one database `t`) and the given {filename: text}."""
    ws = WORK / name
    if ws.exists():
        shutil.rmtree(ws)
    (ws / "mig").mkdir(parents=True)
    for fname, text in migrations.items():
        (ws / "mig" / fname).write_text(text)
    (ws / "skein.toml").write_text(f'{extra}[default.databases.t]\nmigrations = "mig"\nurl = {json.dumps(url)}\n')
    return ws


def skein(ws, *args, env=None, timeout=120):
    """Runs skein to completion: (rc, stdout bytes, stderr bytes, seconds). rc None: timed out (killed)."""
    cmd = [str(SKEIN), "--config", str(ws / "skein.toml"), *args]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, cwd=ws, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env={**os.environ, **(env or {})})
    try:
        out, err = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        rc = None
    return rc, out, err, time.monotonic() - t0


def start_skein(ws, *args, env=None):
    cmd = [str(SKEIN), "--config", str(ws / "skein.toml"), *args]
    out = open(ws / "out.txt", "wb")
    err = open(ws / "err.txt", "wb")
    p = subprocess.Popen(cmd, cwd=ws, stdout=out, stderr=err, env={**os.environ, **(env or {})})
    out.close()
    err.close()
    return p


def outputs(ws):
    return (ws / "out.txt").read_bytes(), (ws / "err.txt").read_bytes()


def short(b, n=300):
    s = b.decode("utf-8", "replace").strip() if isinstance(b, bytes) else str(b)
    return s if len(s) <= n else s[:n] + "..."


def panicked(rc, err):
    return rc == 101 or b"panicked" in err


# ---------------------------------------------------------------- migration sets

N_MIG = 10
NO_TX = {3, 7}


def pg_set(rng):
    files = {}
    for i in range(1, N_MIG + 1):
        head = "-- skein:no-transaction\n" if i in NO_TX else ""
        files[f"{i}_step_{i}.up.sql"] = (
            f"{head}CREATE TABLE m{i}_a (id int);\nSELECT pg_sleep({rng.uniform(0.1, 0.3):.2f});\n"
            f"CREATE TABLE m{i}_b (id int);\n")
        files[f"{i}_step_{i}.down.sql"] = f"DROP TABLE m{i}_b;\nDROP TABLE m{i}_a;\n"
    return files


def sqlite_set(rng):
    files = {}
    for i in range(1, N_MIG + 1):
        head = "-- skein:no-transaction\n" if i in NO_TX else ""
        k = rng.randint(150000, 400000)
        files[f"{i}_step_{i}.up.sql"] = (
            f"{head}CREATE TABLE m{i}_a (x);\n"
            f"INSERT INTO m{i}_a SELECT x FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {k}) SELECT x FROM c);\n"
            f"CREATE TABLE m{i}_b (x);\n")
        files[f"{i}_step_{i}.down.sql"] = f"DROP TABLE m{i}_b;\nDROP TABLE m{i}_a;\n"
    return files


def judge(tables, history):
    """Whole-or-absent over the m{i}_a/m{i}_b set: (ok, unfinished versions, complaints)."""
    bad, unfinished = [], []
    for i in range(1, N_MIG + 1):
        a, b = f"m{i}_a" in tables, f"m{i}_b" in tables
        row = history.get(i)
        if row is False:
            if i in NO_TX:
                unfinished.append(i)
            else:
                bad.append(f"m{i}: transactional migration has an unfinished row (a={a} b={b})")
        elif row is True and not (a and b):
            bad.append(f"m{i}: history says applied but a={a} b={b}")
        elif row is None and (a or b):
            bad.append(f"m{i}: no history row but a={a} b={b}")
    return not bad, unfinished, bad


def at_head(tables, history):
    return all(history.get(i) is True for i in range(1, N_MIG + 1)) and all(
        f"m{i}_{s}" in tables for i in range(1, N_MIG + 1) for s in "ab")


def recover(ws, state, drop_tables, extra=()):
    """`skein up`; if an unfinished row blocks it, undo that step by hand, `repair`, `up` again."""
    rc, out, err, _ = skein(ws, "-q", "up", "--lock-timeout", "20s", *extra)
    repaired = False
    if rc != 0:
        tables, history = state()
        unfinished = [v for v, ok in history.items() if not ok]
        if unfinished:
            drop_tables(unfinished)
            r2 = skein(ws, "-q", "repair", "--db", "t")
            repaired = True
            rc, out, err, _ = skein(ws, "-q", "up", "--lock-timeout", "20s", *extra)
            if r2[0] != 0:
                err = r2[2] + err
    tables, history = state()
    return rc == 0 and at_head(tables, history), repaired, rc, err


# ---------------------------------------------------------------- 1 + 2: kill -9 and SIGTERM


def signal_attack(label, backend, sig, runs, rng, max_delay):
    """Start `skein up`, send sig at a random moment, check what it left."""
    passed = failed = landed = unfinished_total = repaired_total = exited_143 = 0
    exit_times, lock_times, complaints = [], [], []
    for n in range(runs):
        files = pg_set(rng) if backend == "pg" else sqlite_set(rng)
        if backend == "pg":
            db = f"{PREFIX}{label}_{n}".replace("-", "_")
            pg_create(db)
            ws = workspace(f"{label}_{n}", f"{PG}/{urllib.parse.quote(db)}", files)
            state = lambda: (pg_tables(db), pg_history(db))
            drop = lambda vs: [psql(f"DROP TABLE IF EXISTS m{v}_a, m{v}_b", db) for v in vs]
        else:
            ws = workspace(f"{label}_{n}", "sqlite://t.db", files)
            path = ws / "t.db"
            state = lambda: (sqlite_tables(path), sqlite_history(path))

            def drop(vs, path=path):
                c = sqlite3.connect(path)
                for v in vs:
                    c.execute(f"DROP TABLE IF EXISTS m{v}_a")
                    c.execute(f"DROP TABLE IF EXISTS m{v}_b")
                c.commit()
                c.close()
        problems = []
        delay = rng.uniform(0.05, max_delay)
        p = start_skein(ws, "up", "--lock-timeout", "20s")
        time.sleep(delay)
        was_running = p.poll() is None
        t_sig = time.monotonic()
        if was_running:
            landed += 1
            p.send_signal(sig)
        try:
            rc = p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
            problems.append("did not exit within 60 s of the signal")
        t_exit = time.monotonic() - t_sig
        out, err = outputs(ws)
        if panicked(rc, err):
            problems.append(f"panicked: {short(err)}")
        if sig == signal.SIGTERM and was_running:
            exit_times.append(t_exit)
            if rc == 143:
                exited_143 += 1
            if rc not in (143, 0):
                problems.append(f"exit code {rc} after SIGTERM (stderr: {short(err)})")
            if rc == 0:
                # The run finished between our poll and the signal: not an interruption.
                pass
            if t_exit > 5:
                problems.append(f"took {t_exit:.1f} s to exit after SIGTERM")
        # the lock
        if backend == "pg":
            lt = wait_until(lambda: pg_advisory_locks(db) == 0, 30)
            if lt is None:
                problems.append("advisory lock still held 30 s after the process ended")
            else:
                lock_times.append(lt)
        else:
            lock = Path(str(path) + "-skein.lock")
            if lock.exists():
                r = subprocess.run(["flock", "-n", str(lock), "true"], capture_output=True)
                if r.returncode != 0:
                    problems.append("SQLite lock file still locked after the process ended")
            lock_times.append(0.0)
        tables, history = state()
        ok, unfinished, bad = judge(tables, history)
        problems += bad
        if unfinished:
            unfinished_total += len(unfinished)
            if sig == signal.SIGTERM:
                problems.append(f"SIGTERM left no-transaction step(s) {unfinished} unfinished "
                                "(README: a step outside a transaction is left to finish)")
        # the next run must not wait for a lock, and must reach head
        t0 = time.monotonic()
        good, repaired, rc2, err2 = recover(ws, state, drop)
        if repaired:
            repaired_total += 1
        if not good:
            problems.append(f"recovery did not reach head (rc {rc2}): {short(err2)}")
        if b"lock" in err2.lower() and (b"timed out" in err2.lower() or b"held" in err2.lower()):
            problems.append(f"next run waited for a lock: {short(err2)}")
        if problems:
            failed += 1
            complaints.append(f"run {n} (signal at {delay:.2f} s, exit {rc}): " + "; ".join(problems))
            log(f"  {label} run {n}: FAIL: " + "; ".join(problems))
        else:
            passed += 1
        if backend == "pg":
            pg_drop(db)
    figures = [f"signal landed mid-run {landed}/{runs}", f"unfinished no-tx rows {unfinished_total}",
               f"repair needed {repaired_total}"]
    if exit_times:
        figures.append(f"exit 143 {exited_143}/{landed}, max exit {max(exit_times):.2f} s")
    if backend == "pg" and lock_times:
        figures.append(f"max lock release {max(lock_times):.2f} s")
    RESULTS.append((label, runs, passed, failed, ", ".join(figures)))
    for c in complaints[:5]:
        defect(f"{label}: {c}")


def pg_calibrate(rng):
    """Seconds an uninterrupted `skein up` of the PostgreSQL set takes."""
    db = f"{PREFIX}calibrate"
    pg_create(db)
    ws = workspace("pg_calibrate", f"{PG}/{db}", pg_set(rng))
    rc, _, err, secs = skein(ws, "-q", "up")
    if rc != 0:
        log(f"  PostgreSQL calibration run failed: {short(err)}")
    pg_drop(db)
    log(f"  an uninterrupted run takes {secs:.2f} s")
    return secs


def attack_kill9_pg(args, rng):
    signal_attack("kill9-pg", "pg", signal.SIGKILL, args.runs, rng, pg_calibrate(rng) * 1.05)


def attack_sigterm(args, rng):
    signal_attack("sigterm-pg", "pg", signal.SIGTERM, args.runs, rng, pg_calibrate(rng) * 1.05)
    # calibrate: how long does an uninterrupted SQLite run take?
    ws = workspace("sqlite_calibrate", "sqlite://t.db", sqlite_set(rng))
    rc, _, err, secs = skein(ws, "-q", "up")
    if rc != 0:
        log(f"  SQLite calibration run failed: {short(err)}")
    log(f"  an uninterrupted SQLite run takes {secs:.2f} s")
    signal_attack("sigterm-sqlite", "sqlite", signal.SIGTERM, args.runs, rng, max(0.5, secs * 1.1))


# ---------------------------------------------------------------- 3: kill -9 on MariaDB

MY_DATA = {1, 3, 4, 6, 8, 9}  # the rest are DDL


def my_set(rng):
    files = {}
    for i in range(1, N_MIG + 1):
        if i in MY_DATA:
            files[f"{i}_data_{i}.up.sql"] = (
                f"INSERT INTO t (id, part) VALUES ({i}, 1);\nDO SLEEP({rng.uniform(0.1, 0.3):.2f});\n"
                f"INSERT INTO t (id, part) VALUES ({i}, 2);\n")
        else:
            files[f"{i}_ddl_{i}.up.sql"] = (
                f"CREATE TABLE d{i}_a (id int);\nDO SLEEP({rng.uniform(0.1, 0.3):.2f});\nCREATE TABLE d{i}_b (id int);\n")
    return files


def attack_kill9_mariadb(args, rng):
    runs = max(3, args.runs // 2)
    passed = failed = landed = unfinished_total = 0
    lock_times, complaints, status_missed = [], [], 0
    for n in range(runs):
        db = f"{PREFIX}k9my_{n}"
        my_create(db)
        mysql("CREATE TABLE t (id int, part int) ENGINE=InnoDB", db)
        ws = workspace(f"k9my_{n}", f"{MY}/{urllib.parse.quote(db)}", my_set(rng))
        problems = []
        delay = rng.uniform(0.05, 2.5)
        p = start_skein(ws, "up", "--lock-timeout", "20s")
        time.sleep(delay)
        if p.poll() is None:
            landed += 1
            p.kill()
        rc = p.wait()
        # The killed session (and its GET_LOCK) ends when the server notices the closed socket.
        lt = wait_until(lambda: mysql(
            f"SELECT count(*) FROM information_schema.PROCESSLIST WHERE DB = {my_lit(db)}") == "0", 30)
        if lt is None:
            problems.append("the killed session is still on the server after 30 s")
        else:
            lock_times.append(lt)
        history = my_history(db)
        tables = my_tables(db)
        unfinished = []
        for i in range(1, N_MIG + 1):
            row = history.get(i)
            if i in MY_DATA:
                parts = mysql(f"SELECT count(*) FROM t WHERE id = {i}", db)
                if row is False:
                    problems.append(f"data migration {i} has an unfinished row (a data file should be one transaction)")
                elif row is True and parts != "2":
                    problems.append(f"data migration {i} applied but {parts}/2 rows")
                elif row is None and parts != "0":
                    problems.append(f"data migration {i} has no row but {parts}/2 rows (half-applied)")
            else:
                a, b = f"d{i}_a" in tables, f"d{i}_b" in tables
                if row is False:
                    unfinished.append(i)
                elif row is True and not (a and b):
                    problems.append(f"DDL migration {i} applied but a={a} b={b}")
                elif row is None and (a or b):
                    problems.append(f"DDL migration {i} has no row but a={a} b={b}")
        if unfinished:
            unfinished_total += len(unfinished)
            rc_s, out_s, err_s, _ = skein(ws, "--format", "json", "status")
            try:
                st = json.loads(out_s)["databases"][0]
                reported = st.get("status") == "problems" or bool(st.get("problems"))
            except Exception:
                reported = False
            if not reported:
                status_missed += 1
                problems.append(f"`skein status` does not report the unfinished row {unfinished}: {short(out_s)}")
        # GET_LOCK released: a new run with --lock-timeout 2s must not time out on the lock.
        rc2, out2, err2, secs2 = skein(ws, "-q", "up", "--lock-timeout", "2s")
        if b"lock" in err2.lower() and (b"timed out" in err2.lower() or b"held" in err2.lower() or b"waited" in err2.lower()):
            problems.append(f"GET_LOCK still held: {short(err2)}")
        if rc2 != 0:
            for v in unfinished:
                mysql(f"DROP TABLE IF EXISTS d{v}_a, d{v}_b", db)
            skein(ws, "-q", "repair", "--db", "t")
            rc2, out2, err2, _ = skein(ws, "-q", "up", "--lock-timeout", "20s")
        history = my_history(db)
        if rc2 != 0 or not all(history.get(i) is True for i in range(1, N_MIG + 1)):
            problems.append(f"did not reach head after repair (rc {rc2}): {short(err2)}")
        for i in MY_DATA:
            if mysql(f"SELECT count(*) FROM t WHERE id = {i}", db) != "2":
                problems.append(f"data migration {i} not exactly once at head")
        if problems:
            failed += 1
            complaints.append(f"run {n} (kill at {delay:.2f} s, exit {rc}): " + "; ".join(problems))
            log(f"  kill9-mariadb run {n}: FAIL: " + "; ".join(problems))
        else:
            passed += 1
        my_drop(db)
    RESULTS.append(("kill9-mariadb", runs, passed, failed,
                    f"kill landed mid-run {landed}/{runs}, unfinished DDL rows {unfinished_total} "
                    f"(status missed {status_missed}), max session gone {max(lock_times or [0]):.2f} s"))
    for c in complaints[:5]:
        defect(f"kill9-mariadb: {c}")


# ---------------------------------------------------------------- 4: hostile identifiers


def hostile_names(victim):
    return [
        'q"uote', "b`tick", "s'quote", "semi;colon", "sp ace", "da--sh", "ünï☃", "pct%41",
        "sl/ash", "q?x=1#f", "back\\slash",
        f'x"; DROP DATABASE {victim}; --',
        f"x`; DROP DATABASE {victim}; -- ",
        "x'); DROP TABLE canary; --",
    ]


def hostile_backend(backend, victim):
    runs = passed = failed = refused = 0
    complaints = []
    short_victim = victim
    if backend == "pg":
        pg_create(victim)
        psql("CREATE TABLE canary (id int); INSERT INTO canary VALUES (1)", victim)
        before = pg_databases()
        alive = lambda: victim in pg_databases() and psql("SELECT count(*) FROM canary", victim) == "1" \
            and pg_tables(victim) == {"canary"} and "skein_history" not in pg_tables("postgres")
        exists = lambda n: n in pg_databases()
        tables = pg_tables
        dbs = pg_databases
        drop = pg_drop
    elif backend == "mariadb":
        my_create(victim)
        mysql("CREATE TABLE canary (id int); INSERT INTO canary VALUES (1)", victim)
        before = my_databases()
        alive = lambda: victim in my_databases() and mysql("SELECT count(*) FROM canary", victim) == "1" \
            and my_tables(victim) == {"canary"}
        exists = lambda n: n in my_databases()
        tables = my_tables
        dbs = my_databases
        drop = my_drop
    for i, h in enumerate(hostile_names(short_victim)):
        name = f"skein_attack_{h}"
        if backend == "mariadb" and len(name) > 64 or backend == "pg" and len(name.encode()) > 63:
            name = name[:60]
        runs += 1
        problems = []
        url = f"{PG if backend == 'pg' else MY}/{urllib.parse.quote(name, safe='')}"
        files = {"1_one.up.sql": "CREATE TABLE h1 (id int);\n", "1_one.down.sql": "DROP TABLE h1;\n",
                 "2_two.up.sql": "CREATE TABLE h2 (id int);\n", "2_two.down.sql": "DROP TABLE h2;\n"}
        ws = workspace(f"hostile_{backend}_{i}", url, files)
        if backend == "pg":
            PG_DBS.add(name)
        else:
            MY_DBS.add(name)
        steps = []
        rc, out, err, _ = skein(ws, "db", "create", timeout=60)
        steps.append(("db create", rc, out, err))
        created = exists(name)
        outcome = "ok"
        if rc == 0 and not created:
            problems.append("`db create` exited 0 but no database with the exact name exists")
        if rc != 0:
            outcome = "refused"
            if created:
                problems.append(f"`db create` failed but made the database: {short(err)}")
        else:
            for cmd in (["up"], ["status"], ["down", "--db", "t", "--to", "base"]):
                rc, out, err, _ = skein(ws, *cmd, timeout=60)
                steps.append((" ".join(cmd), rc, out, err))
                if rc != 0:
                    problems.append(f"`{' '.join(cmd)}` exit {rc}: {short(err)}")
                if cmd == ["up"] and rc == 0:
                    t = tables(name)
                    if not {"h1", "h2", "skein_history"} <= t:
                        problems.append(f"after `up` the named database has {sorted(t)}")
                if cmd[0] == "down" and rc == 0:
                    t = tables(name)
                    if t & {"h1", "h2"}:
                        problems.append(f"after `down --to base` the named database still has {sorted(t)}")
        for what, rc, out, err in steps:
            if panicked(rc, err):
                problems.append(f"`{what}` panicked: {short(err)}")
        if not alive():
            problems.append("the victim database or its canary is gone or changed")
        # other people's test databases come and go on a shared server: look at ours only
        extra = {d for d in dbs() - before - {name} if d.startswith("skein_attack_")}
        if extra:
            problems.append(f"unexpected databases appeared: {sorted(extra)}")
        drop(name)
        if problems:
            failed += 1
            complaints.append(f"{backend} database {name!r}: " + "; ".join(problems))
            log(f"  hostile {backend} {name!r}: FAIL: " + "; ".join(problems))
        else:
            passed += 1
            if outcome == "refused":
                refused += 1
                log(f"  hostile {backend} {name!r}: refused cleanly: {short(steps[0][3], 160)}")
    drop(victim)
    RESULTS.append((f"hostile-db-{backend}", runs, passed, failed, f"refused cleanly {refused}, full cycle {passed - refused}"))
    for c in complaints:
        defect(f"hostile identifiers: {c}")


def hostile_sqlite():
    runs = passed = failed = 0
    complaints = []
    for i, h in enumerate(hostile_names("victim.db")):
        runs += 1
        problems = []
        name = f"x_{h}".replace("/", "_")  # a / is a directory
        files = {"1_one.up.sql": "CREATE TABLE h1 (id int);\n", "1_one.down.sql": "DROP TABLE h1;\n"}
        ws = workspace(f"hostile_sqlite_{i}", "sqlite://" + urllib.parse.quote(name, safe=""), files)
        victim = ws / "victim.db"
        c = sqlite3.connect(victim)
        c.execute("CREATE TABLE canary (id int)")
        c.execute("INSERT INTO canary VALUES (1)")
        c.commit()
        c.close()
        before = set(os.listdir(ws))
        for cmd in (["db", "create"], ["up"], ["status"], ["down", "--db", "t", "--to", "base"]):
            rc, out, err, _ = skein(ws, *cmd, timeout=60)
            if rc != 0 or panicked(rc, err):
                problems.append(f"`{' '.join(cmd)}` exit {rc}: {short(err)}")
        after = set(os.listdir(ws)) - before - {name, name + "-skein.lock", name + "-journal", name + "-wal", name + "-shm"}
        if after:
            problems.append(f"unexpected files: {sorted(after)} (expected the file {name!r})")
        if sqlite_tables(victim) != {"canary"}:
            problems.append("victim changed")
        if problems:
            failed += 1
            complaints.append(f"sqlite file {name!r}: " + "; ".join(problems))
            log(f"  hostile sqlite {name!r}: FAIL: " + "; ".join(problems))
        else:
            passed += 1
    RESULTS.append(("hostile-db-sqlite", runs, passed, failed, "percent-encoded file names"))
    for c in complaints:
        defect(f"hostile identifiers: {c}")


def hostile_names_in_output():
    """ANSI escapes and newlines in file and model names must not reach the terminal raw."""
    runs = passed = failed = 0
    complaints = []
    files = {
        "1_plain.up.sql": "CREATE TABLE p (id int);\n",
        "2_x\x1b[31mred.up.sql": "CREATE TABLE r (id int);\n",
        "3_new\nline.up.sql": "CREATE TABLE nl (id int);\n",
        "4_osc\x1b]0;pwned\x07title.up.sql": "CREATE TABLE o (id int);\n",
        "5_cr\rover.up.sql": "CREATE TABLE cr (id int);\n",
    }
    ws = workspace("ansi", "sqlite://ansi.db", files)
    models_extra = '[default.models]\ndir = "models"\ntemplate = "tpl"\nurl = "sqlite://m_{model}.db"\n'
    wms = []
    for tag, folder in (("esc", "evil\x1b[31mmodel"), ("nl", "line\nbreak"), ("ok", "fine")):
        wm = workspace(f"ansi_models_{tag}", "sqlite://ansi.db", {"1_plain.up.sql": "CREATE TABLE p (id int);\n"},
                       extra=models_extra)
        (wm / "tpl").mkdir()
        (wm / "tpl" / "1_m.up.sql").write_text("CREATE TABLE mm (id int);\n")
        (wm / "models" / folder).mkdir(parents=True)
        wms.append(wm)
    (wms[2] / "models" / "fine" / "7_own\x1b[2Jclear.up.sql").write_text("CREATE TABLE own (id int);\n")
    bad = "6_fail\x1b[5mblink\nnext.up.sql"
    cases = [
        (ws, ["up"], None), (ws, ["status"], None), (ws, ["history", "--db", "t"], None),
        (ws, ["up", "--dry-run"], None), (ws, ["-vvv", "status"], None), (ws, ["--format", "json", "status"], None),
        (ws, ["up"], bad),  # a failing file: its name is in the error
        (ws, ["status"], bad),
        (wms[0], ["status"], None), (wms[0], ["config", "show"], None),
        (wms[1], ["status"], None), (wms[1], ["model", "list"], None),
        (wms[2], ["up"], None), (wms[2], ["history", "--db", "fine"], None), (wms[2], ["model", "list"], None),
        (wms[2], ["model", "new", "x\x1b[31my"], None), (wms[2], ["model", "new", "x\ny"], None),
    ]
    colour_codes = []
    for ws, cmd, add in cases:
        if add:
            (ws / "mig" / add).write_text("CREATE TABLE oops (;\n")
        runs += 1
        rc, out, err, _ = skein(ws, *cmd, timeout=60)
        problems = []
        if panicked(rc, err):
            problems.append(f"panicked: {short(err)}")
        for stream, data in (("stdout", out), ("stderr", err)):
            if any(m in data for m in (b"\x1b[31m", b"\x1b]0;", b"\x1b[5m", b"\x1b[2J")):
                problems.append(f"raw ESC from a name in {stream}")
            elif b"\x1b" in data:
                colour_codes.append(f"`skein {' '.join(cmd)}`")
            if b"\x07" in data:
                problems.append(f"raw BEL in {stream}")
            if b"\r" in data:
                problems.append(f"raw CR in {stream}")
            lines = data.split(b"\n")
            for ln in lines:
                s = ln.lstrip()
                if s.startswith(b"line") or s.startswith(b"next") or s.startswith(b"break"):
                    problems.append(f"a newline inside a name split a line in {stream}: {ln[:80]!r}")
                    break
        if problems:
            failed += 1
            complaints.append(f"`skein {' '.join(cmd)}` (exit {rc}): " + "; ".join(problems)
                              + f" -- stdout {out[:200]!r} stderr {err[:200]!r}")
            log(f"  names-in-output `{' '.join(cmd)}`: FAIL: " + "; ".join(problems))
        else:
            passed += 1
    RESULTS.append(("hostile-names-output", runs, passed, failed, "ESC/BEL/CR/newline in file, model names"))
    if colour_codes:
        defect("names in output: ANSI colour codes on a stderr that is not a terminal (a pipe) from "
               + ", ".join(colour_codes))
    for c in complaints:
        defect(f"names in output: {c}")


def attack_hostile(args, rng):
    hostile_backend("pg", f"{PREFIX}victim")
    hostile_backend("mariadb", f"{PREFIX}victim")
    hostile_sqlite()
    hostile_names_in_output()


# ---------------------------------------------------------------- 5: secrets


def attack_secrets(args, rng):
    db = f"{PREFIX}secret"
    pg_create(db)
    secrets = {
        "ATTACK_SKEIN_PW": "EnvPw_7f3a9c",
        "ATTACK_SKEIN_QPW": "EnvQueryPw_c41e88",
        "ATTACK_SKEIN_SSLPW": "EnvSslPw_9be120",
    }
    literal = {"lit": "LitPw_55aa01", "q": "LitQueryPw_d00d77", "ssl": "LitSslPw_beef42",
               "odd": "Odd@Pw:/%#_e6e6"}
    all_secrets = list(secrets.values()) + list(literal.values())
    forms = set()
    for s in all_secrets:
        forms |= {s, urllib.parse.quote(s, safe=""), urllib.parse.quote(s)}
    urls = {
        "env-userinfo": f"postgres://postgres:${{env:ATTACK_SKEIN_PW}}@127.0.0.1:5432/{db}",
        "literal-userinfo": f"postgres://postgres:{literal['lit']}@127.0.0.1:5432/{db}",
        "odd-literal-userinfo": f"postgres://postgres:{urllib.parse.quote(literal['odd'], safe='')}@127.0.0.1:5432/{db}",
        "env-query-password": f"postgres://postgres@127.0.0.1:5432/{db}?password=${{env:ATTACK_SKEIN_QPW}}",
        "literal-query-password": f"postgres://postgres@127.0.0.1:5432/{db}?password={literal['q']}",
        "env-query-sslpassword": f"postgres://postgres@127.0.0.1:5432/{db}?sslpassword=${{env:ATTACK_SKEIN_SSLPW}}",
        "literal-query-sslpassword": f"postgres://postgres@127.0.0.1:5432/{db}?sslpassword={literal['ssl']}",
        "wrong-host": f"postgres://postgres:${{env:ATTACK_SKEIN_PW}}@127.0.0.1:1/{db}?password={literal['q']}",
        "wrong-database": f"postgres://postgres:{literal['lit']}@127.0.0.1:5432/{PREFIX}missing?password=${{env:ATTACK_SKEIN_QPW}}",
        "wrong-host-literal": f"postgres://postgres:{literal['lit']}@127.0.0.1:1/{db}",
        "mysql-literal": f"mysql://root:{literal['lit']}@127.0.0.1:1/{db}?password={literal['q']}",
    }
    commands = [["up"], ["status"], ["config", "show"], ["--format", "json", "up"], ["--format", "json", "status"],
                ["--format", "json", "config", "show"], ["-vvv", "up"], ["-vvv", "status"],
                ["history", "--db", "t"], ["up", "--dry-run"], ["up", "--sql"], ["db", "create"]]
    runs = passed = failed = succeeded = 0
    complaints = {}
    files = {"1_s.up.sql": "CREATE TABLE IF NOT EXISTS s (id int);\n"}
    for label, url in urls.items():
        ws = workspace(f"secret_{label}", url, files)
        unreachable = label.startswith("wrong-host") or label.startswith("mysql")
        for cmd in commands:
            if unreachable and "history" in cmd:
                continue  # no --connect-timeout there: it would retry for 30 s
            runs += 1
            env = {**secrets, "RUST_LOG": "trace"} if "-vvv" in cmd else secrets
            argv = list(cmd)
            if "up" in cmd or "status" in cmd or "create" in cmd:
                argv += ["--connect-timeout", "1s"]
            rc, out, err, secs = skein(ws, *argv, env=env, timeout=60)
            if rc == 0:
                succeeded += 1
            leaked = sorted({f for f in forms if f.encode() in out or f.encode() in err})
            problems = []
            if leaked:
                problems.append(f"leaks {leaked}")
            if panicked(rc, err):
                problems.append("panicked")
            if problems:
                failed += 1
                where = "stdout" if any(f.encode() in out for f in leaked) else "stderr"
                complaints.setdefault(label, []).append(f"`skein {' '.join(cmd)}` (exit {rc}) {'; '.join(problems)} in {where}")
            else:
                passed += 1
    for label, cs in complaints.items():
        note = " [depends on the config fixes]" if "query" in label or label.startswith("wrong") or "mysql" in label else ""
        defect(f"secrets, URL {label}{note}: {len(cs)} command(s) leak: " + " | ".join(cs[:6]))
        log(f"  secrets {label}: {len(cs)} leaking command(s)")
    pg_drop(db)
    RESULTS.append(("secrets", runs, passed, failed,
                    f"{len(urls)} URLs x {len(commands)} commands ({succeeded} exit 0); leaking URLs: {', '.join(sorted(complaints)) or 'none'}"))


# ---------------------------------------------------------------- 6: a freezing proxy


class Proxy:
    """127.0.0.1:random -> 127.0.0.1:5432. freeze() stops passing bytes both ways, sockets stay open."""

    def __init__(self, target=("127.0.0.1", 5432)):
        self.target = target
        self.frozen = threading.Event()
        self.closed = threading.Event()
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.lsock.settimeout(0.2)
        self.port = self.lsock.getsockname()[1]
        self.socks = []
        self.lock = threading.Lock()
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed.is_set():
            try:
                c, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                u = socket.create_connection(self.target, timeout=5)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.socks += [c, u]
                self.connections += 1
            threading.Thread(target=self._pump, args=(c, u), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c), daemon=True).start()

    def _pump(self, src, dst):
        while not self.closed.is_set():
            if self.frozen.is_set():
                time.sleep(0.05)
                continue
            try:
                r, _, _ = select.select([src], [], [], 0.1)
                if not r or self.frozen.is_set():
                    continue
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
            except OSError:
                break
        if not self.frozen.is_set():
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def freeze(self):
        self.frozen.set()

    def close(self):
        self.closed.set()
        try:
            self.lsock.close()
        except OSError:
            pass
        with self.lock:
            for s in self.socks:
                try:
                    s.close()
                except OSError:
                    pass


def attack_proxy(args, rng):
    results = []
    passed = failed = 0
    figures = []
    for mode in ("freeze", "freeze+sigterm"):
        db = f"{PREFIX}proxy_{mode.replace('+', '_')}"
        pg_create(db)
        proxy = Proxy()
        files = {
            "1_first.up.sql": "CREATE TABLE p1 (id int);\n",
            "2_slow.up.sql": "CREATE TABLE m2_a (id int);\nSELECT pg_sleep(3);\nCREATE TABLE m2_b (id int);\n",
            "3_after.up.sql": "CREATE TABLE p3 (id int);\n",
        }
        ws = workspace(f"proxy_{mode}", f"postgres://postgres@127.0.0.1:{proxy.port}/{db}", files)
        problems = []
        p = start_skein(ws, "up", "--lock-timeout", "10s")
        t = wait_until(lambda: psql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = " + pg_lit(db) + " AND query LIKE '%pg_sleep(3)%' "
            "AND state = 'active'") != "0", 20)
        if t is None:
            problems.append("the slow step never started")
        time.sleep(0.3)
        proxy.freeze()
        t_freeze = time.monotonic()
        limit = 120
        if mode == "freeze+sigterm":
            time.sleep(0.5)
            t_sig = time.monotonic()
            p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = p.wait()
                problems.append("did not exit within 60 s of SIGTERM behind a frozen network")
            secs = time.monotonic() - t_sig
            figures.append(f"SIGTERM exit {secs:.1f} s (rc {rc})")
            if rc != 143:
                problems.append(f"exit code {rc} after SIGTERM, expected 143")
            if secs > 5:
                problems.append(f"took {secs:.1f} s to exit after SIGTERM behind a frozen network (expected < 5 s)")
        else:
            try:
                rc = p.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = p.wait()
                problems.append(f"still running {limit} s after the network froze")
            secs = time.monotonic() - t_freeze
            figures.append(f"frozen: exit by itself {secs:.1f} s (rc {rc})")
            if not (20 <= secs <= 75):
                problems.append(f"ended {secs:.1f} s after the freeze (expected ~30-60 s)")
            if rc in (0, None):
                problems.append(f"exit code {rc} after losing the server")
        out, err = outputs(ws)
        if panicked(rc, err):
            problems.append(f"panicked: {short(err)}")
        results.append((mode, short(err, 400)))
        log(f"  proxy {mode}: exit {rc} after {secs:.1f} s; stderr: {short(err, 400)}")
        t_close = time.monotonic()
        proxy.close()
        lt = wait_until(lambda: pg_advisory_locks(db) == 0, 60)
        if lt is None:
            problems.append("advisory lock still held 60 s after the proxy closed its sockets")
        else:
            figures.append(f"{mode}: lock gone {lt:.1f} s after proxy close")
            if lt > 5:
                problems.append(f"lock released only {lt:.1f} s after the proxy closed")
        tables, history = pg_tables(db), pg_history(db)
        a, b = "m2_a" in tables, "m2_b" in tables
        row = history.get(2)
        if not ((a and b and row is True) or (not a and not b and row is None)):
            problems.append(f"slow step half-applied: a={a} b={b} row={row}")
        figures.append(f"{mode}: slow step {'whole' if row else 'absent'}")
        if row is True and b"rolled back" in err and b"finishes or rolls back" not in err:
            problems.append("skein said the step was cancelled and rolled back, but the server committed it "
                            "(history row success=true, both tables present)")
        # skein must reach head afterwards, straight to the server
        ws2 = workspace(f"proxy_{mode}_after", f"{PG}/{db}", files)
        rc2, _, err2, _ = skein(ws2, "-q", "up", "--lock-timeout", "10s")
        if rc2 != 0:
            problems.append(f"next `up` failed: {short(err2)}")
        if problems:
            failed += 1
            defect(f"proxy {mode}: " + "; ".join(problems) + f" -- skein stderr: {short(err, 300)}")
        else:
            passed += 1
        pg_drop(db)
    RESULTS.append(("frozen-proxy", 2, passed, failed, "; ".join(figures)))


# ---------------------------------------------------------------- 7: extreme values

EXTREME = ["0", "-1", "-5s", "1e309", "NaN", "inf", "", " ", "garbage", "1h1h", "25h", "86401s", "24h",
           "18446744073709551616", "99999999999999999999999s", "9223372036854775807", "-9223372036854775808",
           "9223372036854775808", "1ms", "0ms", "0s", "1ns", "4294967296", "١٢", "0x10", "10s ", "s", "1/0",
           "0/0", "3/2", "-1/2", "1/-2", "2/18446744073709551616", "auto", "1.5", "base", "head", "%n%s"]


def attack_extreme(args, rng):
    files = {f"{i}_e{i}.up.sql": f"CREATE TABLE e{i} (id int);\n" for i in range(1, 4)}
    files.update({f"{i}_e{i}.down.sql": f"DROP TABLE e{i};\n" for i in range(1, 4)})
    sq = workspace("extreme_sqlite", "sqlite://e.db", files)
    db = f"{PREFIX}extreme"
    pg_create(db)
    pg = workspace("extreme_pg", f"{PG}/{db}", {**files, "4_slow.up.sql": "SELECT pg_sleep(0.3);\n",
                                                 "4_slow.down.sql": "SELECT 1;\n"})
    skein(sq, "-q", "up")
    skein(pg, "-q", "up", "--to", "3")
    templates = [
        ("up", "--lock-timeout"), ("up", "--connect-timeout"), ("up", "--step-timeout"),
        ("up", "--concurrency"), ("up", "--to"), ("up", "--shard"), ("status", "--shard"),
        ("status", "--connect-timeout"), ("down", "--steps"), ("down", "--to"), ("up", "--shards"),
    ]
    runs = passed = failed = hung = 0
    codes = {}
    complaints = []
    values = EXTREME if not args.quick else EXTREME[::2]
    for ws, wsname in ((sq, "sqlite"), (pg, "pg")):
        for command, flag in templates:
            for v in values:
                argv = [command]
                if command == "down":
                    argv += ["--db", "t"]
                if flag == "--shards":
                    argv += ["--shard", "auto"]
                argv += [flag, v]
                if command == "up" and flag != "--to":
                    argv += ["--dry-run"] if v not in ("1ms", "0ms", "0s", "1ns") else []
                runs += 1
                env = {"JOB_COMPLETION_INDEX": "0"}
                rc, out, err, secs = skein(ws, *argv, env=env, timeout=20)
                codes[rc] = codes.get(rc, 0) + 1
                problems = []
                if panicked(rc, err):
                    problems.append(f"panicked (exit {rc}): {short(err, 200)}")
                if rc is None:
                    hung += 1
                    problems.append("still running after 20 s")
                if problems:
                    failed += 1
                    complaints.append(f"{wsname}: `skein {' '.join(argv)}`: " + "; ".join(problems))
                else:
                    passed += 1
                # put the database back where it was
                if rc == 0 and command in ("down", "up"):
                    skein(ws, "-q", "up", *(["--to", "3"] if wsname == "pg" else []))
                    if wsname == "pg":
                        skein(ws, "-q", "down", "--db", "t", "--to", "3")
    # --shard auto with hostile environment
    for idx, shards in (("-1", "2"), ("5", "2"), ("x", "2"), ("0", "0"), ("0", "-1"), ("18446744073709551616", "2"),
                        ("0", "18446744073709551616"), ("", "")):
        runs += 1
        rc, out, err, secs = skein(sq, "status", "--shard", "auto",
                                   env={"JOB_COMPLETION_INDEX": idx, "SKEIN_SHARDS": shards}, timeout=20)
        if panicked(rc, err) or rc is None:
            failed += 1
            complaints.append(f"`JOB_COMPLETION_INDEX={idx} SKEIN_SHARDS={shards} skein status --shard auto`: exit {rc} {short(err, 200)}")
        else:
            passed += 1
    pg_drop(db)
    RESULTS.append(("extreme-values", runs, passed, failed, f"{len(values)} values x {len(templates)} flags x 2 backends; hung {hung}; exit codes "
                    + " ".join(f"{k}:{v}" for k, v in sorted(codes.items(), key=lambda kv: str(kv[0])))))
    for c in complaints[:15]:
        defect(f"extreme values: {c}")


# ---------------------------------------------------------------- main

ATTACKS = {
    "kill9-pg": attack_kill9_pg,
    "sigterm": attack_sigterm,
    "kill9-mariadb": attack_kill9_mariadb,
    "hostile": attack_hostile,
    "secrets": attack_secrets,
    "proxy": attack_proxy,
    "extreme": attack_extreme,
}


def cleanup():
    for db in list(PG_DBS):
        pg_drop(db)
    for db in list(MY_DBS):
        my_drop(db)
    for db in pg_databases():
        if db.startswith(PREFIX):
            pg_drop(db)
    shutil.rmtree(WORK, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer runs of each attack")
    ap.add_argument("--runs", type=int, help="runs of each signal attack (default 20, --quick 5)")
    ap.add_argument("--only", help="comma-separated attacks: " + ",".join(ATTACKS))
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    args.runs = args.runs or (5 if args.quick else 20)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    if not SKEIN.is_file():
        sys.exit("build skein first: cargo build --release -p skein-migrate")
    for tool in ("psql", "mysql"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found")
    try:
        psql("SELECT 1")
        mysql("SELECT 1")
    except Exception as e:
        sys.exit(f"a server is not answering: {e}")
    chosen = args.only.split(",") if args.only else list(ATTACKS)
    log(f"skein {SKEIN}, seed {seed}, work folder {WORK}")
    t_all = time.monotonic()
    try:
        for name in chosen:
            t0 = time.monotonic()
            log(f"== {name}")
            try:
                ATTACKS[name](args, rng)
            except Exception:
                RESULTS.append((name, 0, 0, 1, "the attack itself crashed: " + traceback.format_exc().splitlines()[-1]))
                log(traceback.format_exc())
            log(f"   {name}: {time.monotonic() - t0:.1f} s")
    finally:
        if not args.keep:
            cleanup()
    total = time.monotonic() - t_all
    print(f"\nskein attack suite, seed {seed}, {total:.0f} s")
    w = max(len(r[0]) for r in RESULTS) if RESULTS else 10
    print(f"{'attack':<{w}}  {'runs':>5}  {'passed':>6}  {'failed':>6}  figures")
    for name, runs, p, f, fig in RESULTS:
        print(f"{name:<{w}}  {runs:>5}  {p:>6}  {f:>6}  {fig}")
    if DEFECTS:
        print("\nfindings:")
        for d in DEFECTS:
            print(" -", d)
    sys.exit(1 if any(r[3] for r in RESULTS) else 0)


if __name__ == "__main__":
    main()
