"""Queries for API tokens (stored as SHA-256 only), their revocations and the call log."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

_TOKEN_COLUMNS = ("token_id", "name", "scopes", "created_at", "created_by")


def insert_token(
    cur: duckdb.DuckDBPyConnection,
    name: str,
    token_hash: str,
    scopes: str,
    created_at: datetime,
    created_by: str,
) -> int:
    """Record a new token by its hash (caller holds the transaction); returns its id."""
    # Not in core.SEQUENCES: migration 007 aligns those, and this table comes later (010).
    token_id = int(cur.execute("SELECT nextval('api_tokens_seq')").fetchall()[0][0])
    cur.execute(
        "INSERT INTO api_tokens (token_id, name, token_hash, scopes, created_at, created_by)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [token_id, name, token_hash, scopes, created_at, created_by],
    )
    return token_id


def active_token(cur: duckdb.DuckDBPyConnection, token_hash: str) -> dict | None:
    """The unrevoked token with this hash, or None."""
    rows = cur.execute(
        "SELECT t.token_id, t.name, t.scopes, t.created_at, t.created_by FROM api_tokens t"
        " LEFT JOIN api_token_revocations r USING (token_id)"
        " WHERE t.token_hash = ? AND r.token_id IS NULL",
        [token_hash],
    ).fetchall()
    return dict(zip(_TOKEN_COLUMNS, rows[0], strict=True)) if rows else None


def active_token_id(cur: duckdb.DuckDBPyConnection, name: str) -> int | None:
    """Id of the unrevoked token called name, or None."""
    rows = cur.execute(
        "SELECT t.token_id FROM api_tokens t LEFT JOIN api_token_revocations r USING (token_id)"
        " WHERE t.name = ? AND r.token_id IS NULL",
        [name],
    ).fetchall()
    return int(rows[0][0]) if rows else None


def insert_revocation(
    cur: duckdb.DuckDBPyConnection, token_id: int, revoked_at: datetime, revoked_by: str
) -> None:
    """Record that a token was revoked (caller holds the transaction)."""
    cur.execute(
        "INSERT INTO api_token_revocations (token_id, revoked_at, revoked_by) VALUES (?, ?, ?)",
        [token_id, revoked_at, revoked_by],
    )


def list_tokens(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every token (no hashes), newest first, with its revocation and last call."""
    return cur.execute(
        "SELECT t.name, t.scopes, t.created_at, t.created_by, r.revoked_at, r.revoked_by,"
        " (SELECT max(c.called_at) FROM api_calls c WHERE c.token_name = t.name"
        "   AND c.called_at >= t.created_at) AS last_used"
        " FROM api_tokens t LEFT JOIN api_token_revocations r USING (token_id)"
        " ORDER BY t.created_at DESC, t.token_id DESC"
    ).df()


def log_call(
    cur: duckdb.DuckDBPyConnection,
    at: datetime,
    token_name: str | None,
    method: str,
    path: str,
    status: int,
    bytes_in: int,
    millis: float,
) -> None:
    """Append one API call to the call log."""
    cur.execute(
        "INSERT INTO api_calls (called_at, token_name, method, path, status, bytes_in, millis)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [at, token_name, method, path, status, bytes_in, millis],
    )


def recent_calls(cur: duckdb.DuckDBPyConnection, limit: int = 100) -> pd.DataFrame:
    """The newest API calls first."""
    return cur.execute(
        "SELECT called_at, token_name, method, path, status, bytes_in, millis FROM api_calls"
        " ORDER BY called_at DESC LIMIT ?",
        [int(limit)],
    ).df()


def newest_sources(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    """Per kind of import, the newest loaded file: kind, file_name, loaded_at, loaded_by."""
    rows = cur.execute(
        "SELECT kind, arg_max(file_name, loaded_at), max(loaded_at), arg_max(loaded_by, loaded_at)"
        " FROM sources GROUP BY kind ORDER BY kind"
    ).fetchall()
    return [
        {"kind": k, "file_name": f, "loaded_at": at.isoformat(), "loaded_by": by}
        for k, f, at, by in rows
    ]
