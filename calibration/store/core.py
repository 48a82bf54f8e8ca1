"""Connections, migrations and transactions for the DuckDB store."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
_lock = threading.Lock()


class StoreError(RuntimeError):
    """A database problem explained in words a user can act on."""


def utcnow() -> datetime:
    """Current time in UTC, naive, as stored in TIMESTAMP columns."""
    return datetime.now(UTC).replace(tzinfo=None)


def migrations() -> list[tuple[int, str, str]]:
    """All migrations as (version, name, sql), in order."""
    out = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        m = _MIGRATION_NAME.match(path.name)
        if m:
            out.append((int(m.group(1)), path.stem, path.read_text(encoding="utf-8")))
    versions = [v for v, _, _ in out]
    if len(set(versions)) != len(versions):
        raise StoreError(f"duplicate migration numbers in {MIGRATIONS_DIR}")
    return out


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply every migration newer than the database's schema_version; return those applied."""
    cur = con.cursor()
    cur.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = {r[0] for r in cur.execute("SELECT version FROM schema_version").fetchall()}
    applied = []
    for version, name, sql in migrations():
        if version in done:
            continue
        cur.execute("BEGIN TRANSACTION")
        try:
            for statement in _split_sql(sql):
                cur.execute(statement)
            cur.execute(
                "INSERT INTO schema_version VALUES (?, ?, ?)", [version, name, utcnow()]
            )
            cur.execute("COMMIT")
        except Exception:
            cur.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


def _split_sql(sql: str) -> list[str]:
    # Migrations hold plain DDL, so semicolons only end statements.
    lines = [ln for ln in sql.splitlines() if not ln.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) and migrate the database at path.

    Raises StoreError with a plain explanation when the file is locked by another
    process or cannot be written.
    """
    path = str(path)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        with _lock:
            con = duckdb.connect(path, read_only=read_only)
            if not read_only:
                migrate(con)
    except duckdb.IOException as exc:
        msg = str(exc)
        if "lock" in msg.lower():
            raise StoreError(
                f"The database {path} is in use by another program (only one Calibrate "
                "server may open a database file). Stop the other process or set "
                "CALIBRATE_DB to another file."
            ) from exc
        raise StoreError(f"The database {path} cannot be opened: {msg}") from exc
    return con


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor for one unit of work (one thread, one script run)."""
    return con.cursor()


@contextmanager
def transaction(cur: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction: commit on success, roll back on any error."""
    cur.execute("BEGIN TRANSACTION")
    try:
        yield cur
        cur.execute("COMMIT")
    except BaseException:
        try:
            cur.execute("ROLLBACK")
        except duckdb.Error:
            pass
        raise


@contextmanager
def registered(
    cur: duckdb.DuckDBPyConnection, name: str, frame: object
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Expose a DataFrame to SQL as `name` for the block, and always remove it after."""
    cur.register(name, frame)
    try:
        yield cur
    finally:
        cur.unregister(name)
