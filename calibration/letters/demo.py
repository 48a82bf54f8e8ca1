"""Demo step: a completed (closed) 2025Q4 new-customers cycle whose letters are all signed.

Created, a 2025Q4 model run published (fitted on the data before 2025Q4), opened, every
lead proposes, the executive accepts (East is countered and its lead accepts), locked, and
each region's letter is signed by its lead and then the executive with the demo password.
PDFs are not rendered here (that would add seconds to every demo load, plus the one-time
font build): signatures record the content hash, and each PDF is rendered and archived on
its first download.
"""

from __future__ import annotations

import logging
import math

import duckdb

from calibration.accounts import auth
from calibration.letters import service as letters
from calibration.modeling.service import get_run, save_run
from calibration.negotiation import service as neg

log = logging.getLogger("calibrate")

METRIC = "new_customers"
PERIOD = "2025Q4"
COMPANY_TARGET = 1200.0
# lead -> (share of the suggestion proposed, justification, risk, support items)
PROPOSALS: dict[str, tuple[float, str, str, list[dict]]] = {
    "lead_east": (
        0.92,
        "Search interest fell 12% over the summer and one distributor is renegotiating; we "
        "propose a little below the model. 夏季搜索热度下降 12%，一家经销商正在重新谈判。",
        "The distributor renegotiation may slip into January.",
        [
            {
                "kind": "headcount",
                "amount": 1,
                "description": "One more account executive (Shanghai)",
            },
            {
                "kind": "budget",
                "amount": 40000,
                "description": "Two regional trade shows 两场区域展会",
            },
        ],
    ),
    "lead_south": (
        0.98,
        "Pipeline is strong after the September launch; conversion is back to last year's level.",
        "Two new hires are still ramping up.",
        [{"kind": "budget", "amount": 25000, "description": "Partner event in Shenzhen"}],
    ),
    "lead_north": (
        1.01,
        "MQLs are up 20% since the autumn campaign and the Tianjin partner is live.",
        "The partner's first deals are not yet closed.",
        [
            {
                "kind": "other",
                "amount": 1,
                "description": "Executive sponsor for the Tianjin partner",
            }
        ],
    ),
    "lead_southwest": (
        1.04,
        "Search interest rose 18% in Chengdu and Chongqing; we can do more than the model says.",
        "Delivery capacity is tight in December.",
        [
            {
                "kind": "headcount",
                "amount": 1,
                "description": "Solutions engineer shared with Central",
            }
        ],
    ),
    "lead_central": (
        0.97,
        "Steady region; one large account moved its rollout to next year.",
        "A public-sector tender could be delayed.",
        [{"kind": "budget", "amount": 10000, "description": "Customer day in Wuhan 武汉客户日"}],
    ),
    "lead_northeast": (
        0.98,
        "Small team, stable base; we keep close to the model's number.",
        "One account executive is on leave in November.",
        [{"kind": "budget", "amount": 8000, "description": "Webinar series 线上研讨会"}],
    ),
}
COUNTER = ("lead_east", 0.97, "The new AE starts in October; East can close part of the gap.")


def seed_letters(cur: duckdb.DuckDBPyConnection, password: str) -> None:
    """letters: completed 2025Q4 new_customers cycle, every letter signed"""
    executive = auth.load_user(cur, "exec")
    if executive is None:
        return
    try:
        run_id = save_run(cur, auth.SYSTEM, METRIC, PERIOD)
    except (ValueError, KeyError) as exc:
        log.info("letters demo: the baseline could not run (%s); no cycle seeded", exc)
        return
    saved = get_run(cur, run_id)
    if not saved or str(saved.get("period")) != PERIOD or saved.get("metric") != METRIC:
        log.info("letters demo: no %s %s model run; no cycle seeded", METRIC, PERIOD)
        return
    run = {
        "run_id": int(saved["run_id"]),
        "metric": METRIC,
        "period": PERIOD,
        "regions": saved["regions"],
    }
    cid = neg.create_cycle(
        cur, executive, "2025Q4 new customers · 新客户", METRIC, PERIOD, COMPANY_TARGET
    )
    neg.publish_run(cur, auth.SYSTEM, cid, run)
    neg.open_cycle(cur, executive, cid)
    suggestions = dict(zip(run["regions"]["region"], run["regions"]["suggestion"], strict=True))
    leads: dict[str, tuple[auth.User, str]] = {}
    for username, (share, justification, risk, items) in PROPOSALS.items():
        lead = auth.load_user(cur, username)
        region = next(iter(sorted(lead.regions)), None) if lead else None
        if lead is None or region not in suggestions:
            continue
        leads[username] = (lead, region)
        support = "; ".join(i["description"] for i in items) or "No extra support needed."
        neg.propose(
            cur,
            lead,
            cid,
            region,
            float(math.floor(suggestions[region] * share)),
            justification,
            support,
            risk,
            "medium",
            expected_last_event=None,
            support_items=items,
        )
    for username, (lead, region) in leads.items():
        last = _last_event(cur, cid, region)
        if username == COUNTER[0]:
            value = float(math.floor(suggestions[region] * COUNTER[1]))
            neg.respond(
                cur,
                executive,
                cid,
                region,
                "counter",
                counter_value=value,
                reason=COUNTER[2],
                expected_last_event=last,
            )
            neg.accept_counter(
                cur, lead, cid, region, expected_last_event=_last_event(cur, cid, region)
            )
        else:
            neg.respond(cur, executive, cid, region, "accept", expected_last_event=last)
    neg.lock_cycle(cur, executive, cid)
    letters.issue_letters(cur, executive, cid)  # what the board's lock does (board.lock)
    for lead, region in leads.values():
        letters.sign_letter(cur, lead, cid, region, password, archive=False)
    # The executive signs the six letters with one password entry (one Argon2 check, not six).
    letters.sign_letters(cur, executive, cid, None, password, archive=False)
    # The quarter is over: the cycle was tracked and is closed, so its actuals feed the
    # forecast-value-added review (the tracking step records which support was delivered).
    neg.set_status(cur, executive, cid, "tracking")
    neg.set_status(cur, executive, cid, "closed")


def _last_event(cur: duckdb.DuckDBPyConnection, cycle_id: int, region: str) -> int | None:
    state = neg.cycle_state(cur, cycle_id)
    value = state.loc[state["region"] == region, "last_event_id"].iloc[0]
    return None if value is None or value != value else int(value)
