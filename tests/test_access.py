"""The one access policy: a role × action × scope matrix, and services that ask it."""

from __future__ import annotations

import pandas as pd
import pytest

from calibration import access
from calibration.access import AccessDenied, Scope
from calibration.accounts import auth
from calibration.accounts.auth import User
from calibration.board import service as board_service
from calibration.data import importer
from calibration.data import service as data_service
from calibration.letters import service as letters
from calibration.modeling import service as modeling
from calibration.negotiation import service as neg
from calibration.tracking import service as tracking
from tests.nego_fixtures import GOOD, open_cycle

PEOPLE = {
    "executive": User("exec", "Exec", "executive"),
    "analyst": User("analyst", "Analyst", "analyst"),
    "lead": User("lead_east", "Lead East", "lead", frozenset({"east"})),
    "hrbp": User("hrbp", "HRBP", "hrbp"),
    "admin": User("admin", "Admin", "admin"),
}

# The scope cases every action is asked with; the lead leads "east", not "south".
CASES: dict[str, Scope | str | None] = {
    "none": None,
    "own": "east",
    "other": "south",
    "own_flagged": Scope("east", flagged=True),
    "other_flagged": Scope("south", flagged=True),
    "own_unflagged": Scope("east", flagged=False),
    "other_unflagged": Scope("south", flagged=False),
}
ALL = frozenset(CASES)
OWN = frozenset({"own", "own_flagged", "own_unflagged"})
FLAGGED = frozenset({"own_flagged", "other_flagged"})
NO = frozenset()


def _only(*roles: str) -> dict[str, frozenset[str]]:
    return {role: ALL if role in roles else NO for role in PEOPLE}


HQ = ("executive", "analyst", "admin")
DECIDERS = ("executive", "admin")

# Written out by hand from the policy, not derived from access.py: the test is the spec.
# HR reads every region's DATA (region.read, tracking.read) but only flagged PROPOSALS.
EXPECTED: dict[str, dict[str, frozenset[str]]] = {
    "region.read": {**_only(*HQ, "hrbp"), "lead": OWN},
    "proposal.read": {**_only(*HQ), "lead": OWN, "hrbp": FLAGGED},
    "board.read": _only(*HQ),
    "review.read": _only("hrbp", *DECIDERS),
    "letter.read": {**_only(*HQ), "lead": OWN},
    "tracking.read": {**_only(*HQ, "hrbp"), "lead": OWN},
    "tracking.company": _only(*HQ),
    "log.read": _only(*HQ, "lead"),
    "proposal.write": {**_only(), "lead": OWN},
    "comment.write": {**_only(*DECIDERS), "lead": OWN, "hrbp": FLAGGED},
    "review.resolve": _only("hrbp"),
    "cycle.manage": _only(*DECIDERS),
    "cycle.respond": _only(*DECIDERS),
    "cycle.lock": _only(*DECIDERS),
    "join.create": _only(*DECIDERS),
    "model.run": _only("analyst", "admin"),
    "data.import": _only("analyst", "admin"),
    "letter.issue": {**_only(*DECIDERS), "lead": OWN},
    "letter.sign_lead": {**_only(), "lead": OWN},
    "letter.sign_executive": _only("executive"),
    "letter.correct": _only(*DECIDERS),
    "tracking.manage": _only(*HQ),
    "tracking.decide": _only(*DECIDERS),
    "tracking.root_cause": {**_only(), "lead": OWN},
    "user.manage": _only("admin"),
    # the HTTP API (an API token's own answers are in tests/test_api.py)
    "cycle.list": _only(*HQ, "lead", "hrbp"),
    "targets.export": _only(*HQ),
    "token.manage": _only("admin"),
    "database.backup": _only("admin"),
    "audit.verify": _only(*HQ),
    # Scoped by username: none of the region cases names a person, so only the admin.
    "notify.prefs": _only("admin"),
    "notify.admin": _only("admin"),
    # A person's own sessions and drafts (keyed by their username): everyone signed in.
    "session.own": _only(*PEOPLE),
    # Who is who: every signed-in person sees the names of the people they work with.
    "people.read": _only(*PEOPLE),
    "draft.own": _only(*PEOPLE),
}

PAGES = {
    "executive": {"board", "letters", "tracking", "data", "inbox"},
    "analyst": {"model_lab", "board", "tracking", "data", "inbox"},
    "lead": {"my_region", "letters", "tracking", "data", "inbox"},
    "hrbp": {"review", "inbox"},
    "admin": {"board", "model_lab", "letters", "tracking", "data", "admin", "inbox"},
}
PAGE_KEYS = sorted(set().union(*PAGES.values()))


def test_every_rule_has_a_row_in_the_matrix():
    # A new action must be added here too, with its answer for every role and scope.
    assert set(access.RULES) - {"page.open"} == set(EXPECTED)
    assert set(access.ROLES) == set(PEOPLE)


@pytest.mark.parametrize("action", sorted(EXPECTED))
@pytest.mark.parametrize("role", sorted(PEOPLE))
def test_matrix(role: str, action: str):
    user = PEOPLE[role]
    got = {case for case, scope in CASES.items() if access.can(user, action, scope)}
    assert got == set(EXPECTED[action][role]), (role, action)


@pytest.mark.parametrize("role", sorted(PEOPLE))
def test_pages(role: str):
    user = PEOPLE[role]
    assert {p for p in PAGE_KEYS if access.can(user, "page.open", p)} == PAGES[role]
    assert set(access.pages_for(user)) == PAGES[role]


def test_a_lead_with_two_regions_and_nobody():
    both = User("lead_two", "Two", "lead", frozenset({"east", "north"}))
    assert access.visible_regions(both, ["south", "north", "east"]) == ["north", "east"]
    assert access.visible_regions(PEOPLE["hrbp"], ["south", "east"]) == ["south", "east"]
    assert not access.can(both, "proposal.write", "south")
    assert not access.can(None, "region.read", "east")  # nobody signed in
    assert not access.can(User("x", "X", "intern"), "region.read", "east")  # unknown role
    with pytest.raises(KeyError):
        access.can(PEOPLE["admin"], "no.such.action")


def test_require_raises_access_denied_a_permission_error_with_a_key():
    access.require(PEOPLE["admin"], "user.manage")
    with pytest.raises(PermissionError) as info:
        access.require(PEOPLE["lead"], "user.manage")
    assert isinstance(info.value, AccessDenied)
    assert (info.value.action, info.value.key) == ("user.manage", "access.denied")


# ----------------------------------------------------------------------------- services


@pytest.mark.parametrize(
    ("who", "call"),
    [
        ("lead", lambda cur, u: neg.create_cycle(cur, u, "c", "new_customers", "2026Q1", 1)),
        ("analyst", lambda cur, u: neg.set_status(cur, u, 1, "open")),
        ("hrbp", lambda cur, u: neg.lock_cycle(cur, u, 1)),
        ("executive", lambda cur, u: neg.publish_run(cur, u, 1, {})),
        (
            "executive",
            lambda cur, u: neg.resolve_review(
                cur, u, 1, "east", "supported", "ok", expected_last_event=None
            ),
        ),
        ("analyst", lambda cur, u: neg.review_queue(cur, u, 1)),
        ("hrbp", lambda cur, u: neg.decision_log(cur, u, 1)),
        ("lead", lambda cur, u: board_service.snapshot(cur, u, 1)),
        ("lead", lambda cur, u: importer.import_bytes(cur, u, "history", "f.csv", b"x")),
        ("executive", lambda cur, u: modeling.save_run(cur, u, "new_customers", "2026Q1")),
        ("executive", lambda cur, u: auth.add_user(cur, u, "new", "analyst", "s3cret-pass")),
        ("lead", lambda cur, u: data_service.region_data(cur, u, "south")),
        ("lead", lambda cur, u: tracking.evaluate(cur, u, 1)),
        ("analyst", lambda cur, u: tracking.set_commitment_status(cur, u, 1, "east", "item", True)),
        ("lead", lambda cur, u: letters.correct_letter(cur, u, 1, "east", "risks", "x", "r")),
        ("analyst", lambda cur, u: letters.issue_letters(cur, u, 1)),
        ("hrbp", lambda cur, u: letters.letter_history(cur, u, 1, "east")),
        ("hrbp", lambda cur, u: letters.get_letter(cur, u, 1, "east")),
    ],
)
def test_services_refuse_with_access_denied_and_write_nothing(cur, who, call):
    before = len(neg.list_cycles(cur))
    with pytest.raises(AccessDenied):
        call(cur, PEOPLE[who])
    assert len(neg.list_cycles(cur)) == before


def test_hr_reads_every_regions_data_but_only_flagged_proposals(cur):
    hr, lead = PEOPLE["hrbp"], PEOPLE["lead"]
    # Region data (history, signals): every region.
    history, signals = data_service.region_data(cur, hr, "south")
    assert isinstance(history, pd.DataFrame) and isinstance(signals, pd.DataFrame)
    cid = open_cycle(cur)
    # Proposals and their threads: only a flagged one (150 is far below the suggestion 220).
    with pytest.raises(AccessDenied):
        neg.region_view(cur, hr, cid, "east")
    with pytest.raises(AccessDenied):
        neg.thread(cur, hr, cid, "east")
    assert neg.cycle_state(cur, cid, viewer=hr).empty
    neg.propose(cur, lead, cid, "east", 150, **GOOD, expected_last_event=None)
    assert neg.region_view(cur, hr, cid, "east")["flagged"]
    assert neg.cycle_state(cur, cid, viewer=hr)["region"].tolist() == ["east"]
    neg.add_comment(cur, hr, cid, "east", "Coaching first.")
    with pytest.raises(AccessDenied):
        neg.add_comment(cur, hr, cid, "south", "not flagged")


def test_a_lead_sees_and_writes_only_their_region(cur):
    lead = PEOPLE["lead"]
    cid = open_cycle(cur)
    assert neg.cycle_state(cur, cid, viewer=lead)["region"].tolist() == ["east"]
    with pytest.raises(AccessDenied):
        neg.propose(cur, lead, cid, "south", 200, **GOOD, expected_last_event=None)
    with pytest.raises(AccessDenied):
        neg.region_view(cur, lead, cid, "south")
    log = neg.decision_log(cur, lead, cid)
    assert set(log["region"].dropna()) <= {"east"}
