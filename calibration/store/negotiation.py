"""Queries for cycles, published suggestions, the decision log and attachments.

Everything here is append-only: there is no UPDATE or DELETE. Callers hold the transaction
(and, for events, the process-wide append lock in `calibration.negotiation`).
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

EVENT_COLUMNS = (
    "id", "cycle_id", "region", "actor", "role", "at", "kind", "value", "suggestion",
    "run_id", "payload", "prev_hash", "hash",
)
# "at" is a keyword in DuckDB's grammar, so SQL quotes it.
_EVENT_SQL = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)
SUGGESTION_COLUMNS = (
    "cycle_id", "run_id", "region", "suggestion", "lower80", "upper80", "history", "market",
    "pipeline", "capacity", "reason_en", "reason_zh", "published_at", "published_by",
)


def next_cycle_id(cur: duckdb.DuckDBPyConnection) -> int:
    """The id for a new cycle."""
    return int(cur.execute("SELECT COALESCE(MAX(cycle_id), 0) + 1 FROM cycles").fetchall()[0][0])


def insert_cycle(
    cur: duckdb.DuckDBPyConnection,
    cycle_id: int,
    name: str,
    metric: str,
    period: str,
    company_target: float,
    dissent_threshold: float,
    created_at: datetime,
    created_by: str,
) -> None:
    """Add a cycle definition (its status lives in the events)."""
    cur.execute(
        "INSERT INTO cycles (cycle_id, name, metric, period, company_target,"
        " dissent_threshold, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [cycle_id, name, metric, period, company_target, dissent_threshold, created_at, created_by],
    )


_CYCLE_KEYS = (
    "id", "name", "metric", "period", "company_target", "dissent_threshold", "created_at",
    "created_by",
)
_CYCLE_SQL = (
    "SELECT cycle_id, name, metric, period, company_target, dissent_threshold, created_at,"
    " created_by FROM cycles"
)


def _with_status(cur: duckdb.DuckDBPyConnection, cycle: dict) -> dict:
    # The status is the latest status event's payload; the run the latest publish event's.
    rows = cur.execute(
        "SELECT kind, payload, run_id FROM events WHERE cycle_id = ?"
        " AND kind IN ('status', 'publish') ORDER BY id DESC",
        [cycle["id"]],
    ).fetchall()
    cycle["status_payload"] = next((r[1] for r in rows if r[0] == "status"), "")
    cycle["run_id"] = next((r[2] for r in rows if r[0] == "publish"), None)
    return cycle


def get_cycle(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> dict | None:
    """One cycle with its latest status payload and published run id, or None."""
    rows = cur.execute(_CYCLE_SQL + " WHERE cycle_id = ?", [cycle_id]).fetchall()
    return _with_status(cur, dict(zip(_CYCLE_KEYS, rows[0], strict=True))) if rows else None


def list_cycles(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    """All cycles, newest first, like get_cycle."""
    rows = cur.execute(_CYCLE_SQL + " ORDER BY cycle_id DESC").fetchall()
    return [_with_status(cur, dict(zip(_CYCLE_KEYS, r, strict=True))) for r in rows]


def insert_suggestions(cur: duckdb.DuckDBPyConnection, rows: pd.DataFrame) -> None:
    """Snapshot one published run's per-region rows (columns SUGGESTION_COLUMNS)."""
    frame = rows.loc[:, list(SUGGESTION_COLUMNS)]
    cur.executemany(
        f"INSERT INTO cycle_suggestions ({', '.join(SUGGESTION_COLUMNS)})"
        f" VALUES ({', '.join('?' * len(SUGGESTION_COLUMNS))})",
        [
            [None if (isinstance(v, float) and v != v) else v for v in row]
            for row in frame.itertuples(index=False, name=None)
        ],
    )


def run_published(cur: duckdb.DuckDBPyConnection, cycle_id: int, run_id: int) -> bool:
    """Whether a run was already published to a cycle."""
    return (
        cur.execute(
            "SELECT COUNT(*) FROM cycle_suggestions WHERE cycle_id = ? AND run_id = ?",
            [cycle_id, run_id],
        ).fetchall()[0][0]
        > 0
    )


def suggestions(cur: duckdb.DuckDBPyConnection, cycle_id: int, run_id: int) -> pd.DataFrame:
    """The per-region rows of one published run."""
    return cur.execute(
        f"SELECT {', '.join(SUGGESTION_COLUMNS)} FROM cycle_suggestions"
        " WHERE cycle_id = ? AND run_id = ? ORDER BY region",
        [cycle_id, run_id],
    ).df()


def current_run_id(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> int | None:
    """The run id of a cycle's latest publish event, or None."""
    row = cur.execute(
        "SELECT run_id FROM events WHERE cycle_id = ? AND kind = 'publish'"
        " ORDER BY id DESC LIMIT 1",
        [cycle_id],
    ).fetchall()
    return int(row[0][0]) if row else None


def suggestion_row(
    cur: duckdb.DuckDBPyConnection, cycle_id: int, run_id: int, region: str
) -> dict | None:
    """One region's row of a published run, or None."""
    rows = cur.execute(
        f"SELECT {', '.join(SUGGESTION_COLUMNS)} FROM cycle_suggestions"
        " WHERE cycle_id = ? AND run_id = ? AND region = ?",
        [cycle_id, run_id, region],
    ).fetchall()
    return dict(zip(SUGGESTION_COLUMNS, rows[0], strict=True)) if rows else None


def region_decisions(
    cur: duckdb.DuckDBPyConnection, cycle_id: int, region: str, kinds: tuple[str, ...]
) -> list[dict]:
    """A region's events of the given kinds, newest first: id, kind, actor, at, value, region,
    payload."""
    rows = cur.execute(
        f"SELECT id, kind, actor, \"at\", value, region, payload FROM events"
        f" WHERE cycle_id = ? AND region = ?"
        f" AND kind IN ({', '.join('?' * len(kinds))}) ORDER BY id DESC",
        [cycle_id, region, *kinds],
    ).fetchall()
    return [{"id": int(r[0]), "kind": r[1], "actor": r[2], "at": r[3], "value": r[4],
             "region": r[5], "payload": r[6]} for r in rows]


def last_event(cur: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    """(id, hash) of the newest event in the whole log; (0, '') when empty."""
    rows = cur.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchall()
    return (int(rows[0][0]), rows[0][1]) if rows else (0, "")


def cycle_version(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> tuple[int, ...]:
    """Changes whenever anything the board shows changes: a cheap cache key for live screens."""
    return tuple(
        cur.execute(
            "SELECT (SELECT coalesce(max(id), 0) FROM events WHERE cycle_id = ?),"
            " (SELECT count(*) FROM letter_signatures),"
            " (SELECT coalesce(max(source_id), 0) FROM sources),"
            " (SELECT count(*) FROM regions)",
            [cycle_id],
        ).fetchall()[0]
    )


def last_region_event(
    cur: duckdb.DuckDBPyConnection, cycle_id: int, region: str | None, kinds: tuple[str, ...]
) -> dict | None:
    """The newest event of the given kinds for a region (or the cycle when region is None)."""
    marks = ", ".join("?" * len(kinds))
    if region is None:
        sql = (
            f"SELECT id, actor, \"at\", kind, value, region, payload FROM events"
            f" WHERE cycle_id = ? AND kind IN ({marks})"
        )
        params: list = [cycle_id, *kinds]
    else:
        sql = (
            f"SELECT id, actor, \"at\", kind, value, region, payload FROM events"
            f" WHERE cycle_id = ? AND region = ? AND kind IN ({marks})"
        )
        params = [cycle_id, region, *kinds]
    rows = cur.execute(sql + " ORDER BY id DESC LIMIT 1", params).fetchall()
    if not rows:
        return None
    r = rows[0]
    return {"id": int(r[0]), "actor": r[1], "at": r[2], "kind": r[3], "value": r[4],
            "region": r[5], "payload": r[6]}


def insert_event(cur: duckdb.DuckDBPyConnection, row: dict) -> None:
    """Append one event (every column of EVENT_COLUMNS)."""
    cur.execute(
        f"INSERT INTO events ({_EVENT_SQL})"
        f" VALUES ({', '.join('?' * len(EVENT_COLUMNS))})",
        [row[c] for c in EVENT_COLUMNS],
    )


def cycle_events(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> pd.DataFrame:
    """Every event of one cycle, oldest first."""
    return cur.execute(
        f"SELECT {_EVENT_SQL} FROM events WHERE cycle_id = ? ORDER BY id",
        [cycle_id],
    ).df()


def all_events(cur: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Every event in log order, as tuples in EVENT_COLUMNS order."""
    return cur.execute(f"SELECT {_EVENT_SQL} FROM events ORDER BY id").fetchall()


def next_attachment_id(cur: duckdb.DuckDBPyConnection) -> int:
    """The id for a new attachment."""
    return int(
        cur.execute("SELECT COALESCE(MAX(attachment_id), 0) + 1 FROM attachments")
        .fetchall()[0][0]
    )


def insert_attachment(cur: duckdb.DuckDBPyConnection, row: dict) -> None:
    """Store one attachment's bytes and metadata."""
    cols = (
        "attachment_id", "cycle_id", "region", "file_name", "mime", "size", "sha256", "data",
        "uploaded_at", "uploaded_by",
    )
    cur.execute(
        f"INSERT INTO attachments ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        [row[c] for c in cols],
    )


def get_attachment(cur: duckdb.DuckDBPyConnection, attachment_id: int) -> dict | None:
    """One attachment with its bytes, or None."""
    rows = cur.execute(
        "SELECT attachment_id, cycle_id, region, file_name, mime, size, sha256, data,"
        " uploaded_at, uploaded_by FROM attachments WHERE attachment_id = ?",
        [attachment_id],
    ).fetchall()
    if not rows:
        return None
    row = rows[0]
    keys = (
        "attachment_id", "cycle_id", "region", "file_name", "mime", "size", "sha256", "data",
        "uploaded_at", "uploaded_by",
    )
    return dict(zip(keys, row, strict=True))


def unsigned_letters(
    cur: duckdb.DuckDBPyConnection, cycle_id: int, regions: list[str]
) -> list[str]:
    """Of `regions`, those of the cycle whose newest letter has no lead signature.

    A region of the locked cycle with no letter yet counts too: it is waiting for one.
    """
    rows = cur.execute(
        """
        WITH mine AS (
            SELECT DISTINCT region FROM events
            WHERE cycle_id = ? AND list_contains(?::VARCHAR[], region)
              AND kind IN ('proposal', 'response', 'counter_accepted')
        ), newest AS (
            SELECT region, max(letter_id) AS letter_id FROM letters
            WHERE cycle_id = ? GROUP BY region
        )
        SELECT m.region FROM mine m LEFT JOIN newest n ON n.region = m.region
        WHERE n.letter_id IS NULL OR NOT EXISTS (
            SELECT 1 FROM letter_signatures s WHERE s.letter_id = n.letter_id
              AND s.role = 'lead'
        )
        ORDER BY m.region
        """,
        [int(cycle_id), list(regions), int(cycle_id)],
    ).fetchall()
    return [r[0] for r in rows]
