#!/usr/bin/env python3
"""The connection floor of a fleet: every database opened by a minimal client that runs
`SELECT 1` and closes, --concurrency at a time (8: skein's default). What no migration
tool can go below for a command that reads every database once.

    floor.py sqlite DIR                 every DIR/*.db, with Python's sqlite3 (threads)
    floor.py postgres ADMIN_URL PREFIX  every database whose name starts with PREFIX,
                                        with asyncpg (pip install asyncpg), TLS off as
                                        skein has it on loopback

Prints the number of databases opened; exits 1 if one could not be.
"""

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def sqlite_floor(folder: Path, concurrency: int) -> int:
    import sqlite3

    def one(path: Path) -> None:
        conn = sqlite3.connect(path)
        try:
            conn.execute("SELECT 1").fetchone()
        finally:
            conn.close()

    files = sorted(folder.glob("*.db"))
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, files))
    return len(files)


def postgres_floor(admin_url: str, prefix: str, concurrency: int) -> int:
    import asyncio

    import asyncpg

    base = admin_url.partition("?")[0].rsplit("/", 1)[0]

    async def main() -> int:
        admin = await asyncpg.connect(admin_url, ssl=False)
        names = [r[0] for r in await admin.fetch(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", prefix)]
        await admin.close()
        gate = asyncio.Semaphore(concurrency)

        async def one(name: str) -> None:
            async with gate:
                conn = await asyncpg.connect(f"{base}/{name}", ssl=False)
                try:
                    await conn.fetchval("SELECT 1")
                finally:
                    await conn.close()

        await asyncio.gather(*(one(n) for n in names))
        return len(names)

    return asyncio.run(main())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("backend", choices=("sqlite", "postgres"))
    parser.add_argument("where", help="the folder (sqlite) or an admin URL (postgres)")
    parser.add_argument("prefix", nargs="?", default="", help="postgres: the databases' name prefix")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    if args.backend == "sqlite":
        count = sqlite_floor(Path(args.where), args.concurrency)
    else:
        count = postgres_floor(args.where, args.prefix, args.concurrency)
    print(count)
    return 0 if count else 1


if __name__ == "__main__":
    sys.exit(main())
