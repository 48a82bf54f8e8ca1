"""API tokens: add (shown once, only its hash kept), list, revoke, and who a token acts as."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from calibration import access, events
from calibration.accounts.auth import TOKEN_ACTOR_PREFIX, User
from calibration.store import api as q
from calibration.store.core import utcnow

PREFIX = "cal_"
# Who an API call acts as in sources.loaded_by and the decision record: "api:NAME".
ACTOR_PREFIX = TOKEN_ACTOR_PREFIX
SEALED = ("api_tokens", "api_token_revocations")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class TokenError(ValueError):
    """A token request that cannot be done; the message is a translation key."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class TokenUser(User):
    """The caller behind a valid token: role `integration`, allowed by its scopes."""

    scopes: frozenset[str] = field(default_factory=frozenset)
    token_name: str = ""


def token_hash(token: str) -> str:
    """SHA-256 of a token (tokens are long and random, so no slow hash is needed)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def clean_scopes(scopes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The requested scopes, known ones only, in the policy's order (TokenError otherwise)."""
    wanted = {s.strip().lower() for s in scopes if s and s.strip()}
    unknown = wanted - set(access.TOKEN_SCOPES)
    if unknown or not wanted:
        raise TokenError("api.err_scope", scopes=", ".join(access.TOKEN_SCOPES))
    return tuple(s for s in access.TOKEN_SCOPES if s in wanted)


def add_token(
    cur: duckdb.DuckDBPyConnection, actor: User, name: str, scopes: list[str] | tuple[str, ...]
) -> str:
    """Create a token called name with scopes; returns the token (the only time it is seen)."""
    access.require(actor, "token.manage")
    name = (name or "").strip()
    if not _NAME.match(name):
        raise TokenError("api.err_name")
    chosen = clean_scopes(scopes)
    token = PREFIX + secrets.token_urlsafe(32)
    # Token grants are access decisions: sealed in the decision record like region roles.
    with events.sealed(cur, actor.username, actor.role, None, SEALED):
        if q.active_token_id(cur, name) is not None:
            raise TokenError("api.err_exists", name=name)
        q.insert_token(cur, name, token_hash(token), ",".join(chosen), utcnow(), actor.username)
    return token


def revoke_token(cur: duckdb.DuckDBPyConnection, actor: User, name: str) -> None:
    """Revoke the active token called name (TokenError when there is none)."""
    access.require(actor, "token.manage")
    with events.sealed(cur, actor.username, actor.role, None, SEALED):
        token_id = q.active_token_id(cur, (name or "").strip())
        if token_id is None:
            raise TokenError("api.err_unknown", name=name)
        q.insert_revocation(cur, token_id, utcnow(), actor.username)


def list_tokens(cur: duckdb.DuckDBPyConnection, actor: User) -> pd.DataFrame:
    """Every token (never a hash): name, scopes, created, revoked, last used."""
    access.require(actor, "token.manage")
    return q.list_tokens(cur)


def authenticate(cur: duckdb.DuckDBPyConnection, token: str | None) -> TokenUser | None:
    """Who a bearer token acts as, or None for a missing, unknown or revoked token."""
    if not token or not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = q.active_token(cur, token_hash(token))
    if row is None:
        return None
    scopes = frozenset(s for s in row["scopes"].split(",") if s)
    return TokenUser(
        ACTOR_PREFIX + row["name"],
        row["name"],
        access.INTEGRATION,
        scopes=scopes,
        token_name=row["name"],
    )
