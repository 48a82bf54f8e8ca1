"""Queries for session join tokens (stored as SHA-256 only) and their single use."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd


def insert_token(
    cur: duckdb.DuckDBPyConnection,
    token_hash: str,
    username: str,
    cycle_id: int,
    created_by: str,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    """Record a new join token by its hash (caller holds the transaction)."""
    cur.execute(
        "INSERT INTO join_tokens"
        " (token_hash, username, cycle_id, created_by, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [token_hash, username, cycle_id, created_by, created_at, expires_at],
    )


def get_token(cur: duckdb.DuckDBPyConnection, token_hash: str) -> dict | None:
    """A token by hash with its use time (None when unused), or None when unknown."""
    rows = cur.execute(
        "SELECT t.username, t.cycle_id, t.created_at, t.expires_at, u.used_at"
        " FROM join_tokens t LEFT JOIN join_token_uses u USING (token_hash)"
        " WHERE t.token_hash = ?",
        [token_hash],
    ).fetchall()
    if not rows:
        return None
    row = rows[0]
    keys = ("username", "cycle_id", "created_at", "expires_at", "used_at")
    return dict(zip(keys, row, strict=True))


def insert_use(cur: duckdb.DuckDBPyConnection, token_hash: str, used_at: datetime) -> None:
    """Mark a token used; a second use violates the primary key."""
    cur.execute(
        "INSERT INTO join_token_uses (token_hash, used_at) VALUES (?, ?)", [token_hash, used_at]
    )


def list_tokens(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> pd.DataFrame:
    """Links of a cycle, newest first: username, created_by, created_at, expires_at, used_at."""
    return cur.execute(
        "SELECT t.username, t.created_by, t.created_at, t.expires_at, u.used_at"
        " FROM join_tokens t LEFT JOIN join_token_uses u USING (token_hash)"
        " WHERE t.cycle_id = ? ORDER BY t.created_at DESC, t.username",
        [cycle_id],
    ).df()
