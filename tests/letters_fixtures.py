"""A locked two-region cycle with real accounts (passwords), for the letters tests."""

from __future__ import annotations

from calibration.accounts import auth
from calibration.accounts.auth import User
from calibration.board import lock as board_lock
from calibration.negotiation import service as neg
from tests.nego_fixtures import ANALYST, GOOD, last_id, make_run

PASSWORD = "correct-horse-1"
ACCOUNTS = (
    ("exec", "Chen Wei 陈伟", "executive", ()),
    ("lead_east", "Wang Lei 王磊", "lead", ("east",)),
    ("lead_south", "Liu Yang 刘洋", "lead", ("south",)),
    ("hrbp", "Zhao Min 赵敏", "hrbp", ()),
)


def make_accounts(cur) -> dict[str, User]:
    """The accounts above, all with PASSWORD."""
    return {
        name: auth.add_user(cur, auth.SYSTEM, name, role, PASSWORD, list(regions), display)
        for name, display, role, regions in ACCOUNTS
    }


def locked_cycle(cur, users: dict[str, User] | None = None) -> tuple[int, dict[str, User]]:
    """east agreed at 200 (accepted, with support items); south countered to 198 and accepted."""
    users = users or make_accounts(cur)
    ex, east, south = users["exec"], users["lead_east"], users["lead_south"]
    cid = neg.create_cycle(cur, ex, "2026Q1 new customers", "new_customers", "2026Q1", 420)
    neg.publish_run(cur, ANALYST, cid, make_run(1, {"east": 220.0, "south": 200.0}))
    neg.open_cycle(cur, ex, cid)
    neg.propose(
        cur,
        east,
        cid,
        "east",
        200,
        **GOOD,
        expected_last_event=None,
        support_items=[
            {"kind": "headcount", "amount": 1, "description": "One more AE"},
            {"kind": "budget", "amount": 50000, "description": "Two trade shows 两场展会"},
        ],
    )
    neg.propose(cur, south, cid, "south", 190, **GOOD, expected_last_event=None)
    neg.respond(cur, ex, cid, "east", "accept", expected_last_event=last_id(cur, cid, "east"))
    neg.respond(
        cur,
        ex,
        cid,
        "south",
        "counter",
        counter_value=198,
        reason="Pipeline supports 198.",
        expected_last_event=last_id(cur, cid, "south"),
    )
    neg.accept_counter(cur, south, cid, "south", expected_last_event=last_id(cur, cid, "south"))
    board_lock.lock_cycle(cur, ex, cid)
    return cid, users
