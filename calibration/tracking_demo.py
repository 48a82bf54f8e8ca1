"""Demo steps: a closed 2025Q4 cycle (before the live cycle), the demo actuals, evaluation."""

from __future__ import annotations

import logging

import duckdb

from calibration import auth, demo, importer, settings
from calibration import tracking_service as ts

log = logging.getLogger("calibrate")

ACTUALS_FILES = ("actuals_2025Q4.csv", "actuals_2026Q1.csv")
METRIC = "new_customers"
PAST_PERIOD = "2025Q4"
# Share of the model's suggestion each lead proposed for 2025Q4 (all accepted), chosen so
# the forecast-value-added table has both kinds: leads who beat the model and one who
# sandbagged.
PAST_SHARES = {
    "central": 1.08,
    "east": 0.90,
    "north": 1.00,
    "northeast": 1.00,
    "south": 0.96,
    "southwest": 1.04,
}
PAST_JUSTIFICATION = (
    "Pipeline review with the team: our own count of late-stage deals for the quarter. "
    "团队逐单核对了本季度的后期商机。"
)


def seed_closed_cycle(cur: duckdb.DuckDBPyConnection) -> None:
    """tracking: closed 2025Q4 cycle with agreed targets (for forecast value added)"""
    try:
        from calibration import negotiation as neg
        from calibration.baseline import get_run, save_run
    except ImportError:
        log.info("tracking demo: negotiation or baseline absent; no past cycle seeded")
        return
    if any(c["period"] == PAST_PERIOD and c["metric"] == METRIC for c in neg.list_cycles(cur)):
        return
    try:
        run = get_run(cur, save_run(cur, auth.SYSTEM, METRIC, PAST_PERIOD))
    except (ValueError, KeyError) as exc:
        log.info("tracking demo: no baseline for %s (%s); no past cycle seeded", PAST_PERIOD, exc)
        return
    if str(run.get("period")) != PAST_PERIOD:
        return  # not a run for the past quarter: nothing sensible to seed
    system = auth.SYSTEM
    executive = auth.load_user(cur, "exec") or system
    regions = run["regions"]
    total = float(
        sum(
            round(float(s) * PAST_SHARES.get(r, 1.0))
            for r, s in zip(regions["region"], regions["suggestion"], strict=True)
        )
    )
    cid = neg.create_cycle(
        cur, system, "2025Q4 new customers · 新客户", METRIC, PAST_PERIOD, round(total * 1.05)
    )
    neg.publish_run(
        cur,
        system,
        cid,
        {"run_id": int(run["run_id"]), "metric": METRIC, "period": PAST_PERIOD, "regions": regions},
    )
    neg.open_cycle(cur, system, cid)
    for region, suggestion in zip(regions["region"], regions["suggestion"], strict=True):
        lead = auth.load_user(cur, f"lead_{region}")
        if lead is None or not lead.may_lead(region):
            continue
        items = (
            [{"kind": "headcount", "amount": 1, "description": "Account executive"}]
            if region == "central"
            else None
        )
        proposal = neg.propose(
            cur,
            lead,
            cid,
            region,
            float(round(float(suggestion) * PAST_SHARES.get(region, 1.0))),
            PAST_JUSTIFICATION,
            "Account executive" if items else "None beyond the current plan.",
            "Year-end budget freezes at two large customers.",
            "medium",
            expected_last_event=None,
            support_items=items,
        )
        neg.respond(cur, executive, cid, region, "accept", expected_last_event=proposal)
    neg.lock_cycle(cur, executive, cid)
    neg.set_status(cur, executive, cid, "tracking")
    neg.set_status(cur, executive, cid, "closed")
    ts.set_commitment_status(
        cur, system, cid, "central", "Account executive", True, "Started 1 November."
    )


def seed_tracking(cur: duckdb.DuckDBPyConnection) -> None:
    """tracking: demo actuals imported, tracked cycles evaluated as of the last actual day"""
    for name in ACTUALS_FILES:
        path = settings.demo_dir() / name
        if path.is_file():
            result = importer.import_file(cur, auth.SYSTEM, "actuals", path)
            log.info("tracking demo: %s", result.summary())
    for cycle_id in _cycle_ids(cur):
        try:
            cycle = ts.lookup_cycle(cur, cycle_id)
        except LookupError:
            continue
        result = ts.evaluate(cur, auth.SYSTEM, cycle)
        log.info(
            "tracking demo: cycle %s as of %s: %d events, %d notifications",
            cycle_id,
            result.as_of,
            result.recorded,
            result.notifications,
        )


def _cycle_ids(cur: duckdb.DuckDBPyConnection) -> list[int]:
    """Ids of every cycle (none while the negotiation domain is absent)."""
    try:
        from calibration import negotiation
    except ImportError:
        return []
    return [int(c["id"]) for c in negotiation.list_cycles(cur)]


# The past cycle comes before the live one (so the live cycle stays the newest, the
# sidebar's default); tracking runs after every step that creates cycles.
seed_closed_cycle.demo_order = -10  # type: ignore[attr-defined]
seed_tracking.demo_order = 100  # type: ignore[attr-defined]
for _step in (seed_closed_cycle, seed_tracking):
    if _step not in demo.EXTRA_STEPS:
        demo.EXTRA_STEPS.append(_step)
