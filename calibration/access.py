"""The one access policy: can(user, action, scope) answers every read and write question.

Services ask before they read or write; pages and the CLI ask only to decide what to draw.
No other module compares roles (tests/test_architecture.py checks it).

Region data versus proposals: the HR partner reads the DATA of every region (history,
signals, tracking: `region.read`, `tracking.read`), but of a cycle's
PROPOSALS only those flagged for HR review, with their threads (`proposal.read`,
`comment.write` on a `Scope(region, flagged=True)`). Before this module, accounts let HR see
every region and negotiation only flagged ones; both were right about different things.
tests/test_access.py holds the full role x action x scope matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

ROLES = ("executive", "analyst", "lead", "hrbp", "admin")

# Page keys each role may open; app.py maps keys to page files.
ROLE_PAGES: dict[str, tuple[str, ...]] = {
    "executive": ("board", "letters", "tracking", "data", "inbox"),
    "analyst": ("model_lab", "board", "tracking", "data", "inbox"),
    "lead": ("my_region", "letters", "tracking", "data", "inbox"),
    "hrbp": ("review", "inbox"),
    "admin": ("board", "model_lab", "letters", "tracking", "data", "admin", "inbox"),
}

HQ = frozenset({"executive", "analyst", "admin"})
DECIDERS = frozenset({"executive", "admin"})

# An API token acts under this role (never a person's role: no account can have it); what
# it may do is its scopes, each one naming a family of actions below.
INTEGRATION = "integration"
TOKEN_SCOPES = ("import", "export", "backup", "audit")


class Person(Protocol):
    """What the policy needs to know of a person (accounts.auth.User has it)."""

    role: str
    regions: frozenset[str]


@dataclass(frozen=True)
class Scope:
    """What an action is about: a region, and whether its proposal is flagged for HR."""

    region: str | None = None
    flagged: bool = False


class AccessDenied(PermissionError):
    """The policy said no; the message is a translation key."""

    def __init__(self, action: str, key: str = "access.denied") -> None:
        super().__init__(key)
        self.action = action
        self.key = key
        self.values: dict[str, object] = {}


def _region(scope: Scope | str | None) -> str | None:
    return scope.region if isinstance(scope, Scope) else scope


def _leads(user: Person, scope: Scope | str | None) -> bool:
    region = _region(scope)
    return user.role == "lead" and region is not None and region in user.regions


def _sees_region(user: Person, scope: Scope | str | None) -> bool:
    # HQ and the HR partner see every region's data; a lead only their own.
    return user.role in HQ | {"hrbp"} or _leads(user, scope)


def _sees_proposal(user: Person, scope: Scope | str | None) -> bool:
    # The HR partner sees the proposals routed to them (flagged), nothing else of a cycle.
    if user.role == "hrbp":
        return isinstance(scope, Scope) and scope.flagged
    return user.role in HQ or _leads(user, scope)


def _comments(user: Person, scope: Scope | str | None) -> bool:
    if user.role == "hrbp":
        return isinstance(scope, Scope) and scope.flagged
    return user.role in DECIDERS or _leads(user, scope)


def _roles(*roles: str) -> Callable[[Person, Scope | str | None], bool]:
    allowed = frozenset(roles)
    return lambda user, scope: user.role in allowed


def _scoped(
    token_scope: str, people: Callable[[Person, Scope | str | None], bool]
) -> Callable[[Person, Scope | str | None], bool]:
    # An API token is allowed by its scope alone; a person by the rule for people.
    def rule(user: Person, scope: Scope | str | None) -> bool:
        if user.role == INTEGRATION:
            return token_scope in getattr(user, "scopes", frozenset())
        return people(user, scope)

    return rule


RULES: dict[str, Callable[[Person, Scope | str | None], bool]] = {
    # reading
    "page.open": lambda user, scope: scope in ROLE_PAGES.get(user.role, ()),
    "region.read": _sees_region,
    "proposal.read": _scoped("export", _sees_proposal),
    "board.read": _scoped("export", _roles(*HQ)),
    "review.read": _roles("hrbp", *DECIDERS),
    "letter.read": lambda user, scope: user.role in HQ or _leads(user, scope),
    "tracking.read": _sees_region,
    "tracking.company": _roles(*HQ),
    "log.read": _scoped("export", lambda user, scope: user.role in HQ or user.role == "lead"),
    "cycle.list": _scoped("export", _roles(*HQ, "lead", "hrbp")),
    "targets.export": _scoped("export", _roles(*HQ)),
    # who is who: every signed-in person sees the names of the people they work with
    "people.read": lambda user, scope: True,
    # negotiation
    "proposal.write": _leads,
    "comment.write": _comments,
    "review.resolve": _roles("hrbp"),
    "cycle.manage": _roles(*DECIDERS),
    "cycle.respond": _roles(*DECIDERS),
    "cycle.lock": _roles(*DECIDERS),
    "join.create": _roles(*DECIDERS),
    # model and data
    "model.run": _roles("analyst", "admin"),
    "data.import": _scoped("import", _roles("analyst", "admin")),
    # letters
    "letter.issue": lambda user, scope: user.role in DECIDERS or _leads(user, scope),
    "letter.sign_lead": _leads,
    "letter.sign_executive": _roles("executive"),
    "letter.correct": _roles(*DECIDERS),
    # tracking
    "tracking.manage": _scoped("import", _roles(*HQ)),
    "tracking.decide": _roles(*DECIDERS),
    "tracking.root_cause": _leads,
    # accounts
    "user.manage": _roles("admin"),
    # the HTTP API and its tokens
    "token.manage": _roles("admin"),
    "database.backup": _scoped("backup", _roles("admin")),
    "audit.verify": _scoped("audit", _roles(*HQ)),
    # notifications: a person's own delivery settings (scope: the username), or any as admin
    "notify.prefs": lambda user, scope: (
        user.role == "admin" or (scope is not None and scope == getattr(user, "username", None))
    ),
    "notify.admin": _roles("admin"),
    # a person's own sign-in sessions and drafts (never anyone else's: keyed by username)
    "session.own": lambda user, scope: True,
    "draft.own": lambda user, scope: True,
}


def can(user: Person | None, action: str, scope: Scope | str | None = None) -> bool:
    """Whether user may do action on scope (a region id, a Scope, or a page key)."""
    if user is None:
        return False
    rule = RULES.get(action)
    if rule is None:
        raise KeyError(f"unknown action {action!r}")
    return bool(rule(user, scope))


def require(user: Person | None, action: str, scope: Scope | str | None = None) -> None:
    """Raise AccessDenied unless user may do action on scope."""
    if not can(user, action, scope):
        raise AccessDenied(action)


def visible_regions(user: Person, regions: list[str]) -> list[str]:
    """The regions (in the given order) whose data user may read."""
    return [r for r in regions if can(user, "region.read", r)]


def is_role(role: str) -> bool:
    """Whether role names one of the roles the policy knows."""
    return role in ROLES


def needs_regions(role: str) -> bool:
    """Whether an account of this role works on named regions (a lead must have one)."""
    return role == "lead"


def pages_for(user: Person) -> tuple[str, ...]:
    """Page keys the person may open, in the navigation's order."""
    return ROLE_PAGES.get(user.role, ())
