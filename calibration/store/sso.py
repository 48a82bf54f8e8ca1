"""Queries for single sign-on: accounts by subject or email, links, and used identities."""

from __future__ import annotations

from datetime import datetime

import duckdb

_ACCOUNT = (
    "SELECT u.username, u.display_name, u.role, u.email, u.oidc_issuer, u.oidc_subject,"
    " coalesce(u.sso_groups, false),"
    " coalesce(list(r.region ORDER BY r.region) FILTER (WHERE r.region IS NOT NULL), [])"
    " FROM users u LEFT JOIN user_regions r USING (username)"
)
_GROUP = (
    " GROUP BY u.username, u.display_name, u.role, u.email, u.oidc_issuer, u.oidc_subject,"
    " u.sso_groups ORDER BY u.username"
)
_KEYS = (
    "username",
    "display_name",
    "role",
    "email",
    "oidc_issuer",
    "oidc_subject",
    "sso_groups",
    "regions",
)


def _rows(cur: duckdb.DuckDBPyConnection, where: str, params: list) -> list[dict]:
    rows = cur.execute(_ACCOUNT + where + _GROUP, params).fetchall()
    return [dict(zip(_KEYS, row, strict=True)) for row in rows]


def account_by_subject(cur: duckdb.DuckDBPyConnection, issuer: str, subject: str) -> dict | None:
    """The account linked to a provider's subject, or None."""
    rows = _rows(cur, " WHERE u.oidc_issuer = ? AND u.oidc_subject = ?", [issuer, subject])
    return rows[0] if rows else None


def accounts_by_email(cur: duckdb.DuckDBPyConnection, email: str) -> list[dict]:
    """Accounts whose sign-in email is email (compared without case)."""
    return _rows(cur, " WHERE lower(u.email) = lower(?)", [email])


def account(cur: duckdb.DuckDBPyConnection, username: str) -> dict | None:
    """One account with its sign-on fields, or None."""
    rows = _rows(cur, " WHERE u.username = ?", [username])
    return rows[0] if rows else None


def username_taken(cur: duckdb.DuckDBPyConnection, username: str) -> bool:
    """Whether an account has this username."""
    return bool(cur.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchall())


def insert_account(
    cur: duckdb.DuckDBPyConnection,
    username: str,
    display_name: str,
    role: str,
    password_hash: str,
    created_at: datetime,
    email: str | None,
    issuer: str,
    subject: str,
) -> None:
    """Add an account made by single sign-on (regions by set_regions; caller holds the transaction)."""
    cur.execute(
        "INSERT INTO users (username, display_name, role, password_hash, created_at, email,"
        " oidc_issuer, oidc_subject, sso_groups) VALUES (?, ?, ?, ?, ?, ?, ?, ?, true)",
        [username, display_name, role, password_hash, created_at, email, issuer, subject],
    )


def set_role(cur: duckdb.DuckDBPyConnection, username: str, role: str) -> None:
    """Give an account the role its groups map to, from now on managed by those groups."""
    cur.execute("UPDATE users SET role = ?, sso_groups = true WHERE username = ?", [role, username])


def set_regions(cur: duckdb.DuckDBPyConnection, username: str, regions: list[str]) -> None:
    """Replace an account's regions (caller seals user_regions in the same transaction)."""
    cur.execute("DELETE FROM user_regions WHERE username = ?", [username])
    for region in regions:
        cur.execute("INSERT INTO user_regions VALUES (?, ?)", [username, region])


def link_subject(
    cur: duckdb.DuckDBPyConnection, username: str, issuer: str | None, subject: str | None
) -> None:
    """Store the provider's subject on an account matched by its email (None: unlink)."""
    cur.execute(
        "UPDATE users SET oidc_issuer = ?, oidc_subject = ? WHERE username = ?",
        [issuer, subject, username],
    )


def set_email(cur: duckdb.DuckDBPyConnection, username: str, email: str | None) -> None:
    """Set (or clear, with None) an account's sign-in email."""
    cur.execute("UPDATE users SET email = ? WHERE username = ?", [email, username])


def record_sign_in(
    cur: duckdb.DuckDBPyConnection,
    token_hash: str,
    identity_tag: str,
    username: str | None,
    outcome: str,
    at: datetime,
) -> None:
    """Mark an identity as used; a second use of the same one fails on the primary key."""
    cur.execute(
        "INSERT INTO sso_sign_ins (token_hash, identity_tag, username, outcome, signed_in_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [token_hash, identity_tag, username, outcome, at],
    )


def identity_used(cur: duckdb.DuckDBPyConnection, token_hash: str) -> bool:
    """Whether an identity has been presented before."""
    return bool(
        cur.execute("SELECT 1 FROM sso_sign_ins WHERE token_hash = ?", [token_hash]).fetchall()
    )
