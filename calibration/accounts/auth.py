"""Accounts, roles and password checks; what each role may see and do is calibration.access."""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from calibration import access, settings
from calibration import events as chain
from calibration.store import sessions as session_q
from calibration.store import transaction
from calibration.store import users as q
from calibration.store.core import utcnow

# Re-exported for the admin form and the CLI; the policy owns the list.
ROLES = access.ROLES

# argon2-cffi's defaults (RFC 9106 low-memory) everywhere people sign in; the test suite alone
# asks for the library's cheapest profile, since it signs in hundreds of times (0.26 s each).
_hasher = (
    PasswordHasher.from_parameters(profiles.CHEAPEST)
    if settings.cheap_password_hashes()
    else PasswordHasher()
)
log = logging.getLogger("calibrate")


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


SYSTEM = User("system", "System", "admin")
# Who an API import was made by: "api:" + the token's name (sources.loaded_by).
TOKEN_ACTOR_PREFIX = "api:"


def hash_password(password: str) -> str:
    """Argon2id hash of a password."""
    return _hasher.hash(password)


def validate_new_user(username: str, role: str, password: str, regions: list[str]) -> None:
    """Raise AuthError naming the problem with a new account's fields."""
    if not username or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise AuthError("auth.err_username")
    if not access.is_role(role):
        raise AuthError("auth.err_role", roles=", ".join(ROLES))
    if len(password) < 8:
        raise AuthError("auth.err_password_short")
    if access.needs_regions(role) and not regions:
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
    access.require(actor, "user.manage")
    regions = list(regions or [])
    validate_new_user(username, role, password, regions)
    # audit: region assignments are sealed in the decision record.
    with chain.sealed(cur, actor.username, actor.role, None, ("user_regions",)):
        if q.get_user(cur, username) is not None:
            raise AuthError("auth.err_exists", username=username)
        q.insert_user(
            cur,
            username,
            display_name or username,
            role,
            hash_password(password),
            regions,
            utcnow(),
        )
    return User(username, display_name or username, role, frozenset(regions))


def change_password(
    cur: duckdb.DuckDBPyConnection, actor: User, username: str, password: str
) -> int:
    """Set a new password (admin only) and end every session of that person; sessions ended."""
    access.require(actor, "user.manage")
    if len(password or "") < 8:
        raise AuthError("auth.err_password_short")
    with transaction(cur):
        if q.get_user(cur, username) is None:
            raise AuthError("auth.err_no_user", username=username)
        q.update_password_hash(cur, username, hash_password(password))
        # A stolen session must not outlive the password that made it.
        ended = session_q.revoke_user(cur, username, utcnow(), "password_changed", actor.username)
    log.info("password changed for %s; %d sessions ended", username_tag(username), ended)
    return ended


def username_tag(username: str) -> str:
    """A short hash standing for a typed username in logs (a password typed there stays secret)."""
    return "user#" + hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()[:12]


@dataclass
class _Delay:
    """Failures counted against one key and when the next attempt is allowed."""

    failures: int = 0
    last_failure: float = 0.0
    until: float = 0.0


class Throttle:
    """Growing sign-in delays per account and per client address, kept in memory.

    Every attempt is counted *before* its password is checked, under one lock, so
    simultaneous guesses cannot all pass the check. The first `free` failures cost
    nothing; from then on each failure sets a delay that doubles from `base` up to `cap`
    seconds. Attempts made during a delay are refused and not counted, so a delay always
    ends on its own; failures are forgotten `forget` seconds after the last one.
    """

    def __init__(
        self,
        free: int | None = None,
        base: float = 30.0,
        cap: float | None = None,
        forget: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free = free if free is not None else settings.login_max_failures()
        window = settings.login_window_minutes() * 60.0
        self.base = base
        self.cap = cap if cap is not None else window
        self.forget = forget if forget is not None else window
        self.clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, _Delay] = {}

    def _state(self, key: str, now: float) -> _Delay:
        state = self._keys.setdefault(key, _Delay())
        if now >= state.until and now - state.last_failure > self.forget:
            state.failures = 0  # quiet long enough: start afresh
        return state

    def begin(self, keys: list[str]) -> None:
        """Count one attempt against every key, or raise AuthError with the wait if any is delayed."""
        with self._lock:
            now = self.clock()
            states = [self._state(key, now) for key in keys]
            wait = max((s.until - now for s in states), default=0.0)
            if wait > 0:
                # Refused without a check and without counting: the delay cannot be extended.
                raise AuthError("auth.err_locked", seconds=max(1, math.ceil(wait)))
            for state in states:
                state.failures += 1
                state.last_failure = now
                if state.failures >= self.free:
                    step = state.failures - self.free
                    state.until = now + min(self.cap, self.base * 2 ** min(step, 30))

    def succeeded(self, account_key: str, other_keys: list[str]) -> None:
        """A right password: clear the account, take back this attempt from the other keys."""
        with self._lock:
            self._keys.pop(account_key, None)
            for key in other_keys:
                state = self._keys.get(key)
                if state is None:
                    continue
                # Only this attempt is taken back, so signing in to one's own account
                # does not wipe the failures a client made against others.
                state.failures = max(0, state.failures - 1)
                if state.failures < self.free:
                    state.until = 0.0

    def reset(self) -> None:
        """Forget every delay (tests, and an administrator's restart)."""
        with self._lock:
            self._keys.clear()


_throttles: dict[str, Throttle] = {}
_throttles_lock = threading.Lock()
_dummy_hash: str | None = None


def throttle_for(cur: duckdb.DuckDBPyConnection) -> Throttle:
    """The process-wide throttle of the database cur is connected to."""
    key = q.database_file(cur)
    with _throttles_lock:
        if key not in _throttles:
            _throttles[key] = Throttle()
        return _throttles[key]


def _dummy() -> str:
    """A hash of a random secret, checked for unknown names so they cost the same as known ones."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password(secrets.token_hex(16))
    return _dummy_hash


def _verify(password_hash: str, password: str) -> bool:
    """Whether password matches the hash (False, never an exception, when it does not)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(
    cur: duckdb.DuckDBPyConnection,
    username: str,
    password: str,
    client: str | None = None,
    throttle: Throttle | None = None,
) -> User:
    """Check a password under the sign-in policy; the one entry point for every sign-in path.

    Raises AuthError("auth.err_locked", seconds=...) while the account or the client
    address is delayed, and AuthError("auth.err_invalid") for any wrong name or password
    (same message and same hashing work, so names cannot be probed). Attempts are logged
    with the account name, or a hash for names that are not accounts; in read-only mode
    they are not written to the database.
    """
    username = (username or "").strip()
    throttle = throttle or throttle_for(cur)
    row = q.get_user(cur, username) if username else None
    # Names that are not accounts are counted and logged under a hash, never verbatim.
    account_key = username if row is not None else username_tag(username)
    other_keys = [f"client:{client}"] if client else []
    try:
        throttle.begin([f"account:{account_key}", *other_keys])
    except AuthError:
        log.warning("sign-in refused while delayed for %s", username_tag(username))
        raise
    ok = _verify(row["password_hash"] if row is not None else _dummy(), password or "")
    ok = ok and row is not None
    if ok:
        throttle.succeeded(f"account:{account_key}", other_keys)
    else:
        log.warning("failed sign-in for %s", username_tag(username))
    if not settings.read_only():
        with transaction(cur):
            q.record_login(cur, account_key, utcnow(), ok)
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
