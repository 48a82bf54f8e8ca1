"""Queries for cycles, published suggestions, the decision log and attachments.

Everything here is append-only: there is no UPDATE or DELETE. Callers hold the transaction
(and, for events, the process-wide append lock in `calibration.negotiation.service`).
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from calibration.store.core import next_id

EVENT_COLUMNS = (
    "id",
    "cycle_id",
    "region",
    "actor",
    "role",
    "at",
    "kind",
    "value",
    "suggestion",
    "run_id",
    "payload",
    "prev_hash",
    "hash",
)
# "at" is a keyword in DuckDB's grammar, so SQL quotes it.
_EVENT_SQL = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)
SUGGESTION_COLUMNS = (
    "cycle_id",
    "run_id",
    "region",
    "suggestion",
    "lower80",
    "upper80",
    "history",
    "market",
    "pipeline",
    "capacity",
    "reason_en",
    "reason_zh",
    "published_at",
    "published_by",
)


def next_cycle_id(cur: duckdb.DuckDBPyConnection) -> int:
    """The id for a new cycle."""
    return next_id(cur, "cycles_seq")


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
    "id",
    "name",
    "metric",
    "period",
    "company_target",
    "dissent_threshold",
    "created_at",
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
        f'SELECT id, kind, actor, "at", value, region, payload FROM events'
        f" WHERE cycle_id = ? AND region = ?"
        f" AND kind IN ({', '.join('?' * len(kinds))}) ORDER BY id DESC",
        [cycle_id, region, *kinds],
    ).fetchall()
    return [
        {
            "id": int(r[0]),
            "kind": r[1],
            "actor": r[2],
            "at": r[3],
            "value": r[4],
            "region": r[5],
            "payload": r[6],
        }
        for r in rows
    ]


def last_event(cur: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    """(id, hash) of the newest event in the whole log; (0, '') when empty."""
    rows = cur.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchall()
    return (int(rows[0][0]), rows[0][1]) if rows else (0, "")


def last_event_id(cur: duckdb.DuckDBPyConnection) -> int:
    """Id of the newest event in the whole log; 0 when empty."""
    return int(cur.execute("SELECT coalesce(max(id), 0) FROM events").fetchall()[0][0])


def events_from(
    cur: duckdb.DuckDBPyConnection, first_id: int
) -> list[tuple[int, int, str | None, str]]:
    """(id, cycle_id, region, hash) of event first_id and every newer one, oldest first."""
    rows = cur.execute(
        "SELECT id, cycle_id, region, hash FROM events WHERE id >= ? ORDER BY id", [first_id]
    ).fetchall()
    return [(int(r[0]), int(r[1]), r[2], r[3]) for r in rows]


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
            f'SELECT id, actor, "at", kind, value, region, payload FROM events'
            f" WHERE cycle_id = ? AND kind IN ({marks})"
        )
        params: list = [cycle_id, *kinds]
    else:
        sql = (
            f'SELECT id, actor, "at", kind, value, region, payload FROM events'
            f" WHERE cycle_id = ? AND region = ? AND kind IN ({marks})"
        )
        params = [cycle_id, region, *kinds]
    rows = cur.execute(sql + " ORDER BY id DESC LIMIT 1", params).fetchall()
    if not rows:
        return None
    r = rows[0]
    return {
        "id": int(r[0]),
        "actor": r[1],
        "at": r[2],
        "kind": r[3],
        "value": r[4],
        "region": r[5],
        "payload": r[6],
    }


# SQL types of EVENT_COLUMNS, for inserting many events as one column array each.
_EVENT_TYPES = (
    "INTEGER",
    "INTEGER",
    "TEXT",
    "TEXT",
    "TEXT",
    "TIMESTAMP",
    "TEXT",
    "DOUBLE",
    "DOUBLE",
    "INTEGER",
    "TEXT",
    "TEXT",
    "TEXT",
)
_INSERT_EVENTS = f"INSERT INTO events ({_EVENT_SQL}) SELECT " + ", ".join(
    f"unnest(?::{t}[])" for t in _EVENT_TYPES
)


def insert_events(cur: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    """Append events (each with every column of EVENT_COLUMNS) in one statement: a column
    array each, since a statement costs as much as many rows (and a VALUES list grows with
    them)."""
    cur.execute(_INSERT_EVENTS, [[row[c] for row in rows] for c in EVENT_COLUMNS])


def insert_event(cur: duckdb.DuckDBPyConnection, row: dict) -> None:
    """Append one event (every column of EVENT_COLUMNS)."""
    insert_events(cur, [row])


def decision_heads(
    cur: duckdb.DuckDBPyConnection, cycle_id: int, kinds: tuple[str, ...]
) -> dict[str, tuple[int, int | None]]:
    """region -> (newest event id of the given kinds, newest proposal id or None)."""
    rows = cur.execute(
        "SELECT region, max(id), max(id) FILTER (WHERE kind = 'proposal') FROM events"
        f" WHERE cycle_id = ? AND region IS NOT NULL AND kind IN ({', '.join('?' * len(kinds))})"
        " GROUP BY region",
        [cycle_id, *kinds],
    ).fetchall()
    return {r[0]: (int(r[1]), None if r[2] is None else int(r[2])) for r in rows}


def suggestion_rows(cur: duckdb.DuckDBPyConnection, cycle_id: int, run_id: int) -> dict[str, dict]:
    """region -> its row (SUGGESTION_COLUMNS) of one published run."""
    rows = cur.execute(
        f"SELECT {', '.join(SUGGESTION_COLUMNS)} FROM cycle_suggestions"
        " WHERE cycle_id = ? AND run_id = ?",
        [cycle_id, run_id],
    ).fetchall()
    return {r[2]: dict(zip(SUGGESTION_COLUMNS, r, strict=True)) for r in rows}


def cycle_events(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> pd.DataFrame:
    """Every event of one cycle, oldest first."""
    return cur.execute(
        f"SELECT {_EVENT_SQL} FROM events WHERE cycle_id = ? ORDER BY id",
        [cycle_id],
    ).df()


def region_events(cur: duckdb.DuckDBPyConnection, cycle_id: int, region: str) -> pd.DataFrame:
    """Every event of one region in one cycle, oldest first."""
    return cur.execute(
        f"SELECT {_EVENT_SQL} FROM events WHERE cycle_id = ? AND region = ? ORDER BY id",
        [cycle_id, region],
    ).df()


def all_events(cur: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Every event in log order, as tuples in EVENT_COLUMNS order."""
    return cur.execute(f"SELECT {_EVENT_SQL} FROM events ORDER BY id").fetchall()


def next_attachment_id(cur: duckdb.DuckDBPyConnection) -> int:
    """The id for a new attachment."""
    return next_id(cur, "attachments_seq")


ATTACHMENT_COLUMNS = (
    "attachment_id",
    "cycle_id",
    "region",
    "file_name",
    "mime",
    "size",
    "sha256",
    "data",
    "uploaded_at",
    "uploaded_by",
)


def insert_attachment(cur: duckdb.DuckDBPyConnection, row: dict) -> None:
    """Store one attachment's bytes and metadata."""
    cols = ATTACHMENT_COLUMNS
    cur.execute(
        f"INSERT INTO attachments ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        [row[c] for c in cols],
    )


def get_attachment(cur: duckdb.DuckDBPyConnection, attachment_id: int) -> dict | None:
    """One attachment with its bytes, or None."""
    rows = cur.execute(
        f"SELECT {', '.join(ATTACHMENT_COLUMNS)} FROM attachments WHERE attachment_id = ?",
        [attachment_id],
    ).fetchall()
    return dict(zip(ATTACHMENT_COLUMNS, rows[0], strict=True)) if rows else None


# ----------------------------------------------------------------------------- frozen regions

FROZEN_COLUMNS = (
    "region",
    "name_en",
    "name_zh",
    "parent",
    "lead",
    "lead_username",
    "lead_name",
)


def accounts_version(cur: duckdb.DuckDBPyConnection) -> tuple[int, ...]:
    """Changes whenever an account is added or removed or changes role, or a region binding
    changes: what the access policy decides on, as a cache key (content, not a file)."""
    return tuple(
        int(v)
        for v in cur.execute(
            "SELECT (SELECT count(*) FROM users),"
            " (SELECT coalesce(bit_xor(hash(username, role)), 0) FROM users),"
            " (SELECT count(*) FROM user_regions),"
            " (SELECT coalesce(bit_xor(hash(username, region)), 0) FROM user_regions)"
        ).fetchall()[0]
    )


def region_labels(
    cur: duckdb.DuckDBPyConnection, cycle_id: int, regions: list[str]
) -> list[tuple[str, str | None, str | None]]:
    """(region, name_en, name_zh) of some regions: as frozen at the cycle's lock when it
    was locked, else from the regions file (None where neither names it)."""
    return cur.execute(
        "SELECT w.region,"
        " CASE WHEN f.region IS NOT NULL THEN f.name_en ELSE g.name_en END,"
        " CASE WHEN f.region IS NOT NULL THEN f.name_zh ELSE g.name_zh END"
        " FROM unnest(?::TEXT[]) AS w(region)"
        " LEFT JOIN regions g ON g.region = w.region"
        " LEFT JOIN cycle_regions f ON f.cycle_id = ? AND f.region = w.region",
        [sorted(set(regions)), int(cycle_id)],
    ).fetchall()


def freeze_regions(
    cur: duckdb.DuckDBPyConnection, cycle_id: int, regions: list[str], frozen_at: datetime
) -> None:
    """Snapshot the regions a locked cycle shows: names, parent, lead and lead account.

    The lead account is the regions file's `lead` when it names a lead account, else the
    first lead account bound to the region (the rule letters used before the snapshot).
    """
    cur.execute(
        "INSERT INTO cycle_regions (cycle_id, region, name_en, name_zh, parent, lead,"
        " lead_username, lead_name, frozen_at)"
        " SELECT ?, w.region, g.name_en, g.name_zh, g.parent, g.lead, a.username,"
        " a.display_name, ?"
        " FROM unnest(?::TEXT[]) AS w(region)"
        " LEFT JOIN regions g ON g.region = w.region"
        " LEFT JOIN LATERAL (SELECT u.username, u.display_name FROM users u"
        "   LEFT JOIN user_regions ur ON ur.username = u.username AND ur.region = w.region"
        "   WHERE u.role = 'lead' AND (u.username = g.lead OR ur.region IS NOT NULL)"
        "   ORDER BY (u.username = g.lead) IS NOT TRUE, u.username LIMIT 1) a ON TRUE"
        " WHERE w.region NOT IN (SELECT region FROM cycle_regions WHERE cycle_id = ?)",
        [int(cycle_id), frozen_at, sorted(set(regions)), int(cycle_id)],
    )


def frozen_region_frame(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> pd.DataFrame:
    """The lock's snapshot shaped like data.list_regions (region, names, parent, lead)."""
    return cur.execute(
        "SELECT region, name_en, name_zh, parent, lead FROM cycle_regions WHERE cycle_id = ?"
        " ORDER BY region",
        [int(cycle_id)],
    ).df()


def frozen_regions(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> dict[str, dict]:
    """region -> the snapshot taken at lock (FROZEN_COLUMNS); empty before the lock."""
    rows = cur.execute(
        f"SELECT {', '.join(FROZEN_COLUMNS)} FROM cycle_regions WHERE cycle_id = ? ORDER BY region",
        [int(cycle_id)],
    ).fetchall()
    return {r[0]: dict(zip(FROZEN_COLUMNS, r, strict=True)) for r in rows}


# ----------------------------------------------------------------------------- chain queries

# Tables whose rows the decision record seals (calibration.events.COVERED_TABLES is this); the
# names are fixed here so no caller-supplied text ever reaches the SQL.
SEALED_TABLES = (
    "cycles",
    "cycle_suggestions",
    "letters",
    "letter_signatures",
    "user_regions",
    "commitment_events",
    "tracking_events",
    "root_causes",
    "api_tokens",
    "api_token_revocations",
)


def database_path(cur: duckdb.DuckDBPyConnection) -> str | None:
    """The file of the current database (None when it lives in memory)."""
    rows = cur.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    return rows[0][0] if rows and rows[0][0] else None


def _sealed(table: str) -> str:
    if table not in SEALED_TABLES:
        raise ValueError(f"{table!r} is not a sealed table")
    return table


def table_rows(cur: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    """Every row of a sealed table in a fixed order (for its digest)."""
    return cur.execute(f"SELECT * FROM {_sealed(table)} ORDER BY ALL").fetchall()


def table_count(cur: duckdb.DuckDBPyConnection, table: str) -> int:
    """Number of rows of a sealed table."""
    return int(cur.execute(f"SELECT count(*) FROM {_sealed(table)}").fetchall()[0][0])


def letter_anchors(cur: duckdb.DuckDBPyConnection) -> list[tuple[int, str]]:
    """(letter_id, content_json) of every letter version (their chain anchors)."""
    return cur.execute("SELECT letter_id, content_json FROM letters ORDER BY letter_id").fetchall()


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
