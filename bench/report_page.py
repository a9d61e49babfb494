#!/usr/bin/env python3
"""Renders the HTML page and the Markdown summary of a large fleet's saved JSON report
with `skein report`, and prints the time each takes and their sizes.

    cargo build --release
    python3 bench/report_page.py --databases 5000 --rounds 5

The report is made up, in the shape `skein up --format json` writes: every database with
its start and end times and steps, 1% failed with an error and its file and line, and a
few drifted. The time covers the whole command (start, reading and parsing the JSON,
rendering, writing the page).
"""

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def report(count: int) -> dict:
    rng = random.Random(7)
    start = datetime(2026, 12, 5, 12, 0, 0, tzinfo=timezone.utc)
    databases = []
    for i in range(count):
        began = start + timedelta(milliseconds=i * 3)
        took = rng.randint(20, 400)
        db = {
            "name": f"model_{i}",
            "status": "ok",
            "started_at": began.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "finished_at": (began + timedelta(milliseconds=took)).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "version_before": 20240301120000,
            "version_after": 20240401090000,
            "steps": [{"version": 20240401090000, "description": "index liquidations", "direction": "up", "ms": took}],
        }
        if i % 100 == 7:
            db["status"] = "failed"
            db["error"] = {
                "message": f"database/models/model_{i}/20240401090000_index_liquidations.up.sql:2:1: column \"positionz\" does not exist",
                "file": f"database/models/model_{i}/20240401090000_index_liquidations.up.sql",
                "line": 2,
                "column": 1,
                "code": "42703",
            }
            db["version_after"] = 20240301120000
        databases.append(db)
    return {"schema_version": 5, "command": "up", "profile": "prod", "databases": databases}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    skein = ROOT / "target" / "release" / "skein"
    if not skein.is_file():
        sys.exit("build skein first: cargo build --release")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.json"
        path.write_text(json.dumps(report(args.databases)))
        json_size = path.stat().st_size
        results = {}
        for name, extra in (("html", []), ("markdown", ["--format", "markdown"])):
            times, size, lines = [], 0, 0
            for _ in range(args.rounds):
                started = time.perf_counter()
                out = subprocess.run([str(skein), "report", *extra, str(path)], capture_output=True, check=True)
                times.append(time.perf_counter() - started)
                size, lines = len(out.stdout), out.stdout.count(b"\n")
            results[name] = (statistics.median(times), min(times), size, lines)
    print(f"{args.databases} databases ({json_size} bytes of JSON), {args.rounds} rounds:")
    print(f"{'output':<9} {'median s':>9} {'min s':>8} {'bytes':>10} {'lines':>7}")
    for name, (median, least, size, lines) in results.items():
        print(f"{name:<9} {median:>9.3f} {least:>8.3f} {size:>10} {lines:>7}")


if __name__ == "__main__":
    main()
