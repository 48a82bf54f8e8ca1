"""Queries for drafts: half-typed forms kept per person and form key (not decisions)."""

from __future__ import annotations

from datetime import datetime

import duckdb


def get_draft(cur: duckdb.DuckDBPyConnection, username: str, form_key: str) -> dict | None:
    """A person's draft of one form: fields (JSON text), seen_event, updated_at; or None."""
    rows = cur.execute(
        "SELECT fields, seen_event, updated_at FROM drafts WHERE username = ? AND form_key = ?",
        [username, form_key],
    ).fetchall()
    if not rows:
        return None
    return dict(zip(("fields", "seen_event", "updated_at"), rows[0], strict=True))


def put_draft(
    cur: duckdb.DuckDBPyConnection,
    username: str,
    form_key: str,
    fields: str,
    seen_event: int | None,
    at: datetime,
) -> None:
    """Insert or replace a person's draft of one form."""
    cur.execute(
        "INSERT OR REPLACE INTO drafts (username, form_key, fields, seen_event, updated_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [username, form_key, fields, seen_event, at],
    )


def delete_draft(cur: duckdb.DuckDBPyConnection, username: str, form_key: str) -> None:
    """Forget a person's draft of one form."""
    cur.execute("DELETE FROM drafts WHERE username = ? AND form_key = ?", [username, form_key])
