"""Writes an Alembic project's revisions as SQL, for `skein import --from alembic`.

skein runs this with the project's own Python (the one its `alembic` runs on), so that the
revisions import what they import as they do under Alembic. It uses Alembic's API, not its
command line: the revisions are found from the project's ini file (`script_location`,
`version_locations`), ordered from their bases (merges after all their parents), and each
one's `upgrade()` and `downgrade()` are run with Alembic's operations:

- offline first, as `alembic upgrade --sql` does, writing SQL without a database;
- when a revision cannot run offline (it reads the database: `sa.inspect(op.get_bind())`,
  a data migration, SQLite's batch mode), and a scratch database is given, the whole
  chain runs online against it, up and then down, and the SQL each revision sent is
  recorded (SQLAlchemy's cursor events), its parameters rendered as literals.

Alembic's own bookkeeping (its version table) is never written: the runner that keeps it
is not used. The project's env.py is not run either: it may read settings or connect to
the team's database, and the revisions need neither.

Usage: python export.py REQUEST.json; the request names the result file. Whatever the
revisions print goes to stderr.
"""

import io
import json
import re
import sys
import traceback

READ_ONLY = re.compile(r"^\s*(select|show|pragma|explain|describe)\b", re.IGNORECASE)
VERSION_TABLE = re.compile(r"version_table\s*=\s*[\"']([A-Za-z0-9_]+)[\"']")
CREATE_DATE = re.compile(
    r"Create Date:\s*(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})"
)


# The MetaData env.py gives as target_metadata (`--metadata`): its naming convention names
# the constraints the revisions make, as under Alembic.
TARGET = {"metadata": None}


def main():
    with open(sys.argv[1], encoding="utf-8") as request_file:
        request = json.load(request_file)
    result_path = request["result"]
    sys.stdout = sys.stderr
    try:
        result = export(request)
    except Exception as error:  # the project itself does not load
        result = {"error": describe(error, None)}
    with open(result_path, "w", encoding="utf-8") as out:
        json.dump(result, out)


def export(request):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config(request["ini"], ini_section=request.get("section") or "alembic")
    script = ScriptDirectory.from_config(config)  # applies prepend_sys_path
    if request.get("metadata"):
        TARGET["metadata"] = named_metadata(request["metadata"])
    revisions = ordered(script)
    dialect = dialect_of(config) or request.get("dialect") or "postgresql"
    entries = []
    for revision in revisions:
        entry = {
            "id": revision.revision,
            "parents": list(parents_of(revision)),
            "message": (revision.doc or "").strip().splitlines()[0]
            if (revision.doc or "").strip()
            else "",
            "created": created(revision),
            "branch_labels": sorted(revision.branch_labels or []),
            "path": revision.path,
            "mode": "offline",
        }
        for direction in ("upgrade", "downgrade"):
            try:
                entry[direction] = offline(config, script, revision, direction, dialect)
            except Exception as error:
                entry[direction] = None
                entry[direction + "_error"] = describe(error, revision.path)
        entries.append(entry)
    failed = [e for e in entries if e["upgrade"] is None or e["downgrade"] is None]
    scratch = request.get("scratch")
    base = request.get("base")
    if failed and scratch:
        online(config, script, revisions, entries, scratch, base)
    return {
        "dialect": dialect,
        "revisions": entries,
        "version_table": version_table(script),
        "base": base_sql(base, dialect),
    }


def base_metadata(base):
    """The MetaData `--base MODULE:NAME` names (a declarative base gives its own)."""
    return named_metadata(base["metadata"])


def named_metadata(text):
    """The MetaData MODULE:NAME names (a declarative base gives its own)."""
    import importlib

    module, name = text.split(":", 1)
    value = importlib.import_module(module)
    for part in name.split("."):
        value = getattr(value, part)
    return getattr(value, "metadata", value)


def base_sql(base, dialect):
    """The base schema's SQL, up and down, for `dialect`: the file as given, or the
    MetaData's CREATE and DROP statements."""
    if not base:
        return None
    if "sql" in base:
        return {"upgrade": base["sql"], "downgrade": None}
    from sqlalchemy import create_mock_engine

    def statements(action):
        out = []
        engine = create_mock_engine(
            dialect + "://",
            lambda sql, *args, **kwargs: out.append(
                str(sql.compile(dialect=engine.dialect)).strip() + ";\n\n"
            ),
        )
        action(engine)
        return "".join(out)

    metadata = base_metadata(base)
    return {
        "upgrade": statements(lambda e: metadata.create_all(e, checkfirst=False)),
        "downgrade": statements(lambda e: metadata.drop_all(e, checkfirst=False)),
    }


def make_base(connection, base):
    """Makes the base schema on the scratch database, before the first revision."""
    if not base:
        return
    if "sql" in base:
        raw = connection.connection.driver_connection
        if hasattr(raw, "executescript"):
            raw.executescript(base["sql"])
        else:
            connection.exec_driver_sql(base["sql"])
    else:
        base_metadata(base).create_all(connection)
    connection.commit()


def version_table(script):
    """The version_table env.py gives context.configure, when it gives one (and only one):
    env.py is read, not run."""
    import os

    try:
        with open(os.path.join(script.dir, "env.py"), encoding="utf-8") as env:
            text = env.read()
    except OSError:
        return None
    names = set(VERSION_TABLE.findall(text))
    return names.pop() if len(names) == 1 else None


def ordered(script):
    """Every revision, each after its parents; among those ready, the oldest first."""
    revisions = list(script.walk_revisions(base="base", head="heads"))
    by_id = {r.revision: r for r in revisions}
    done = set()
    out = []
    while len(out) < len(revisions):
        ready = [
            r
            for r in revisions
            if r.revision not in done
            and all(p in done or p not in by_id for p in parents_of(r))
        ]
        if not ready:
            raise RuntimeError("the revisions form a cycle")
        ready.sort(key=lambda r: (created(r) or 0, r.revision))
        done.add(ready[0].revision)
        out.append(ready[0])
    return out


def parents_of(revision):
    down = getattr(revision, "_all_down_revisions", None)
    if down is None:
        down = revision.down_revision
    if down is None:
        return ()
    if isinstance(down, str):
        return (down,)
    return tuple(down)


def created(revision):
    match = CREATE_DATE.search(revision.module.__doc__ or "")
    if not match:
        return None
    return int("".join(match.groups()))


def dialect_of(config):
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        return None
    try:
        from sqlalchemy.dialects import registry
        from sqlalchemy.engine import make_url

        backend = make_url(url).get_backend_name()
        registry.load(backend)  # a placeholder (`driver://...`) is no backend
        return backend
    except Exception:
        return None


def offline(config, script, revision, direction, dialect):
    from alembic.operations import Operations
    from alembic.runtime.environment import EnvironmentContext

    buffer = io.StringIO()
    with EnvironmentContext(config, script, as_sql=True) as environment:
        environment.configure(
            dialect_name=dialect,
            output_buffer=buffer,
            literal_binds=True,
            target_metadata=TARGET["metadata"],
            # Only so that autocommit_block() writes its COMMIT (the file then runs
            # outside a transaction); no transaction is begun here.
            transactional_ddl=True,
        )
        with Operations.context(environment.get_context()):
            getattr(revision.module, direction)()
    return buffer.getvalue()


def online(config, script, revisions, entries, scratch, base=None):
    """Runs the chain on the scratch database, up then down, recording each revision's
    SQL into the entries whose offline run failed. A project whose env.py runs an async
    engine is run on asyncpg, as it runs itself (some revisions only work there)."""
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    asynchronous = uses_async(script)
    url = with_driver(scratch, asynchronous)
    sink = {"statements": None}

    def capture(conn, cursor, statement, parameters, context, executemany):
        if sink["statements"] is None or READ_ONLY.match(statement):
            return
        rows = parameters if executemany else [parameters]
        for row in rows:
            sink["statements"].append(render(cursor, statement, row))

    def committed(conn):
        # autocommit_block() commits before its statements: the file then runs outside a
        # transaction (`statements` reads a COMMIT before the end so).
        if sink["statements"] is not None:
            sink["statements"].append("COMMIT")

    by_id = {e["id"]: e for e in entries}
    plan = [(r, "upgrade") for r in revisions] + [
        (r, "downgrade") for r in reversed(revisions)
    ]

    def chain(connection):
        make_base(connection, base)
        for revision, direction in plan:
            entry = by_id[revision.revision]
            sink["statements"] = []
            try:
                run_online(config, script, connection, revision, direction)
            except Exception as error:
                entry[direction + "_online_error"] = describe(error, revision.path)
                return
            finally:
                captured = sink["statements"]
                sink["statements"] = None
            if entry[direction] is None:
                entry[direction] = "".join(s.rstrip().rstrip(";") + ";\n\n" for s in captured)
                entry["mode"] = "online"

    if "+asyncpg" in url:
        import asyncio
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(url, poolclass=NullPool)
        sqlalchemy.event.listen(engine.sync_engine, "before_cursor_execute", capture)
        sqlalchemy.event.listen(engine.sync_engine, "commit", committed)

        async def run():
            async with engine.connect() as connection:
                await connection.run_sync(chain)
            await engine.dispose()

        asyncio.run(run())
    else:
        engine = sqlalchemy.create_engine(url, poolclass=NullPool)
        sqlalchemy.event.listen(engine, "before_cursor_execute", capture)
        sqlalchemy.event.listen(engine, "commit", committed)
        with engine.connect() as connection:
            chain(connection)


def uses_async(script):
    """The project's env.py runs its migrations on an async engine."""
    import os

    try:
        with open(os.path.join(script.dir, "env.py"), encoding="utf-8") as env:
            text = env.read()
    except OSError:
        return False
    return any(
        word in text
        for word in ("create_async_engine", "async_engine_from_config", "AsyncEngine", "run_sync(")
    )


def with_driver(url, asynchronous=False):
    """A plain `postgresql://` or `mysql://` URL with a driver this Python has (SQLAlchemy's
    default driver may not be installed); asyncpg first for a project that runs async."""
    import importlib.util

    drivers = {
        "postgresql": (["asyncpg"] if asynchronous else []) + ["psycopg2", "psycopg", "pg8000"],
        "mysql": ["pymysql", "MySQLdb", "mysql.connector"],
    }
    scheme, _, rest = url.partition("://")
    names = {"asyncpg": "asyncpg", "psycopg2": "psycopg2", "psycopg": "psycopg", "pg8000": "pg8000",
             "pymysql": "pymysql", "MySQLdb": "mysqldb", "mysql.connector": "mysqlconnector"}
    for module in drivers.get(scheme, []):
        if importlib.util.find_spec(module.split(".")[0]) is not None:
            return "%s+%s://%s" % (scheme, names[module], rest)
    return url


def run_online(config, script, connection, revision, direction):
    from alembic.operations import Operations
    from alembic.runtime.environment import EnvironmentContext

    with EnvironmentContext(config, script) as environment:
        environment.configure(connection=connection, target_metadata=TARGET["metadata"])
        # As env.py runs it: in Alembic's transaction, which autocommit_block() ends and
        # begins again.
        with environment.begin_transaction():
            with Operations.context(environment.get_context()):
                getattr(revision.module, direction)()
    if hasattr(connection, "commit"):
        connection.commit()


def render(cursor, statement, parameters):
    """The statement as sent, its parameters written in as literals."""
    if not parameters:
        return statement
    if not isinstance(parameters, dict) and re.search(r"\$\d", statement):
        return render_qmark(statement, parameters)
    mogrify = getattr(cursor, "mogrify", None)
    if mogrify is not None:
        text = mogrify(statement, parameters)
        return text.decode("utf-8") if isinstance(text, bytes) else text
    return render_qmark(statement, parameters)


def literal(value):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "X'" + bytes(value).hex() + "'"
    return "'" + str(value).replace("'", "''") + "'"


def render_qmark(statement, parameters):
    """Placeholders outside quotes as literals: sqlite3's `?` and `:name`, asyncpg's `$1`,
    and the `%s` / `%(name)s` of drivers without `mogrify`."""
    if "%s" in statement or "%(" in statement:
        if isinstance(parameters, dict):
            return statement % {k: literal(v) for k, v in parameters.items()}
        return statement % tuple(literal(v) for v in parameters)
    out = []
    position = 0
    index = 0
    quote = None
    while index < len(statement):
        char = statement[index]
        if quote:
            out.append(char)
            if char == quote:
                quote = None
        elif char in ("'", '"'):
            quote = char
            out.append(char)
        elif char == "?" and not isinstance(parameters, dict):
            out.append(literal(parameters[position]))
            position += 1
        elif char == "$" and not isinstance(parameters, dict) and statement[index + 1 : index + 2].isdigit():
            match = re.match(r"\$(\d+)", statement[index:])
            out.append(literal(parameters[int(match.group(1)) - 1]))
            index += len(match.group(0))
            continue
        elif char == ":" and isinstance(parameters, dict):
            match = re.match(r":(\w+)", statement[index:])
            if match and match.group(1) in parameters:
                out.append(literal(parameters[match.group(1)]))
                index += len(match.group(0))
                continue
            out.append(char)
        else:
            out.append(char)
        index += 1
    return "".join(out)


def describe(error, path):
    """The error and its traceback, its last frame first, with the revision's own line.
    The exporter's frames are left out, and so are the libraries' between the last frame
    and the project's own (they are said as a count)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__]
    own = next((f for f in reversed(frames) if path and f.filename == path), None)
    lines = ["%s: %s" % (type(error).__name__, error)]
    skipped = 0
    for index, frame in enumerate(reversed(frames)):
        library = "-packages" in frame.filename or frame.filename.startswith("<")
        if library and index > 0:
            skipped += 1
            continue
        if skipped:
            lines.append("  ... %d frame(s) in libraries" % skipped)
            skipped = 0
        lines.append('  File "%s", line %d, in %s' % (frame.filename, frame.lineno, frame.name))
        if frame.line:
            lines.append("    " + frame.line)
    if skipped:
        lines.append("  ... %d frame(s) in libraries" % skipped)
    return {
        "message": "\n".join(lines),
        "line": own.lineno if own else None,
        "source": own.line if own else None,
    }


if __name__ == "__main__":
    main()
