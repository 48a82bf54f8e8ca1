"""Queries for accounts, their regions and login attempts."""

from __future__ import annotations

from datetime import datetime

import duckdb


def get_user(cur: duckdb.DuckDBPyConnection, username: str) -> dict | None:
    """One account with its regions, or None."""
    row = cur.execute(
        "SELECT username, display_name, role, password_hash FROM users WHERE username = ?",
        [username],
    ).fetchall()
    if not row:
        return None
    row = row[0]
    regions = [
        r[0]
        for r in cur.execute(
            "SELECT region FROM user_regions WHERE username = ? ORDER BY region", [username]
        ).fetchall()
    ]
    return {
        "username": row[0],
        "display_name": row[1],
        "role": row[2],
        "password_hash": row[3],
        "regions": regions,
    }


def insert_user(
    cur: duckdb.DuckDBPyConnection,
    username: str,
    display_name: str,
    role: str,
    password_hash: str,
    regions: list[str],
    created_at: datetime,
) -> None:
    """Add an account and its region bindings (caller holds the transaction)."""
    cur.execute(
        "INSERT INTO users (username, display_name, role, password_hash, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [username, display_name, role, password_hash, created_at],
    )
    for region in regions:
        cur.execute("INSERT INTO user_regions VALUES (?, ?)", [username, region])


def update_password_hash(cur: duckdb.DuckDBPyConnection, username: str, password_hash: str) -> None:
    """Replace a stored hash (argon2 rehash on parameter upgrade)."""
    cur.execute("UPDATE users SET password_hash = ? WHERE username = ?", [password_hash, username])


def display_names(cur: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(username, display_name) of every account."""
    return cur.execute("SELECT username, display_name FROM users").fetchall()


def list_users(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    """All accounts (without hashes) with their regions and sign-in email."""
    rows = cur.execute(
        "SELECT u.username, u.display_name, u.role,"
        " coalesce(string_agg(r.region, ',' ORDER BY r.region), ''), u.email"
        " FROM users u LEFT JOIN user_regions r USING (username)"
        " GROUP BY u.username, u.display_name, u.role, u.email ORDER BY u.role, u.username"
    ).fetchall()
    return [
        {
            "username": u,
            "display_name": d,
            "role": role,
            "regions": [x for x in regs.split(",") if x],
            "email": email,
        }
        for u, d, role, regs, email in rows
    ]


def count_users(cur: duckdb.DuckDBPyConnection) -> int:
    """Number of accounts."""
    return cur.execute("SELECT count(*) FROM users").fetchall()[0][0]


def record_login(cur: duckdb.DuckDBPyConnection, username: str, at: datetime, ok: bool) -> None:
    """Log one login attempt."""
    cur.execute("INSERT INTO login_attempts VALUES (?, ?, ?)", [username, at, ok])


def database_file(cur: duckdb.DuckDBPyConnection) -> str:
    """The file (or ':memory:') of the database cur is connected to."""
    rows = cur.execute(
        "SELECT coalesce(path, database_name) FROM duckdb_databases()"
        " WHERE database_name = current_database()"
    ).fetchall()
    return rows[0][0] if rows else ""


def get_setting(cur: duckdb.DuckDBPyConnection, key: str) -> str | None:
    """A value from the settings table."""
    rows = cur.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchall()
    return rows[0][0] if rows else None


def set_setting(cur: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    """Insert or replace a value in the settings table."""
    cur.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", [key, value])
