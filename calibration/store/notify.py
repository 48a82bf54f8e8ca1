"""Queries for notification delivery: each person's settings and the outbox of deliveries.

notify_prefs and notification_routes are append-only; a delivery row is an outbox entry
whose status, attempts and next attempt change as the worker sends it (it is not a record
of a decision: the notification in the inbox is). Callers hold the transaction.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from calibration.store.tracking import NOTIFICATION_COLUMNS

PREF_COLUMNS = (
    "username",
    "email",
    "lang",
    "email_on",
    "wecom_on",
    "dingtalk_on",
    "feishu_on",
    "changed_by",
    "changed_at",
)
DELIVERY_COLUMNS = (
    "delivery_id",
    "notification_id",
    "channel",
    "target",
    "lang",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "created_at",
    "sent_at",
)


def _nextval(cur: duckdb.DuckDBPyConnection, sequence: str) -> int:
    # The two sequence names are constants of this module, never input.
    return int(cur.execute(f"SELECT nextval('{sequence}')").fetchall()[0][0])


# ----------------------------------------------------------------------------- settings


def latest_prefs(cur: duckdb.DuckDBPyConnection, usernames: list[str]) -> dict[str, dict]:
    """The newest settings row of each of the usernames that has one."""
    if not usernames:
        return {}
    rows = cur.execute(
        f"SELECT {', '.join(PREF_COLUMNS)} FROM notify_prefs p"
        " WHERE list_contains(?::TEXT[], p.username) AND p.pref_id ="
        " (SELECT max(x.pref_id) FROM notify_prefs x WHERE x.username = p.username)",
        [list(usernames)],
    ).fetchall()
    return {r[0]: dict(zip(PREF_COLUMNS, r, strict=True)) for r in rows}


def insert_prefs(cur: duckdb.DuckDBPyConnection, row: dict) -> int:
    """Append a settings row (the newest per username counts); returns its id."""
    pref_id = _nextval(cur, "notify_prefs_seq")
    cur.execute(
        f"INSERT INTO notify_prefs (pref_id, {', '.join(PREF_COLUMNS)})"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [pref_id, *(row[c] for c in PREF_COLUMNS)],
    )
    return pref_id


def user_exists(cur: duckdb.DuckDBPyConnection, username: str) -> bool:
    """Whether an account of that name exists."""
    return bool(
        cur.execute("SELECT count(*) FROM users WHERE username = ?", [username]).fetchall()[0][0]
    )


# ----------------------------------------------------------------------------- routing


def unrouted_notifications(
    cur: duckdb.DuckDBPyConnection, since: datetime, limit: int = 500
) -> list[dict]:
    """Notifications created at or after since that no pass has routed yet, oldest first."""
    cols = ("notification_id", *NOTIFICATION_COLUMNS)
    rows = cur.execute(
        f"SELECT {', '.join('n.' + c for c in cols)} FROM notifications n"
        " WHERE n.created_at >= ? AND NOT EXISTS (SELECT 1 FROM notification_routes r"
        "   WHERE r.notification_id = n.notification_id)"
        " ORDER BY n.created_at, n.notification_id LIMIT ?",
        [since, int(limit)],
    ).fetchall()
    return [dict(zip(cols, r, strict=True)) for r in rows]


def insert_route(cur: duckdb.DuckDBPyConnection, notification_id: int, at: datetime) -> None:
    """Mark a notification as routed (its deliveries, possibly none, are queued)."""
    cur.execute("INSERT INTO notification_routes VALUES (?, ?)", [int(notification_id), at])


def delivery_queued(
    cur: duckdb.DuckDBPyConnection, channel: str, target: str, dedupe_key: str
) -> bool:
    """Whether the same message already has a delivery to this channel and target."""
    return bool(
        cur.execute(
            "SELECT count(*) FROM deliveries WHERE channel = ? AND target = ? AND dedupe_key = ?",
            [channel, target, dedupe_key],
        ).fetchall()[0][0]
    )


def insert_delivery(cur: duckdb.DuckDBPyConnection, row: dict) -> int:
    """Queue one delivery (status pending, no attempts yet); returns its id."""
    delivery_id = _nextval(cur, "deliveries_seq")
    cur.execute(
        "INSERT INTO deliveries (delivery_id, notification_id, channel, target, lang,"
        " dedupe_key, status, attempts, next_attempt_at, last_error, created_at, sent_at)"
        " VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, NULL, ?, NULL)",
        [
            delivery_id,
            row["notification_id"],
            row["channel"],
            row["target"],
            row["lang"],
            row["dedupe_key"],
            row["created_at"],
            row["created_at"],
        ],
    )
    return delivery_id


# ----------------------------------------------------------------------------- sending


def due_deliveries(cur: duckdb.DuckDBPyConnection, now: datetime, limit: int = 100) -> list[dict]:
    """Pending deliveries whose next attempt is due, with their notification, oldest first."""
    cols = (*DELIVERY_COLUMNS, "username", "kind", "region", "message_key", "params")
    rows = cur.execute(
        f"SELECT {', '.join('d.' + c for c in DELIVERY_COLUMNS)}, n.username, n.kind,"
        " n.region, n.message_key, n.params"
        " FROM deliveries d JOIN notifications n USING (notification_id)"
        " WHERE d.status = 'pending' AND d.next_attempt_at <= ?"
        " ORDER BY d.next_attempt_at, d.delivery_id LIMIT ?",
        [now, int(limit)],
    ).fetchall()
    return [dict(zip(cols, r, strict=True)) for r in rows]


def mark_sent(
    cur: duckdb.DuckDBPyConnection, delivery_id: int, attempts: int, at: datetime
) -> None:
    """A delivery went out."""
    cur.execute(
        "UPDATE deliveries SET status = 'sent', attempts = ?, sent_at = ?, last_error = NULL"
        " WHERE delivery_id = ?",
        [int(attempts), at, int(delivery_id)],
    )


def mark_attempt_failed(
    cur: duckdb.DuckDBPyConnection,
    delivery_id: int,
    attempts: int,
    status: str,
    next_attempt_at: datetime,
    error: str,
) -> None:
    """A send failed: count it, keep the error, and set the next try (or give up: failed)."""
    cur.execute(
        "UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?"
        " WHERE delivery_id = ?",
        [status, int(attempts), next_attempt_at, error, int(delivery_id)],
    )


def retry(cur: duckdb.DuckDBPyConnection, delivery_ids: list[int], now: datetime) -> int:
    """Make failed or pending deliveries due now with a fresh set of attempts; returns count."""
    if not delivery_ids:
        return 0
    ids = [int(i) for i in delivery_ids]
    count = cur.execute(
        "SELECT count(*) FROM deliveries WHERE list_contains(?::INTEGER[], delivery_id)"
        " AND status IN ('failed', 'pending')",
        [ids],
    ).fetchall()[0][0]
    cur.execute(
        "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?"
        " WHERE list_contains(?::INTEGER[], delivery_id) AND status IN ('failed', 'pending')",
        [now, ids],
    )
    return int(count)


# ----------------------------------------------------------------------------- status


def status_counts(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Deliveries per status (pending, sent, failed)."""
    rows = cur.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall()
    return {s: int(n) for s, n in rows}


def list_deliveries(
    cur: duckdb.DuckDBPyConnection, status: str | None = None, limit: int = 50
) -> list[dict]:
    """The newest deliveries (of one status), with the recipient, newest first."""
    cols = (*DELIVERY_COLUMNS, "username", "kind")
    rows = cur.execute(
        f"SELECT {', '.join('d.' + c for c in DELIVERY_COLUMNS)}, n.username, n.kind"
        " FROM deliveries d JOIN notifications n USING (notification_id)"
        " WHERE CAST(? AS TEXT) IS NULL OR d.status = ?"
        " ORDER BY d.created_at DESC, d.delivery_id DESC LIMIT ?",
        [status, status, int(limit)],
    ).fetchall()
    return [dict(zip(cols, r, strict=True)) for r in rows]


def deliveries_of(cur: duckdb.DuckDBPyConnection, notification_id: int) -> list[dict]:
    """Every delivery of one notification."""
    rows = cur.execute(
        f"SELECT {', '.join(DELIVERY_COLUMNS)} FROM deliveries WHERE notification_id = ?"
        " ORDER BY delivery_id",
        [int(notification_id)],
    ).fetchall()
    return [dict(zip(DELIVERY_COLUMNS, r, strict=True)) for r in rows]
