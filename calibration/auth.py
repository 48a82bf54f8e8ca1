"""Accounts, roles, password checks and what each role may see and do."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from calibration import events as chain
from calibration import settings
from calibration.store import transaction
from calibration.store import users as q
from calibration.store.core import utcnow

ROLES = ("executive", "analyst", "lead", "hrbp", "admin")

# Page keys each role may open; app.py maps keys to page files.
ROLE_PAGES: dict[str, tuple[str, ...]] = {
    "executive": ("board", "letters", "tracking", "data", "inbox"),
    "analyst": ("model_lab", "board", "tracking", "data", "inbox"),
    "lead": ("my_region", "letters", "tracking", "data", "inbox"),
    "hrbp": ("review", "inbox"),
    "admin": ("board", "model_lab", "letters", "tracking", "data", "admin", "inbox"),
}

_hasher = PasswordHasher()


class AuthError(Exception):
    """A login or permission problem; the message is a translation key."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class User:
    """The acting person: every service write takes one."""

    username: str
    display_name: str
    role: str
    regions: frozenset[str] = field(default_factory=frozenset)

    @property
    def sees_all_regions(self) -> bool:
        """HQ roles see every region; a lead only their own."""
        return self.role in ("executive", "analyst", "admin", "hrbp")

    def may_see_region(self, region: str) -> bool:
        """Whether this user may read a region's data."""
        return self.sees_all_regions or region in self.regions

    def may_lead(self, region: str) -> bool:
        """Whether this user may propose for a region."""
        return self.role == "lead" and region in self.regions


SYSTEM = User("system", "System", "admin")


def hash_password(password: str) -> str:
    """Argon2id hash of a password."""
    return _hasher.hash(password)


def validate_new_user(username: str, role: str, password: str, regions: list[str]) -> None:
    """Raise AuthError naming the problem with a new account's fields."""
    if not username or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise AuthError("auth.err_username")
    if role not in ROLES:
        raise AuthError("auth.err_role", roles=", ".join(ROLES))
    if len(password) < 8:
        raise AuthError("auth.err_password_short")
    if role == "lead" and not regions:
        raise AuthError("auth.err_lead_region")


def add_user(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    username: str,
    role: str,
    password: str,
    regions: list[str] | None = None,
    display_name: str | None = None,
) -> User:
    """Create an account (admin only, or SYSTEM from the CLI and demo loader)."""
    if actor.role != "admin":
        raise PermissionError("only an admin may add users")
    regions = list(regions or [])
    validate_new_user(username, role, password, regions)
    # audit: region assignments are sealed in the decision record.
    with chain.sealed(cur, actor.username, actor.role, None, ("user_regions",)):
        if q.get_user(cur, username) is not None:
            raise AuthError("auth.err_exists", username=username)
        q.insert_user(
            cur, username, display_name or username, role, hash_password(password), regions, utcnow()
        )
    return User(username, display_name or username, role, frozenset(regions))


def authenticate(cur: duckdb.DuckDBPyConnection, username: str, password: str) -> User:
    """Check a password; rate-limited per account, every attempt logged.

    Raises AuthError("auth.err_locked") after too many recent failures and
    AuthError("auth.err_invalid") for any wrong name or password (the same message, so
    names cannot be probed).
    """
    username = (username or "").strip()
    now = utcnow()
    since = now - timedelta(minutes=settings.login_window_minutes())
    if q.recent_failures(cur, username, since) >= settings.login_max_failures():
        with transaction(cur):
            q.record_login(cur, username, now, False)
        raise AuthError("auth.err_locked", minutes=settings.login_window_minutes())
    row = q.get_user(cur, username)
    ok = False
    if row is not None:
        try:
            ok = _hasher.verify(row["password_hash"], password or "")
        except (VerificationError, InvalidHashError):
            ok = False
    with transaction(cur):
        q.record_login(cur, username, now, ok)
        if ok and _hasher.check_needs_rehash(row["password_hash"]):
            q.update_password_hash(cur, username, hash_password(password))
    if not ok:
        raise AuthError("auth.err_invalid")
    return User(row["username"], row["display_name"], row["role"], frozenset(row["regions"]))


def load_user(cur: duckdb.DuckDBPyConnection, username: str) -> User | None:
    """The account as a User, or None."""
    row = q.get_user(cur, username)
    if row is None:
        return None
    return User(row["username"], row["display_name"], row["role"], frozenset(row["regions"]))


def pages_for(role: str) -> tuple[str, ...]:
    """Page keys a role may open."""
    return ROLE_PAGES.get(role, ())
