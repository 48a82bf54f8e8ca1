"""Counters without a proposal and allocations sent as counter-offers (all or none)."""

from __future__ import annotations

import pytest

from calibration.negotiation import service as neg
from tests.nego_fixtures import EXEC, GOOD, LEAD_EAST, LEAD_SOUTH, last_id, open_cycle


def _events(cur) -> int:
    return cur.execute("SELECT count(*) FROM events").fetchall()[0][0]


def _counter_east(cur, cid: int, value: float, reason: str) -> None:
    """The executive counters East, which has not proposed."""
    neg.respond(
        cur,
        EXEC,
        cid,
        "east",
        "counter",
        expected_last_event=None,
        counter_value=value,
        reason=reason,
    )


def _status(cur, cid: int) -> dict[str, str]:
    state = neg.cycle_state(cur, cid)
    return dict(zip(state["region"], state["status"], strict=True))


def test_a_region_without_a_proposal_can_be_countered_and_agreed(cur):
    cid = open_cycle(cur)
    with pytest.raises(neg.CycleStateError):
        neg.respond(cur, EXEC, cid, "east", "accept", expected_last_event=None)
    _counter_east(cur, cid, 210, "The model's number, less the churned accounts.")
    assert _status(cur, cid)["east"] == "countered"
    neg.accept_counter(cur, LEAD_EAST, cid, "east", expected_last_event=last_id(cur, cid, "east"))
    state = neg.cycle_state(cur, cid).set_index("region")
    assert state.loc["east", "status"] == "agreed"
    assert state.loc["east", "agreed_value"] == 210


def test_send_counters_records_one_event_per_region(cur):
    cid = open_cycle(cur)
    neg.propose(
        cur,
        LEAD_SOUTH,
        cid,
        "south",
        190,
        GOOD["justification"],
        GOOD["support"],
        GOOD["risk"],
        GOOD["confidence"],
        expected_last_event=None,
    )
    offers = [
        {"region": "east", "value": 230, "reason": "", "expected_last_event": None},
        {
            "region": "south",
            "value": 215,
            "reason": "Pipeline covers it.",
            "expected_last_event": last_id(cur, cid, "south"),
        },
    ]
    with pytest.raises(neg.ValidationError) as err:
        neg.send_counters(cur, EXEC, cid, offers, method="suggestion")
    assert err.value.errors == {"east.reason": "nego.err_required"}
    offers[0]["reason"] = "Allocation in proportion to the suggestion."
    ids = neg.send_counters(cur, EXEC, cid, offers, method="suggestion")
    assert len(ids) == 2
    state = neg.cycle_state(cur, cid).set_index("region")
    assert state.loc[["east", "south"], "counter_value"].tolist() == [230, 215]
    assert state.loc["north", "status"] == "none"
    assert neg.verify_chain(cur).ok


def test_send_counters_is_all_or_none(cur):
    cid = open_cycle(cur)
    _counter_east(cur, cid, 200, "First offer.")
    neg.accept_counter(cur, LEAD_EAST, cid, "east", expected_last_event=last_id(cur, cid, "east"))
    before = _events(cur)
    offers = [
        {"region": "north", "value": 185, "reason": "Stretch.", "expected_last_event": None},
        {
            "region": "east",
            "value": 240,
            "reason": "Stretch.",
            "expected_last_event": last_id(cur, cid, "east"),
        },
    ]
    with pytest.raises(neg.CycleStateError):  # east is agreed
        neg.send_counters(cur, EXEC, cid, offers)
    assert _events(cur) == before
    stale = [{"region": "north", "value": 185, "reason": "Stretch.", "expected_last_event": 1}]
    with pytest.raises(neg.StaleWriteError):
        neg.send_counters(cur, EXEC, cid, stale)
    with pytest.raises(PermissionError):
        neg.send_counters(cur, LEAD_EAST, cid, offers[:1])
    with pytest.raises(neg.ValidationError):
        neg.send_counters(cur, EXEC, cid, [])
    assert _events(cur) == before
