"""Queries for tracking: actuals, tracking events, root-cause forms, commitments, inbox.

Apart from actuals (an import upserts them like history), every table is append-only:
there is no UPDATE or DELETE here. Callers hold the transaction.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pandas as pd

from calibration.store.core import next_id, registered


def _next_id(cur: duckdb.DuckDBPyConnection, table: str, column: str) -> int:
    # From the table's sequence, so two writers at once never pick the same id.
    return next_id(cur, f"{table}_seq")


# ----------------------------------------------------------------------------- actuals


def count_actual_changes(cur: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> tuple[int, int]:
    """How many rows of frame (region, metric, date, value) are new and how many change."""
    with registered(cur, "incoming_actuals", frame):
        new, changed = cur.execute(
            "SELECT count(*) FILTER (WHERE t.value IS NULL),"
            " count(*) FILTER (WHERE t.value IS NOT NULL AND t.value <> i.value)"
            " FROM incoming_actuals i LEFT JOIN actuals t"
            ' ON t.region = i.region AND t.metric = i.metric AND t."date" = i."date"'
        ).fetchall()[0]
    return int(new), int(changed)


def upsert_actuals(cur: duckdb.DuckDBPyConnection, frame: pd.DataFrame, source_id: int) -> None:
    """Insert or replace daily actuals (region, metric, date, value)."""
    with registered(cur, "incoming_actuals", frame):
        cur.execute(
            'INSERT OR REPLACE INTO actuals (region, metric, "date", value, source_id)'
            ' SELECT region, metric, "date", value, ? FROM incoming_actuals',
            [source_id],
        )


def load_actuals(
    cur: duckdb.DuckDBPyConnection,
    metric: str,
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """Daily actuals of one metric between start and end (inclusive): region, date, value."""
    return cur.execute(
        'SELECT region, "date", value FROM actuals WHERE metric = ?'
        ' AND (CAST(? AS DATE) IS NULL OR "date" >= ?)'
        ' AND (CAST(? AS DATE) IS NULL OR "date" <= ?) ORDER BY region, "date"',
        [metric, start, start, end, end],
    ).df()


def actuals_range(cur: duckdb.DuckDBPyConnection, metric: str) -> tuple[date | None, date | None]:
    """First and last date with actuals of a metric."""
    row = cur.execute(
        'SELECT min("date"), max("date") FROM actuals WHERE metric = ?', [metric]
    ).fetchall()[0]
    return row[0], row[1]


def count_actuals(cur: duckdb.DuckDBPyConnection) -> int:
    """Number of stored daily actuals."""
    return int(cur.execute("SELECT count(*) FROM actuals").fetchall()[0][0])


# ----------------------------------------------------------------------------- events

EVENT_COLUMNS = (
    "event_id",
    "cycle_id",
    "region",
    "kind",
    "level",
    "triggered_on",
    "detail",
    "recorded_at",
    "recorded_by",
)


def existing_event_keys(
    cur: duckdb.DuckDBPyConnection, cycle_id: int
) -> set[tuple[str, str, date]]:
    """(region, kind, triggered_on) of every event already recorded for a cycle."""
    rows = cur.execute(
        "SELECT region, kind, triggered_on FROM tracking_events WHERE cycle_id = ?", [cycle_id]
    ).fetchall()
    return {(r, k, d) for r, k, d in rows}


def insert_event(
    cur: duckdb.DuckDBPyConnection,
    cycle_id: int,
    region: str,
    kind: str,
    level: int,
    triggered_on: date,
    detail: str,
    recorded_at: datetime,
    recorded_by: str,
) -> int:
    """Record one escalation, alert or warning; returns its id."""
    event_id = _next_id(cur, "tracking_events", "event_id")
    cur.execute(
        "INSERT INTO tracking_events (event_id, cycle_id, region, kind, level, triggered_on,"
        " detail, recorded_at, recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [event_id, cycle_id, region, kind, level, triggered_on, detail, recorded_at, recorded_by],
    )
    return event_id


def list_events(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> pd.DataFrame:
    """Every tracking event of a cycle, oldest first."""
    return cur.execute(
        f"SELECT {', '.join(EVENT_COLUMNS)} FROM tracking_events WHERE cycle_id = ?"
        " ORDER BY triggered_on, level, region, event_id",
        [cycle_id],
    ).df()


def get_event(cur: duckdb.DuckDBPyConnection, event_id: int) -> dict | None:
    """One tracking event as a dict, or None."""
    rows = cur.execute(
        f"SELECT {', '.join(EVENT_COLUMNS)} FROM tracking_events WHERE event_id = ?", [event_id]
    ).fetchall()
    return dict(zip(EVENT_COLUMNS, rows[0], strict=True)) if rows else None


# ----------------------------------------------------------------------------- root causes


def insert_root_cause(
    cur: duckdb.DuckDBPyConnection,
    event_id: int,
    cycle_id: int,
    region: str,
    cause: str,
    text: str,
    submitted_by: str,
    submitted_at: datetime,
) -> int:
    """Append a root-cause form; returns its id."""
    form_id = _next_id(cur, "root_causes", "form_id")
    cur.execute(
        "INSERT INTO root_causes (form_id, event_id, cycle_id, region, cause, text,"
        " submitted_by, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [form_id, event_id, cycle_id, region, cause, text, submitted_by, submitted_at],
    )
    return form_id


def list_root_causes(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> pd.DataFrame:
    """Every root-cause form of a cycle, oldest first."""
    return cur.execute(
        "SELECT form_id, event_id, region, cause, text, submitted_by, submitted_at"
        " FROM root_causes WHERE cycle_id = ? ORDER BY submitted_at, form_id",
        [cycle_id],
    ).df()


# ----------------------------------------------------------------------------- commitments


def insert_commitment_event(
    cur: duckdb.DuckDBPyConnection,
    cycle_id: int,
    region: str,
    item: str,
    delivered: bool,
    note: str,
    recorded_by: str,
    recorded_at: datetime,
) -> int:
    """Append a delivery status change of one promised support item; returns its id."""
    cid = _next_id(cur, "commitment_events", "commitment_event_id")
    cur.execute(
        "INSERT INTO commitment_events (commitment_event_id, cycle_id, region, item, delivered,"
        " note, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [cid, cycle_id, region, item, delivered, note, recorded_by, recorded_at],
    )
    return cid


def latest_commitments(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> pd.DataFrame:
    """The latest delivery status per (region, item) of a cycle."""
    return cur.execute(
        "SELECT region, item, arg_max(delivered, commitment_event_id) AS delivered,"
        " arg_max(note, commitment_event_id) AS note,"
        " arg_max(recorded_by, commitment_event_id) AS recorded_by,"
        " max(recorded_at) AS recorded_at"
        " FROM commitment_events WHERE cycle_id = ? GROUP BY region, item ORDER BY region, item",
        [cycle_id],
    ).df()


# ----------------------------------------------------------------------------- inbox


def users_by_role(cur: duckdb.DuckDBPyConnection, role: str) -> list[str]:
    """Usernames with a role, sorted."""
    rows = cur.execute(
        "SELECT username FROM users WHERE role = ? ORDER BY username", [role]
    ).fetchall()
    return [r[0] for r in rows]


def region_leads(cur: duckdb.DuckDBPyConnection, region: str) -> list[str]:
    """Lead accounts bound to a region (or named as its lead in the regions table)."""
    rows = cur.execute(
        "SELECT u.username FROM users u JOIN user_regions r USING (username)"
        " WHERE u.role = 'lead' AND r.region = ?"
        " UNION SELECT u.username FROM users u JOIN regions g ON g.lead = u.username"
        " WHERE u.role = 'lead' AND g.region = ? ORDER BY 1",
        [region, region],
    ).fetchall()
    return [r[0] for r in rows]


def leads_by_region(cur: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """region_leads for every region at once: region -> lead usernames, sorted."""
    rows = cur.execute(
        "SELECT r.region, u.username FROM users u JOIN user_regions r USING (username)"
        " WHERE u.role = 'lead'"
        " UNION SELECT g.region, u.username FROM users u JOIN regions g ON g.lead = u.username"
        " WHERE u.role = 'lead' ORDER BY 1, 2"
    ).fetchall()
    out: dict[str, list[str]] = {}
    for region, username in rows:
        out.setdefault(region, []).append(username)
    return out


NOTIFICATION_COLUMNS = (
    "username",
    "kind",
    "cycle_id",
    "region",
    "event_id",
    "message_key",
    "params",
    "created_at",
)


def insert_notification_batch(cur: duckdb.DuckDBPyConnection, rows: list[dict]) -> int:
    """Append many notifications in one statement (ids from the sequence); returns count."""
    if not rows:
        return 0
    frame = pd.DataFrame(
        [{c: r.get(c) for c in NOTIFICATION_COLUMNS} for r in rows],
        columns=list(NOTIFICATION_COLUMNS),
    )
    with registered(cur, "incoming_notifications", frame):
        cur.execute(
            "INSERT INTO notifications (notification_id, username, kind, cycle_id, region,"
            " event_id, message_key, params, created_at)"
            " SELECT nextval('notifications_seq'), username, kind, CAST(cycle_id AS INTEGER),"
            " CAST(region AS TEXT), CAST(event_id AS INTEGER), message_key, params,"
            " CAST(created_at AS TIMESTAMP) FROM incoming_notifications"
        )
    return len(rows)


def insert_notifications(cur: duckdb.DuckDBPyConnection, rows: list[dict]) -> list[int]:
    """Append notifications (username, kind, cycle_id, region, event_id, message_key, params,
    created_at); returns their ids."""
    ids = []
    for r in rows:
        nid = _next_id(cur, "notifications", "notification_id")
        cur.execute(
            "INSERT INTO notifications (notification_id, username, kind, cycle_id, region,"
            " event_id, message_key, params, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                nid,
                r["username"],
                r["kind"],
                r.get("cycle_id"),
                r.get("region"),
                r.get("event_id"),
                r["message_key"],
                r["params"],
                r["created_at"],
            ],
        )
        ids.append(nid)
    return ids


def list_notifications(cur: duckdb.DuckDBPyConnection, username: str) -> pd.DataFrame:
    """A user's notifications, newest first, with `read` (True once a read row exists)."""
    return cur.execute(
        "SELECT n.notification_id, n.kind, n.cycle_id, n.region, n.event_id, n.message_key,"
        " n.params, n.created_at,"
        " EXISTS (SELECT 1 FROM inbox_reads r WHERE r.notification_id = n.notification_id"
        "   AND r.username = n.username) AS read"
        " FROM notifications n WHERE n.username = ?"
        " ORDER BY n.created_at DESC, n.notification_id DESC",
        [username],
    ).df()


def unread_count(cur: duckdb.DuckDBPyConnection, username: str) -> int:
    """Notifications of a user without a read row."""
    return int(
        cur.execute(
            "SELECT count(*) FROM notifications n WHERE n.username = ? AND NOT EXISTS"
            " (SELECT 1 FROM inbox_reads r WHERE r.notification_id = n.notification_id"
            "  AND r.username = n.username)",
            [username],
        ).fetchall()[0][0]
    )


def insert_reads(
    cur: duckdb.DuckDBPyConnection, username: str, ids: list[int], read_at: datetime
) -> int:
    """Append read markers for the user's own unread notifications among ids; returns count."""
    if not ids:
        return 0
    rows = cur.execute(
        "SELECT n.notification_id FROM notifications n"
        " WHERE n.username = ? AND list_contains(?::INTEGER[], n.notification_id)"
        " AND NOT EXISTS (SELECT 1 FROM inbox_reads r"
        "   WHERE r.notification_id = n.notification_id AND r.username = n.username)",
        [username, [int(i) for i in ids]],
    ).fetchall()
    for (nid,) in rows:
        cur.execute("INSERT INTO inbox_reads VALUES (?, ?, ?)", [nid, username, read_at])
    return len(rows)
