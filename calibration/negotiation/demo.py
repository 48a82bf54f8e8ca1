"""Demo step: an open 2026Q1 new-customers cycle with proposals, one flagged, and comments."""

from __future__ import annotations

import logging
import math

import duckdb

from calibration.accounts import auth
from calibration.modeling.service import get_run, save_run
from calibration.negotiation import service as neg

log = logging.getLogger("calibrate")

METRIC = "new_customers"
PERIOD = "2026Q1"
COMPANY_TARGET = 1200.0
# (lead, share of the suggestion proposed, justification, support, risk, confidence)
PROPOSALS = (
    (
        "lead_east",
        0.80,
        "Search interest in our category fell 12% year on year and two large accounts moved "
        "their budgets to the second half. 搜索热度同比下降 12%,两家大客户预算推迟到下半年。",
        "One more account executive from February; budget for two regional trade shows.",
        "A key renewal (Hangzhou Logistics) is in doubt; if it slips we lose about 15 logos.",
        "medium",
    ),
    (
        "lead_south",
        0.95,
        "Pipeline is healthy but conversion dropped after the price change; we keep most of the "
        "model's number.",
        "Marketing budget for one partner event.",
        "Two new hires still ramping up until March.",
        "high",
    ),
    (
        "lead_north",
        1.02,
        "MQLs up 20% since the autumn campaign and a new partner in Tianjin starts in January.",
        "None beyond the current plan.",
        "The partner contract is signed but not yet live.",
        "medium",
    ),
)


def seed_negotiation(cur: duckdb.DuckDBPyConnection) -> None:
    """negotiation: open 2026Q1 new_customers cycle with proposals and comments"""
    try:
        run = _model_run(cur)
    except (ValueError, KeyError) as exc:
        log.info("negotiation demo: the baseline could not run (%s); no cycle seeded", exc)
        return
    system = auth.SYSTEM
    cid = neg.create_cycle(
        cur, system, "2026Q1 new customers · 新客户", METRIC, PERIOD, COMPANY_TARGET
    )
    neg.publish_run(cur, system, cid, run)
    neg.open_cycle(cur, system, cid)
    suggestions = dict(zip(run["regions"]["region"], run["regions"]["suggestion"], strict=True))
    for username, share, justification, support, risk, confidence in PROPOSALS:
        lead = auth.load_user(cur, username)
        region = next(iter(sorted(lead.regions)), None) if lead else None
        if region not in suggestions:
            continue
        value = float(math.floor(float(suggestions[region]) * share))
        neg.propose(
            cur,
            lead,
            cid,
            region,
            value,
            justification,
            support,
            risk,
            confidence,
            expected_last_event=None,
            support_items=[{"kind": "headcount", "amount": 1, "description": "Account executive"}]
            if username == "lead_east"
            else None,
        )
    lead_east = auth.load_user(cur, "lead_east")
    if lead_east and "east" in suggestions:
        neg.add_comment(
            cur,
            lead_east,
            cid,
            "east",
            "Attaching the renewal status in the next hour. 续约情况稍后上传。",
        )
        executive = auth.load_user(cur, "exec")
        if executive:
            neg.add_comment(
                cur,
                executive,
                cid,
                "east",
                "Thanks. Can the new AE close part of the gap by March?",
            )


def _model_run(cur: duckdb.DuckDBPyConnection) -> dict:
    # A saved run: it has a run_id the Model Lab knows.
    run_id = save_run(cur, auth.SYSTEM, METRIC, PERIOD)
    saved = get_run(cur, run_id)
    return {
        "run_id": int(saved["run_id"]),
        "metric": saved["metric"],
        "period": str(saved["period"]),
        "regions": saved["regions"],
    }
