"""Single sign-on through OpenID Connect: settings, and who a signed-in identity is here.

Streamlit's `st.login` (Authlib) runs the provider's flow and keeps the identity's claims in
its own cookie; this module decides what those claims mean for Calibrate, without Streamlit:

- a person is matched by subject (issuer + sub, stored on the first match) or else by a
  verified email an administrator set on an account beforehand;
- when their groups claim names a mapped group, that group gives the role and regions:
  the account is created or updated to match, as a recorded event;
- anyone else is refused ("ask your administrator"), never given a default role.

An identity signs in once (its hash is recorded), and only shortly after the provider
issued it: Calibrate's own session carries the person from there, so signing out or an
idle timeout is not undone by the provider's cookie.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode, urlsplit

import duckdb

from calibration import access, settings
from calibration import events as chain
from calibration.accounts import auth
from calibration.store import sso as q
from calibration.store import users as uq
from calibration.store.core import utcnow

log = logging.getLogger("calibrate")

ENV_PREFIX = "CALIBRATE_OIDC_"
# Secrets sections: Streamlit reads [auth]; Calibrate's own settings sit beside it.
AUTH_SECTION = "auth"
OWN_SECTION = "calibrate_sso"
METADATA_PATH = "/.well-known/openid-configuration"
DEFAULT_GROUPS_CLAIM = "groups"
DEFAULT_MAX_AGE_MINUTES = 10
# An identity issued a little "in the future" is a clock difference, not an attack.
CLOCK_SKEW_SECONDS = 300
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_CHARS = 254
_REQUIRED_AUTH = ("server_metadata_url", "client_id", "client_secret", "redirect_uri")

# Event kinds this module appends (cycle 0: they belong to no cycle).
KIND_CREATED = "sso_account_created"
KIND_UPDATED = "sso_account_updated"
KIND_LINKED = "sso_account_linked"
KIND_EMAIL = "account_email_set"


class SSOConfigError(ValueError):
    """The single sign-on settings are incomplete or malformed (the message says which)."""


class SSORefused(auth.AuthError):
    """A signed-in identity that Calibrate does not let in; key is a translation key."""


@dataclass(frozen=True)
class GroupRole:
    """The role and regions a provider group gives."""

    role: str
    regions: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class SSOConfig:
    """Single sign-on settings (from .streamlit/secrets.toml or CALIBRATE_OIDC_* variables)."""

    server_metadata_url: str
    client_id: str
    name: str
    # Where the provider sends people back (…/oauth2callback): its origin is the app's.
    redirect_uri: str = ""
    groups_claim: str = DEFAULT_GROUPS_CLAIM
    group_roles: Mapping[str, GroupRole] = field(default_factory=dict)
    max_age_minutes: int = DEFAULT_MAX_AGE_MINUTES

    def role_for(self, groups: tuple[str, ...]) -> GroupRole | None:
        """The role and regions the mapped groups give; None when no group is mapped.

        Several groups of one role add up their regions; groups of different roles are
        refused (SSORefused), since picking one would be a guess.
        """
        mapped = [self.group_roles[g] for g in groups if g in self.group_roles]
        if not mapped:
            return None
        if len({m.role for m in mapped}) > 1:
            raise SSORefused("sso.err_groups_conflict")
        regions = frozenset().union(*(m.regions for m in mapped))
        return GroupRole(mapped[0].role, regions)


@dataclass(frozen=True)
class Identity:
    """What Calibrate uses of an identity's claims."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    preferred_username: str | None
    groups: tuple[str, ...]
    issued_at: float | None
    key: str  # hash that makes the identity single-use

    @property
    def tag(self) -> str:
        """A short hash standing for the person in logs (never the raw claims)."""
        text = f"{self.issuer}\n{self.subject}"
        return "sso#" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


@dataclass(frozen=True)
class Decision:
    """What a sign-in does: the account, whether to link, create or update it, or refuse."""

    outcome: str  # signed_in, linked, created, updated, or the refusal's translation key
    username: str | None = None
    link: bool = False
    create: bool = False
    target: GroupRole | None = None
    previous: GroupRole | None = None
    groups: tuple[str, ...] = ()  # the person's groups that the mapping names

    @property
    def refused(self) -> bool:
        """Whether the person is turned away."""
        return self.outcome.startswith("sso.err_")


# ----------------------------------------------------------------------------- settings


def parse_group_role(group: str, text: str) -> GroupRole:
    """`role` or `role:region,region` for one group; SSOConfigError when it makes no sense."""
    role, _, regions_text = str(text).strip().partition(":")
    role = role.strip()
    regions = frozenset(r.strip() for r in regions_text.split(",") if r.strip())
    if not access.is_role(role):
        raise SSOConfigError(
            f"group {group!r}: unknown role {role!r} (one of {', '.join(access.ROLES)})"
        )
    if access.needs_regions(role) and not regions:
        raise SSOConfigError(f"group {group!r}: a {role} needs regions, e.g. {role}:east")
    return GroupRole(role, regions)


def parse_group_roles(value: str | Mapping[str, str] | None) -> dict[str, GroupRole]:
    """Group mapping from `group=role[:regions]; ...` text or a {group: "role[:regions]"} table."""
    if not value:
        return {}
    if isinstance(value, Mapping):
        pairs = [(str(k), str(v)) for k, v in value.items()]
    else:
        pairs = []
        for item in re.split(r"[;\n]", str(value)):
            if not item.strip():
                continue
            group, sep, role = item.partition("=")
            if not sep or not group.strip():
                raise SSOConfigError(f"group mapping {item.strip()!r}: write group=role[:regions]")
            pairs.append((group.strip(), role))
    return {group: parse_group_role(group, role) for group, role in pairs}


def metadata_url(issuer: str) -> str:
    """The discovery document of an issuer (an URL already ending in it is kept)."""
    issuer = issuer.strip().rstrip("/")
    return issuer if issuer.endswith(METADATA_PATH) else issuer + METADATA_PATH


def secrets_from_env(env: Mapping[str, str]) -> dict | None:
    """The [auth] and [calibrate_sso] secrets that CALIBRATE_OIDC_* variables describe.

    None when CALIBRATE_OIDC_ISSUER is unset (single sign-on off, or configured in
    secrets.toml); SSOConfigError naming what is missing or malformed otherwise.
    """
    get = lambda name: (env.get(ENV_PREFIX + name) or "").strip()  # noqa: E731
    issuer = get("ISSUER")
    if not issuer:
        return None
    missing = [
        ENV_PREFIX + n
        for n in ("CLIENT_ID", "CLIENT_SECRET", "REDIRECT_URI", "COOKIE_SECRET")
        if not get(n)
    ]
    if missing:
        raise SSOConfigError(f"single sign-on: {ENV_PREFIX}ISSUER is set but not {missing}")
    auth_section: dict = {
        "server_metadata_url": metadata_url(issuer),
        "client_id": get("CLIENT_ID"),
        "client_secret": get("CLIENT_SECRET"),
        "redirect_uri": get("REDIRECT_URI"),
        "cookie_secret": get("COOKIE_SECRET"),
    }
    if get("SCOPE"):
        auth_section["client_kwargs"] = {"scope": get("SCOPE")}
    own: dict = {
        "group_roles": {g: _role_text(r) for g, r in parse_group_roles(get("GROUP_ROLES")).items()}
    }
    for key, name in (("name", "NAME"), ("groups_claim", "GROUPS_CLAIM")):
        if get(name):
            own[key] = get(name)
    if get("MAX_AGE_MINUTES"):
        own["max_age_minutes"] = _minutes(get("MAX_AGE_MINUTES"))
    return {AUTH_SECTION: auth_section, OWN_SECTION: own}


def _role_text(group_role: GroupRole) -> str:
    regions = ",".join(sorted(group_role.regions))
    return f"{group_role.role}:{regions}" if regions else group_role.role


def _minutes(value: object) -> int:
    try:
        minutes = int(str(value))
    except ValueError:
        raise SSOConfigError(f"max_age_minutes: {value!r} is not a number of minutes") from None
    if minutes < 1:
        raise SSOConfigError("max_age_minutes: at least 1")
    return minutes


def config_from_secrets(secrets_: Mapping) -> SSOConfig | None:
    """The settings from the [auth] and [calibrate_sso] secrets; None without [auth]."""
    auth_section = secrets_.get(AUTH_SECTION)
    if not auth_section:
        return None
    missing = [k for k in (*_REQUIRED_AUTH, "cookie_secret") if not auth_section.get(k)]
    if missing:
        raise SSOConfigError(f"single sign-on: [auth] lacks {missing}")
    own = secrets_.get(OWN_SECTION) or {}
    return SSOConfig(
        server_metadata_url=str(auth_section["server_metadata_url"]),
        client_id=str(auth_section["client_id"]),
        name=str(own.get("name") or settings.company_name()),
        redirect_uri=str(auth_section["redirect_uri"]),
        groups_claim=str(own.get("groups_claim") or DEFAULT_GROUPS_CLAIM),
        group_roles=parse_group_roles(own.get("group_roles")),
        max_age_minutes=_minutes(own.get("max_age_minutes", DEFAULT_MAX_AGE_MINUTES)),
    )


# ----------------------------------------------------------------------------- sign-out

# The provider's discovery documents by URL, with when they were read: a sign-out needs only
# its end_session_endpoint, which changes rarely (read again after an hour).
_DISCOVERY: dict[str, tuple[float, dict]] = {}
_DISCOVERY_LOCK = threading.Lock()
DISCOVERY_SECONDS = 3600
DISCOVERY_TIMEOUT = 5.0
MAX_DISCOVERY_BYTES = 1_000_000


def _discovery(url: str) -> dict:
    """The provider's discovery document (cached; {} when it cannot be read)."""
    now = time.monotonic()
    with _DISCOVERY_LOCK:
        kept = _DISCOVERY.get(url)
        if kept is not None and now - kept[0] < DISCOVERY_SECONDS:
            return kept[1]
    try:
        with urllib.request.urlopen(url, timeout=DISCOVERY_TIMEOUT) as response:  # noqa: S310
            document = json.loads(response.read(MAX_DISCOVERY_BYTES))
    except (OSError, ValueError) as exc:
        # Sign-out still ends Calibrate's session; only the provider's stays (logged).
        log.warning("single sign-on: discovery document unreadable at sign-out: %s", exc)
        return {}
    document = document if isinstance(document, dict) else {}
    with _DISCOVERY_LOCK:
        _DISCOVERY[url] = (now, document)
    return document


def end_session_url(cfg: SSOConfig, lang: str) -> str | None:
    """Where a signing-out browser goes to end its session at the provider as well
    (OpenID Connect RP-initiated logout), coming back to the sign-in page; None when the
    provider offers no end_session_endpoint or the app's address is unknown."""
    endpoint = _discovery(cfg.server_metadata_url).get("end_session_endpoint")
    parts = urlsplit(cfg.redirect_uri)
    if not isinstance(endpoint, str) or urlsplit(endpoint).scheme not in ("http", "https"):
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    back = f"{parts.scheme}://{parts.netloc}/?{urlencode({'lang': lang})}"
    query = urlencode({"client_id": cfg.client_id, "post_logout_redirect_uri": back})
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


# ----------------------------------------------------------------------------- claims


def _verified(value: object) -> bool:
    # Some providers send the flag as the string "true".
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _groups(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if isinstance(v, str | int))
    return ()


def identity_from_claims(claims: Mapping[str, object], groups_claim: str) -> Identity | None:
    """The identity in an ID token's claims; None without an issuer and a subject."""
    issuer, subject = _text(claims.get("iss")), _text(claims.get("sub"))
    if issuer is None or subject is None:
        return None
    iat = claims.get("iat")
    issued_at = float(iat) if isinstance(iat, int | float) and not isinstance(iat, bool) else None
    # iss, sub, iat and the nonce of this sign-in single out one ID token.
    key_text = json.dumps(
        [issuer, subject, iat, claims.get("nonce"), claims.get("aud")], default=str
    )
    return Identity(
        issuer=issuer,
        subject=subject,
        email=_text(claims.get("email")),
        email_verified=_verified(claims.get("email_verified")),
        name=_text(claims.get("name")),
        preferred_username=_text(claims.get("preferred_username")),
        groups=_groups(claims.get(groups_claim)),
        issued_at=issued_at,
        key=hashlib.sha256(key_text.encode("utf-8", "surrogatepass")).hexdigest(),
    )


def is_fresh(identity: Identity, config: SSOConfig, now: float | None = None) -> bool:
    """Whether the provider issued the identity within the last max_age_minutes."""
    if identity.issued_at is None:
        return False
    age = (time.time() if now is None else now) - identity.issued_at
    return -CLOCK_SKEW_SECONDS <= age <= config.max_age_minutes * 60


# ----------------------------------------------------------------------------- decision


def decide(
    identity: Identity,
    config: SSOConfig,
    by_subject: Mapping | None,
    by_email: list[Mapping],
) -> Decision:
    """Who the identity is here (pure: the caller looked the accounts up)."""
    try:
        target = config.role_for(identity.groups)
    except SSORefused as exc:
        return Decision(exc.key)
    mapped = tuple(sorted({g for g in identity.groups if g in config.group_roles}))
    account, link = by_subject, False
    if account is None and identity.email_verified and identity.email:
        if len(by_email) > 1:
            return Decision("sso.err_ambiguous")
        if by_email:
            account, link = by_email[0], True
            if account.get("oidc_subject"):
                # The email now belongs to someone the account was not linked to.
                return Decision("sso.err_other_person")
    if account is None:
        if target is None:
            return Decision("sso.err_unknown")
        return Decision("created", create=True, target=target, groups=mapped)
    current = GroupRole(str(account["role"]), frozenset(account.get("regions") or ()))
    if target is None:
        # An account whose role came from groups needs a mapped group at every sign-in.
        if account.get("sso_groups"):
            return Decision("sso.err_unknown", username=str(account["username"]))
        return Decision(
            "linked" if link else "signed_in", str(account["username"]), link, previous=current
        )
    if target == current and account.get("sso_groups"):
        return Decision(
            "linked" if link else "signed_in", str(account["username"]), link, previous=current
        )
    username = str(account["username"])
    return Decision("updated", username, link, target=target, previous=current, groups=mapped)


# ----------------------------------------------------------------------------- service


def _username_base(identity: Identity) -> str:
    raw = identity.preferred_username or (identity.email or "").split("@")[0] or "sso"
    base = re.sub(r"[^a-z0-9._-]+", "-", raw.lower()).strip("-._")[:40]
    return base or "sso"


def _free_username(cur: duckdb.DuckDBPyConnection, identity: Identity) -> str:
    base = _username_base(identity)
    name, n = base, 1
    while q.username_taken(cur, name):
        n += 1
        name = f"{base}-{n}"
    return name


def _event(kind: str, actor: str, role: str, payload: dict) -> dict:
    return {
        "cycle_id": chain.SYSTEM_CYCLE,
        "actor": actor,
        "role": role,
        "kind": kind,
        "payload": payload,
    }


def _apply(
    cur: duckdb.DuckDBPyConnection, decision: Decision, identity: Identity, now: datetime
) -> tuple[str, list[dict]]:
    """Write what the decision says (inside the caller's transaction); the events to append."""
    source = {"identity": identity.tag, "groups": list(decision.groups)}
    if decision.create:
        assert decision.target is not None
        username = _free_username(cur, identity)
        display = (identity.name or identity.preferred_username or username)[
            : settings.max_display_name_chars()
        ]
        email = identity.email if identity.email_verified else None
        # No password signs in to this account: a hash of a secret nobody knows, so a
        # password attempt on it costs the same as on any other account.
        unusable = auth.hash_password(secrets.token_urlsafe(32))
        q.insert_account(
            cur,
            username,
            display,
            decision.target.role,
            unusable,
            now,
            email,
            identity.issuer,
            identity.subject,
        )
        q.set_regions(cur, username, sorted(decision.target.regions))
        payload = {
            "username": username,
            "role": decision.target.role,
            "regions": sorted(decision.target.regions),
            **source,
        }
        return username, [_event(KIND_CREATED, username, decision.target.role, payload)]
    username = str(decision.username)
    events = []
    if decision.link:
        q.link_subject(cur, username, identity.issuer, identity.subject)
        role = decision.previous.role if decision.previous else ""
        events.append(_event(KIND_LINKED, username, role, {"username": username, **source}))
    if decision.target is not None:
        q.set_role(cur, username, decision.target.role)
        q.set_regions(cur, username, sorted(decision.target.regions))
        previous = decision.previous or GroupRole("")
        payload = {
            "username": username,
            "role": decision.target.role,
            "regions": sorted(decision.target.regions),
            "previous": {"role": previous.role, "regions": sorted(previous.regions)},
            **source,
        }
        events.append(_event(KIND_UPDATED, username, decision.target.role, payload))
    return username, events


def sign_in(
    cur: duckdb.DuckDBPyConnection,
    config: SSOConfig,
    claims: Mapping[str, object],
    client: str | None = None,
    throttle: auth.Throttle | None = None,
    now: float | None = None,
) -> auth.User | None:
    """The account a provider's identity signs in to, under the sign-in rules.

    None when there is nothing to sign in with: no identity, one issued too long ago, or
    one used before (the sign-in page shows). SSORefused for a person who may not come in
    (unknown, ambiguous, conflicting groups), AuthError("auth.err_locked") while delayed.
    Every attempt is logged under the identity's hash and recorded in login_attempts.
    """
    identity = identity_from_claims(claims, config.groups_claim)
    if identity is None or not is_fresh(identity, config, now):
        return None
    if settings.read_only():
        raise SSORefused("sso.err_read_only")
    throttle = throttle or auth.throttle_for(cur)
    account_key = f"account:{identity.tag}"
    other_keys = [f"client:{client}"] if client else []
    if q.identity_used(cur, identity.key):
        return None
    try:
        throttle.begin([account_key, *other_keys])
    except auth.AuthError:
        log.warning("single sign-on refused while delayed for %s", identity.tag)
        raise
    stamp = utcnow()
    done: dict[str, object] = {}

    def build() -> list[dict]:
        done.clear()
        if q.identity_used(cur, identity.key):
            done["used"] = True
            return []
        by_subject = q.account_by_subject(cur, identity.issuer, identity.subject)
        by_email = (
            q.accounts_by_email(cur, identity.email)
            if by_subject is None and identity.email_verified and identity.email
            else []
        )
        decision = decide(identity, config, by_subject, by_email)
        username, events = (
            (decision.username, []) if decision.refused else _apply(cur, decision, identity, stamp)
        )
        q.record_sign_in(cur, identity.key, identity.tag, username, decision.outcome, stamp)
        uq.record_login(cur, username or identity.tag, stamp, not decision.refused)
        done["decision"], done["username"] = decision, username
        return events

    try:
        chain.append(cur, build, seal=("user_regions",))
    except duckdb.ConstraintException:
        return None  # another tab presented the same identity at the same moment
    if done.get("used"):
        return None
    decision = done["decision"]
    assert isinstance(decision, Decision)
    if decision.refused:
        log.warning("single sign-on refused for %s: %s", identity.tag, decision.outcome)
        raise SSORefused(decision.outcome)
    throttle.succeeded(account_key, other_keys)
    user = auth.load_user(cur, str(done["username"]))
    assert user is not None
    log.info("single sign-on for %s as %s (%s)", identity.tag, user.username, decision.outcome)
    return user


# ----------------------------------------------------------------------------- admin


def normalize_email(text: str | None) -> str | None:
    """A typed email, trimmed; None for empty; AuthError when it is not an email address."""
    email = (text or "").strip()
    if not email:
        return None
    if len(email) > MAX_EMAIL_CHARS or not EMAIL.match(email):
        raise auth.AuthError("sso.err_email")
    return email


def set_email(
    cur: duckdb.DuckDBPyConnection, actor: auth.User, username: str, email: str | None
) -> str | None:
    """Set (or clear) the email an account is matched by at its first single sign-on.

    Setting an email (even the same one again) also drops the account's link to a provider
    subject, so the account goes to whoever next signs in with that verified email, not to
    the person it was linked to (e.g. after the company moved to another provider).
    """
    access.require(actor, "user.manage")
    email = normalize_email(email)

    def build() -> list[dict]:
        row = q.account(cur, username)
        if row is None:
            raise auth.AuthError("sso.err_no_account", username=username)
        if email and any(a["username"] != username for a in q.accounts_by_email(cur, email)):
            raise auth.AuthError("sso.err_email_taken", email=email)
        if (row["email"] or None) == email and not row["oidc_subject"]:
            return []  # nothing changes (saving the same email again re-opens a linked account)
        q.set_email(cur, username, email)
        q.link_subject(cur, username, None, None)
        payload = {"username": username, "email": email, "unlinked": bool(row["oidc_subject"])}
        return [_event(KIND_EMAIL, actor.username, actor.role, payload)]

    chain.append(cur, build)
    return email
