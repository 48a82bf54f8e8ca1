"""Sign-in sessions behind the `calibrate_session` cookie.

Every sign-in (password, join link, SSO) starts a new session: a random id known to the
signing-in tab, and a one-time ticket (`secrets.token_urlsafe(32)`, 60 s) that the browser
trades at `POST /auth/session` for the cookie's own random token. The database keeps only
SHA-256 hashes of ticket and token. A session ends when signed out, revoked (by an
administrator, or all of a person's at a password change), idle longer than
`CALIBRATE_IDLE_MINUTES`, or older than `CALIBRATE_SESSION_HOURS`.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from calibration import access, settings
from calibration.accounts import auth
from calibration.store import sessions as q
from calibration.store import transaction
from calibration.store.core import utcnow

COOKIE = "calibrate_session"
TICKET_TTL = timedelta(seconds=60)
# last_seen is bookkeeping: written at most this often per session, so reads stay cheap.
TOUCH_EVERY = timedelta(seconds=60)
METHODS = ("password", "join", "sso")
MAX_CLIENT_CHARS = 64
MAX_AGENT_CHARS = 200
MAX_SECRET_CHARS = 200
log = logging.getLogger("calibrate")


class SessionError(Exception):
    """A ticket or session problem; the message is a translation key (session.err_*)."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class Status:
    """What a session is now: ok, or why it ended (signed_out, revoked, password_changed,
    replaced, idle, expired, unknown)."""

    ok: bool
    reason: str | None
    session: dict | None


def secret_hash(secret: str) -> str:
    """Hex SHA-256 of a ticket or token, the only form in which either is stored."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _clip(text: str | None, limit: int) -> str | None:
    return text[:limit] if isinstance(text, str) and text else None


def start(
    cur: duckdb.DuckDBPyConnection,
    user: auth.User,
    method: str,
    client: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> tuple[str, str]:
    """A new session for a person who has just proved who they are: (session_id, ticket)."""
    access.require(user, "session.own")
    if method not in METHODS:
        raise ValueError(f"unknown sign-in method {method!r}")
    at = now or utcnow()
    session_id = secrets.token_hex(16)
    ticket = secrets.token_urlsafe(32)
    with transaction(cur):
        q.insert_session(
            cur,
            session_id,
            secret_hash(ticket),
            at + TICKET_TTL,
            user.username,
            method,
            at,
            _clip(client, MAX_CLIENT_CHARS),
            _clip(user_agent, MAX_AGENT_CHARS),
        )
    log.info("session started for %s by %s", auth.username_tag(user.username), method)
    return session_id, ticket


def redeem(
    cur: duckdb.DuckDBPyConnection,
    ticket: str,
    client: str | None = None,
    now: datetime | None = None,
    throttle: auth.Throttle | None = None,
) -> tuple[dict, str]:
    """Trade a ticket (once, within 60 s) for the session's cookie token: (session, token).

    Counted by the sign-in throttle against the client address like a password attempt;
    raises SessionError("session.err_ticket") for any unknown, used or expired ticket and
    auth.AuthError("auth.err_locked") while the address is delayed.
    """
    throttle = throttle or auth.throttle_for(cur)
    key = f"client:{client or 'unknown'}"
    throttle.begin([key])
    at = now or utcnow()
    session = None
    token = secrets.token_urlsafe(32)
    if ticket and len(ticket) <= MAX_SECRET_CHARS:
        try:
            with transaction(cur):
                session = q.redeem_ticket(cur, secret_hash(ticket), secret_hash(token), at)
        except duckdb.TransactionException:
            session = None  # another request redeemed it at the same moment
    if session is None:
        log.warning("session ticket refused for client %s", auth.username_tag(client or ""))
        raise SessionError("session.err_ticket")
    throttle.succeeded("ticket", [key])
    log.info("session cookie issued for %s", auth.username_tag(session["username"]))
    return session, token


def status_of(session: dict | None, now: datetime | None = None) -> Status:
    """Whether a stored session is still good, and if not why."""
    if session is None:
        return Status(False, "unknown", None)
    if session["revoked_at"] is not None:
        return Status(False, session["revoked_reason"] or "revoked", session)
    at = now or utcnow()
    if at - session["created_at"] > timedelta(hours=settings.session_hours()):
        return Status(False, "expired", session)
    if at - session["last_seen_at"] > timedelta(minutes=settings.idle_minutes()):
        return Status(False, "idle", session)
    return Status(True, None, session)


def check(cur: duckdb.DuckDBPyConnection, session_id: str, now: datetime | None = None) -> Status:
    """The status of a session by its id (one primary-key read; writes nothing)."""
    return status_of(q.get_by_id(cur, session_id), now)


def resolve(cur: duckdb.DuckDBPyConnection, token: str, now: datetime | None = None) -> Status:
    """The status of the session a cookie token stands for (writes nothing)."""
    if not token or len(token) > MAX_SECRET_CHARS:
        return Status(False, "unknown", None)
    return status_of(q.get_by_token(cur, secret_hash(token)), now)


def touch(cur: duckdb.DuckDBPyConnection, session: dict, now: datetime | None = None) -> datetime:
    """Record activity, at most once a minute; the last_seen time now stored."""
    at = now or utcnow()
    if at - session["last_seen_at"] < TOUCH_EVERY:
        return session["last_seen_at"]
    q.touch(cur, session["session_id"], at)
    return at


def remember(
    cur: duckdb.DuckDBPyConnection, session_id: str, lang: str | None, cycle_id: int | None
) -> None:
    """Keep the session's language and cycle so a reload or a new tab opens on them."""
    q.set_preferences(cur, session_id, lang, cycle_id)


def end(
    cur: duckdb.DuckDBPyConnection,
    session_id: str,
    reason: str = "signed_out",
    now: datetime | None = None,
) -> str | None:
    """End a session from its own tab (sign-out); how it was signed in (password, join,
    sso) when it was still active, else None."""
    return q.revoke(cur, session_id, now or utcnow(), reason, None)


def end_token(
    cur: duckdb.DuckDBPyConnection,
    token: str,
    reason: str = "signed_out",
    now: datetime | None = None,
) -> str | None:
    """End the session a cookie token stands for (signed out, or replaced by a new sign-in
    in the same browser); how it was signed in (password, join, sso), None when no session
    has this token."""
    if not token or len(token) > MAX_SECRET_CHARS:
        return None
    session = q.get_by_token(cur, secret_hash(token))
    if session is None:
        return None
    end(cur, session["session_id"], reason, now)
    return session["method"]


def revoke(
    cur: duckdb.DuckDBPyConnection,
    actor: auth.User,
    session_id: str,
    now: datetime | None = None,
) -> bool:
    """An administrator ends one session."""
    access.require(actor, "user.manage")
    return q.revoke(cur, session_id, now or utcnow(), "revoked", actor.username) is not None


def revoke_person(
    cur: duckdb.DuckDBPyConnection,
    actor: auth.User,
    username: str,
    now: datetime | None = None,
) -> int:
    """An administrator ends every session of a person; the number ended."""
    access.require(actor, "user.manage")
    return q.revoke_user(cur, username, now or utcnow(), "revoked", actor.username)


def active(
    cur: duckdb.DuckDBPyConnection, actor: auth.User, now: datetime | None = None
) -> list[dict]:
    """Live sessions, most recently active first (administrators only): session_id,
    username, display_name, method, client_address, user_agent, last_seen_at, created_at."""
    access.require(actor, "user.manage")
    at = now or utcnow()
    return q.list_active(
        cur,
        at - timedelta(minutes=settings.idle_minutes()),
        at - timedelta(hours=settings.session_hours()),
    )


_BROWSERS = (
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("HeadlessChrome/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Version/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def browser_label(user_agent: str | None) -> str:
    """A user agent in a few words a person recognises: "Chrome 156 · Linux" ("" if unknown)."""
    ua = user_agent or ""
    parts = []
    for marker, name in _BROWSERS:
        at = ua.find(marker)
        if at >= 0:
            major = ua[at + len(marker) :].split(".", 1)[0].split(" ", 1)[0]
            parts.append(f"{name} {major}" if major.isdigit() else name)
            break
    parts += [name for marker, name in _SYSTEMS if marker in ua][:1]
    return " · ".join(parts)
