"""Queries for sign-in sessions (hashes only) and their bookkeeping."""

from __future__ import annotations

from datetime import datetime

import duckdb

_COLUMNS = (
    "session_id",
    "username",
    "method",
    "created_at",
    "last_seen_at",
    "client_address",
    "user_agent",
    "lang",
    "cycle_id",
    "revoked_at",
    "revoked_reason",
    "revoked_by",
)
_SELECT = "SELECT " + ", ".join(_COLUMNS) + " FROM sessions"


def _rows(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    return [dict(zip(_COLUMNS, row, strict=True)) for row in cur.fetchall()]


def insert_session(
    cur: duckdb.DuckDBPyConnection,
    session_id: str,
    ticket_hash: str | None,
    ticket_expires_at: datetime | None,
    username: str,
    method: str,
    at: datetime,
    client_address: str | None,
    user_agent: str | None,
) -> None:
    """Record a new session, its cookie not yet handed out (caller holds the transaction)."""
    cur.execute(
        "INSERT INTO sessions (session_id, ticket_hash, ticket_expires_at, username, method,"
        " created_at, last_seen_at, client_address, user_agent)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            session_id,
            ticket_hash,
            ticket_expires_at,
            username,
            method,
            at,
            at,
            client_address,
            user_agent,
        ],
    )


def get_by_id(cur: duckdb.DuckDBPyConnection, session_id: str) -> dict | None:
    """One session by its id, or None."""
    cur.execute(_SELECT + " WHERE session_id = ?", [session_id])
    rows = _rows(cur)
    return rows[0] if rows else None


def get_by_token(cur: duckdb.DuckDBPyConnection, token_hash: str) -> dict | None:
    """The session whose cookie token has this hash, or None."""
    cur.execute(_SELECT + " WHERE token_hash = ?", [token_hash])
    rows = _rows(cur)
    return rows[0] if rows else None


def redeem_ticket(
    cur: duckdb.DuckDBPyConnection, ticket_hash: str, token_hash: str, at: datetime
) -> dict | None:
    """Give the session of an unused, unexpired ticket its token; None when there is none.

    One UPDATE with every condition in its WHERE: a second redemption finds token_hash set.
    """
    cur.execute(
        "UPDATE sessions SET token_hash = ?, ticket_hash = NULL"
        " WHERE ticket_hash = ? AND token_hash IS NULL AND revoked_at IS NULL"
        " AND ticket_expires_at > ? RETURNING session_id",
        [token_hash, ticket_hash, at],
    )
    found = cur.fetchall()
    return get_by_id(cur, found[0][0]) if found else None


def touch(cur: duckdb.DuckDBPyConnection, session_id: str, at: datetime) -> None:
    """Record activity (bookkeeping)."""
    cur.execute("UPDATE sessions SET last_seen_at = ? WHERE session_id = ?", [at, session_id])


def set_preferences(
    cur: duckdb.DuckDBPyConnection, session_id: str, lang: str | None, cycle_id: int | None
) -> None:
    """Remember the session's language and cycle, restored after a reload."""
    cur.execute(
        "UPDATE sessions SET lang = ?, cycle_id = ? WHERE session_id = ?",
        [lang, cycle_id, session_id],
    )


def revoke(
    cur: duckdb.DuckDBPyConnection, session_id: str, at: datetime, reason: str, by: str | None
) -> str | None:
    """End one session (a revoked one keeps its first reason); how it was signed in
    (password, join, sso) when it was active, else None."""
    cur.execute(
        "UPDATE sessions SET revoked_at = ?, revoked_reason = ?, revoked_by = ?,"
        " ticket_hash = NULL WHERE session_id = ? AND revoked_at IS NULL RETURNING method",
        [at, reason, by, session_id],
    )
    row = cur.fetchone()
    return row[0] if row else None


def revoke_user(
    cur: duckdb.DuckDBPyConnection, username: str, at: datetime, reason: str, by: str | None
) -> int:
    """End every active session of a person; the number ended."""
    cur.execute(
        "UPDATE sessions SET revoked_at = ?, revoked_reason = ?, revoked_by = ?,"
        " ticket_hash = NULL WHERE username = ? AND revoked_at IS NULL RETURNING session_id",
        [at, reason, by, username],
    )
    return len(cur.fetchall())


def list_active(
    cur: duckdb.DuckDBPyConnection, idle_since: datetime, created_since: datetime
) -> list[dict]:
    """Sessions neither revoked, idle nor past their lifetime, with the person's display name."""
    cur.execute(
        "SELECT s.session_id, s.username, coalesce(u.display_name, s.username), s.method,"
        " s.client_address, s.user_agent, s.last_seen_at, s.created_at"
        " FROM sessions s LEFT JOIN users u USING (username)"
        " WHERE s.revoked_at IS NULL AND s.last_seen_at >= ? AND s.created_at >= ?"
        " ORDER BY s.last_seen_at DESC",
        [idle_since, created_since],
    )
    keys = (
        "session_id",
        "username",
        "display_name",
        "method",
        "client_address",
        "user_agent",
        "last_seen_at",
        "created_at",
    )
    return [dict(zip(keys, row, strict=True)) for row in cur.fetchall()]
