"""Shared builders for the negotiation tests (hand-made model runs, no model needed)."""

from __future__ import annotations

import pandas as pd

from calibration.accounts.auth import User
from calibration.negotiation import service as neg

EXEC = User("exec", "Exec", "executive")
ADMIN = User("admin", "Admin", "admin")
ANALYST = User("analyst", "Analyst", "analyst")
HRBP = User("hrbp", "HRBP", "hrbp")
LEAD_EAST = User("lead_east", "Lead East", "lead", frozenset({"east"}))
LEAD_SOUTH = User("lead_south", "Lead South", "lead", frozenset({"south"}))

GOOD = {
    "justification": "Search interest fell 12% and two key accounts churned.",
    "support": "One more account executive from March.",
    "risk": "A key renewal is in doubt.",
    "confidence": "medium",
}


def make_run(
    run_id: int = 1,
    suggestions: dict[str, float] | None = None,
    metric: str = "new_customers",
    period: str = "2026Q1",
) -> dict:
    """A model run dict as the baseline produces it."""
    suggestions = suggestions or {"east": 220.0, "south": 200.0, "north": 180.0}
    rows = []
    for region, s in suggestions.items():
        rows.append(
            {
                "region": region,
                "suggestion": s,
                "lower80": s * 0.9,
                "upper80": s * 1.1,
                "history": s * 0.7,
                "market": s * 0.1,
                "pipeline": s * 0.1,
                "capacity": s * 0.1,
                "reason_en": f"{region}: history and market",
                "reason_zh": f"{region}:历史与市场",
            }
        )
    return {"run_id": run_id, "metric": metric, "period": period, "regions": pd.DataFrame(rows)}


def open_cycle(cur, suggestions: dict[str, float] | None = None, run_id: int = 1) -> int:
    """An open 2026Q1 new_customers cycle with one published run."""
    cid = neg.create_cycle(cur, EXEC, "2026Q1 new customers", "new_customers", "2026Q1", 1200)
    neg.publish_run(cur, ANALYST, cid, make_run(run_id, suggestions))
    neg.open_cycle(cur, EXEC, cid)
    return cid


def last_id(cur, cid: int, region: str) -> int | None:
    """The last decision event id of a region, as a page would have it."""
    state = neg.cycle_state(cur, cid)
    v = state.loc[state["region"] == region, "last_event_id"].iloc[0]
    return None if pd.isna(v) else int(v)


def counter(cur, cid: int, region: str, value: float, reason: str) -> None:
    """The executive counters a region's proposal as of its last decision (as the board would)."""
    neg.respond(
        cur,
        EXEC,
        cid,
        region,
        "counter",
        counter_value=value,
        reason=reason,
        expected_last_event=last_id(cur, cid, region),
    )
