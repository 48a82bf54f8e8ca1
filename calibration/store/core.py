"""Connections, migrations and transactions for the DuckDB store."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
_lock = threading.Lock()
# Path -> the process's one connection (DuckDB lets one process hold a file; the app's
# script runs and the HTTP routes of server.py share it, each taking its own cursor).
_shared: dict[tuple[str, bool], duckdb.DuckDBPyConnection] = {}
_shared_lock = threading.Lock()
# Sequence -> (table, id column): ids come from `nextval` (see `next_id`), never MAX(id)+1.
SEQUENCES = {
    "sources_seq": ("sources", "source_id"),
    "model_runs_seq": ("model_runs", "run_id"),
    "cycles_seq": ("cycles", "cycle_id"),
    "attachments_seq": ("attachments", "attachment_id"),
    "letters_seq": ("letters", "letter_id"),
    "letter_signatures_seq": ("letter_signatures", "signature_id"),
    "letter_corrections_seq": ("letter_corrections", "correction_id"),
    "letter_files_seq": ("letter_files", "file_id"),
    "tracking_events_seq": ("tracking_events", "event_id"),
    "root_causes_seq": ("root_causes", "form_id"),
    "commitment_events_seq": ("commitment_events", "commitment_event_id"),
    "notifications_seq": ("notifications", "notification_id"),
}
_SEQUENCE_MIGRATION = 7


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
            if version == _SEQUENCE_MIGRATION:
                _align_sequences(cur)
            cur.execute("INSERT INTO schema_version VALUES (?, ?, ?)", [version, name, utcnow()])
            cur.execute("COMMIT")
        except Exception:
            cur.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


def _align_sequences(cur: duckdb.DuckDBPyConnection) -> None:
    # A database made before the sequences existed already holds ids; DDL cannot start a
    # sequence at a computed value, so each one is recreated just past its table's ids.
    for seq, (table, column) in SEQUENCES.items():
        top = cur.execute(f"SELECT coalesce(max({column}), 0) FROM {table}").fetchall()[0][0]
        if top:
            cur.execute(f"CREATE OR REPLACE SEQUENCE {seq} START {int(top) + 1}")


def next_id(cur: duckdb.DuckDBPyConnection, sequence: str) -> int:
    """A new id from one of SEQUENCES; unique even when several writers ask at once."""
    if sequence not in SEQUENCES:
        raise ValueError(f"unknown sequence {sequence!r}")
    # The name is checked against SEQUENCES above, so it is never input.
    return int(cur.execute(f"SELECT nextval('{sequence}')").fetchall()[0][0])


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


def shared_connection(
    path: str | Path,
    read_only: bool = False,
    on_create: Callable[[duckdb.DuckDBPyConnection], object] | None = None,
) -> duckdb.DuckDBPyConnection:
    """The process-wide connection to path, opened (and given to on_create) on first use."""
    key = (str(path), read_only)
    with _shared_lock:
        con = _shared.get(key)
        if con is None:
            con = connect(path, read_only=read_only)
            if on_create is not None:
                on_create(con)
            _shared[key] = con
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


def table_row_counts(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per table of the database (to check that a read wrote nothing)."""
    names = [
        r[0]
        for r in cur.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY table_name"
        ).fetchall()
    ]
    # Names come from the catalog, quoted as identifiers, never from input.
    return {n: int(cur.execute(f'SELECT count(*) FROM "{n}"').fetchall()[0][0]) for n in names}
