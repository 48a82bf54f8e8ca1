"""Join the live session: per-lead sign-in links (single use, expiring) and their QR codes.

A link carries a random token (`secrets.token_urlsafe(32)`, 256 bits); the database keeps
only its SHA-256, so a copy of the database cannot be used to sign in. Redeeming a token
appends a row to `join_token_uses` (nothing is updated), and that table's primary key makes
a second redemption fail even when two browsers race.

The app reads `?join=TOKEN`, calls `redeem`, signs in the returned lead and removes the
parameter from the URL.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import duckdb
import pandas as pd
import segno

from calibration import access
from calibration.accounts.auth import User
from calibration.store import join as q
from calibration.store import transaction
from calibration.store import users as uq
from calibration.store.core import utcnow

DEFAULT_TTL = timedelta(hours=2)
PARAM = "join"


class JoinError(Exception):
    """A join-link problem; the message is a translation key (join.err_*)."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


class JoinPermissionError(JoinError, PermissionError):
    """The acting user may not create join links."""


def token_hash(token: str) -> str:
    """Hex SHA-256 of a token, the only form in which it is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def join_url(base_url: str, token: str) -> str:
    """base_url with ?join=TOKEN added (other query parameters kept)."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise JoinError("join.err_base_url")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != PARAM]
    query.append((PARAM, token))
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(query), ""))


def create_join_links(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    cycle_id: int,
    base_url: str,
    leads: Iterable[str],
    ttl: timedelta = DEFAULT_TTL,
    now: datetime | None = None,
) -> list[tuple[str, str]]:
    """One fresh sign-in link per lead username: [(lead, url)] (executive or admin only)."""
    if not access.can(actor, "join.create"):
        raise JoinPermissionError("join.err_permission")
    leads = list(dict.fromkeys(leads))
    created = now or utcnow()
    out: list[tuple[str, str]] = []
    with transaction(cur):
        for lead in leads:
            row = uq.get_user(cur, lead)
            if row is None or row["role"] != "lead":
                raise JoinError("join.err_not_lead", username=lead)
            token = secrets.token_urlsafe(32)
            url = join_url(base_url, token)
            q.insert_token(
                cur, token_hash(token), lead, int(cycle_id), actor.username, created, created + ttl
            )
            out.append((lead, url))
    return out


def redeem(
    cur: duckdb.DuckDBPyConnection, token: str, now: datetime | None = None
) -> tuple[str, int]:
    """Use a token once: (username, cycle_id), or JoinError join.err_invalid/used/expired."""
    if not token or len(token) > 200:
        raise JoinError("join.err_invalid")
    h = token_hash(token)
    at = now or utcnow()
    try:
        with transaction(cur):
            row = q.get_token(cur, h)
            if row is None:
                raise JoinError("join.err_invalid")
            if row["used_at"] is not None:
                raise JoinError("join.err_used")
            if at >= row["expires_at"]:
                raise JoinError("join.err_expired")
            # The account may have been removed or changed role since the link was made.
            user = uq.get_user(cur, row["username"])
            if user is None or user["role"] != "lead":
                raise JoinError("join.err_invalid")
            q.insert_use(cur, h, at)
    except (duckdb.ConstraintException, duckdb.TransactionException) as exc:
        # Another browser redeemed the same token between our read and our insert.
        raise JoinError("join.err_used") from exc
    return row["username"], int(row["cycle_id"])


def lead_accounts(cur: duckdb.DuckDBPyConnection, actor: User) -> list[dict]:
    """Lead accounts a link can be made for: username, display_name, regions."""
    if not access.can(actor, "join.create"):
        raise JoinPermissionError("join.err_permission")
    return [
        {k: u[k] for k in ("username", "display_name", "regions")}
        for u in uq.list_users(cur)
        if u["role"] == "lead"
    ]


def link_status(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> pd.DataFrame:
    """Links made for a cycle: username, created_by, created_at, expires_at, used_at."""
    return q.list_tokens(cur, int(cycle_id))


def qr_svg(url: str, scale: int = 4) -> str:
    """The URL as an inline SVG QR code."""
    return segno.make(url, error="m").svg_inline(scale=scale)


def qr_png(url: str, scale: int = 8) -> bytes:
    """The URL as a PNG QR code."""
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()
