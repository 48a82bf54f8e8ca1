"""Small tracking scenario: two regions, a past quarter of actuals, 5 weeks of the current one."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from calibration.accounts.auth import SYSTEM, User
from calibration.data import importer
from calibration.store import transaction
from calibration.store import users as uq
from calibration.store.core import utcnow
from calibration.tracking.service import TrackedCycle, cycle_from_targets

METRIC = "new_customers"
EXEC = User("exec", "Chen Wei", "executive")
ANALYST = User("analyst", "Li Na", "analyst")
LEAD_EAST = User("lead_east", "Wang Lei", "lead", frozenset({"east"}))
LEAD_SOUTH = User("lead_south", "Liu Yang", "lead", frozenset({"south"}))
TARGETS = {"east": 900.0, "south": 450.0}


def add_users(cur) -> None:
    """The accounts of the scenario (no password hashing: tests never sign in here)."""
    with transaction(cur):
        for u in (EXEC, ANALYST, LEAD_EAST, LEAD_SOUTH):
            uq.insert_user(
                cur, u.username, u.display_name, u.role, "x", sorted(u.regions), utcnow()
            )


def actuals_csv(start: date, days: int, per_day: dict[str, float]) -> str:
    """Daily actuals of METRIC from start, a constant amount per region and day."""
    lines = ["region,date,metric,value"]
    for i in range(days):
        d = start + timedelta(days=i)
        for region, value in per_day.items():
            lines.append(f"{region},{d.isoformat()},{METRIC},{value:g}")
    return "\n".join(lines) + "\n"


def load_scenario(cur, weeks: int = 5) -> TrackedCycle:
    """Users, 2025Q4 and the first weeks of 2026Q1 actuals; east far behind, south on track."""
    add_users(cur)
    past = actuals_csv(date(2025, 10, 1), 92, {"east": 10, "south": 5})
    importer.import_bytes(cur, SYSTEM, "actuals", "q4.csv", past.encode())
    # 2026Q1 has 90 days: east's path is 10/day, south's 5/day.
    if weeks:
        now = actuals_csv(date(2026, 1, 1), 7 * weeks, {"east": 6, "south": 5})
        importer.import_bytes(cur, SYSTEM, "actuals", "q1.csv", now.encode())
    return scenario_cycle()


def scenario_cycle(status: str = "tracking") -> TrackedCycle:
    """The stand-in for a locked negotiation cycle."""
    targets = pd.DataFrame(
        {
            "region": list(TARGETS),
            "target": list(TARGETS.values()),
            "suggestion": [950.0, 440.0],
            "proposal": [800.0, 450.0],
            "commitments": [["One more account executive"], []],
        }
    )
    return cycle_from_targets(1, METRIC, "2026Q1", targets, name="2026Q1 test", status=status)


def negotiated_cycle(
    cur, targets: dict[str, float], period: str = "2026Q1", lock: bool = True
) -> int:
    """A real negotiation cycle: suggestions published, each lead proposes, all accepted, locked.

    Leads are the accounts `lead_<region>` (the demo's); east's lead asks for one more AE.
    """
    from calibration.accounts import auth
    from calibration.board import lock as board_lock
    from calibration.negotiation import service as neg

    run = pd.DataFrame(
        {
            "region": list(targets),
            "suggestion": [v * 1.05 for v in targets.values()],
            "lower80": [v * 0.9 for v in targets.values()],
            "upper80": [v * 1.2 for v in targets.values()],
        }
    )
    cid = neg.create_cycle(cur, SYSTEM, f"{period} test", METRIC, period, sum(targets.values()))
    neg.publish_run(
        cur, SYSTEM, cid, {"run_id": 1, "metric": METRIC, "period": period, "regions": run}
    )
    neg.open_cycle(cur, SYSTEM, cid)
    executive = auth.load_user(cur, "exec")
    for region, value in targets.items():
        lead = auth.load_user(cur, f"lead_{region}")
        items = (
            [{"kind": "headcount", "amount": 1, "description": "Account executive"}]
            if region == "east"
            else None
        )
        event = neg.propose(
            cur,
            lead,
            cid,
            region,
            value,
            "Our own pipeline count for the quarter, deal by deal.",
            "One more AE." if items else "None beyond the current plan.",
            "Budget freezes.",
            "medium",
            expected_last_event=None,
            support_items=items,
        )
        neg.respond(cur, executive, cid, region, "accept", expected_last_event=event)
    if lock:
        board_lock.lock_cycle(cur, executive, cid)
    return cid
