"""Issue 12 (live session): stale forms refused with what changed, HR gate and override,
one current number per region with its source, the cycle that needs a person."""

from __future__ import annotations

import json
import random
import threading

import pytest

from calibration.accounts.auth import User
from calibration.board import lock as board_lock
from calibration.board import table as board
from calibration.negotiation import service as neg
from tests.nego_fixtures import (
    ANALYST,
    EXEC,
    GOOD,
    HRBP,
    LEAD_EAST,
    LEAD_SOUTH,
    last_id,
    make_run,
    open_cycle,
)


def _events(cur, cid: int) -> list[dict]:
    rows = cur.execute(
        "SELECT id, region, kind, value, payload FROM events WHERE cycle_id = ? ORDER BY id",
        [cid],
    ).fetchall()
    return [
        {"id": r[0], "region": r[1], "kind": r[2], "value": r[3], "payload": json.loads(r[4])}
        for r in rows
    ]


def test_stale_write_says_what_changed_and_records_nothing(cur):
    cid = open_cycle(cur)
    neg.propose(cur, LEAD_SOUTH, cid, "south", 190, **GOOD, expected_last_event=None)
    seen = last_id(cur, cid, "south")
    # The lead revises while the executive's form is open.
    neg.propose(cur, LEAD_SOUTH, cid, "south", 50, **GOOD, expected_last_event=seen)
    before = len(_events(cur, cid))
    with pytest.raises(neg.StaleWriteError) as exc:
        neg.respond(cur, EXEC, cid, "south", "accept", expected_last_event=seen)
    text = str(exc.value)
    assert "south changed" in text and "lead_south proposed 50" in text
    assert "Check and send again" in text
    assert exc.value.values["region"] == "south"
    assert len(_events(cur, cid)) == before


def test_accepting_a_flagged_region_waits_for_hr(cur):
    cid = open_cycle(cur)
    neg.propose(cur, LEAD_SOUTH, cid, "south", 100, **GOOD, expected_last_event=None)  # 50% below
    seen = last_id(cur, cid, "south")
    with pytest.raises(neg.CycleStateError) as exc:
        neg.respond(cur, EXEC, cid, "south", "accept", expected_last_event=seen)
    assert exc.value.key == "nego.err_hr_pending"
    assert neg.cycle_state(cur, cid).set_index("region").loc["south", "status"] == "flagged"
    neg.resolve_review(
        cur, HRBP, cid, "south", "supported", "Market data checks out.", expected_last_event=seen
    )
    neg.respond(cur, EXEC, cid, "south", "accept", expected_last_event=last_id(cur, cid, "south"))
    assert neg.cycle_state(cur, cid).set_index("region").loc["south", "status"] == "agreed"


def test_executive_override_needs_its_own_reason_and_event(cur):
    cid = open_cycle(cur)
    neg.propose(cur, LEAD_SOUTH, cid, "south", 100, **GOOD, expected_last_event=None)
    seen = last_id(cur, cid, "south")
    with pytest.raises(neg.ValidationError):
        neg.respond(
            cur, EXEC, cid, "south", "accept", expected_last_event=seen, hr_override_reason="  "
        )
    neg.respond(
        cur,
        EXEC,
        cid,
        "south",
        "accept",
        expected_last_event=seen,
        hr_override_reason="HR partner is on leave; board decided in the room.",
    )
    kinds = [(e["kind"], e["region"]) for e in _events(cur, cid)][-2:]
    assert kinds == [("hr_override", "south"), ("response", "south")]
    override = _events(cur, cid)[-2]
    assert override["payload"]["reason"].startswith("HR partner is on leave")
    row = neg.cycle_state(cur, cid).set_index("region").loc["south"]
    assert row["status"] == "agreed" and row["hr_override_by"] == "exec"
    # HR's queue still lists it, with the override visible.
    queue = neg.review_queue(cur, HRBP, cid).set_index("region")
    assert queue.loc["south", "hr_override_reason"].startswith("HR partner")
    assert neg.verify_chain(cur).ok


def test_one_current_number_with_its_source(cur):
    cid = open_cycle(cur)
    neg.propose(cur, LEAD_SOUTH, cid, "south", 195, **GOOD, expected_last_event=None)
    neg.respond(
        cur,
        EXEC,
        cid,
        "south",
        "counter",
        counter_value=203,
        reason="Pipeline.",
        expected_last_event=last_id(cur, cid, "south"),
    )
    state = neg.cycle_state(cur, cid).set_index("region")
    assert (state.loc["south", "current_value"], state.loc["south", "current_source"]) == (
        203.0,
        "counter",
    )
    assert (state.loc["east", "current_value"], state.loc["east", "current_source"]) == (
        220.0,
        "suggestion",
    )
    neg.accept_counter(
        cur, LEAD_SOUTH, cid, "south", expected_last_event=last_id(cur, cid, "south")
    )
    state = neg.cycle_state(cur, cid)
    row = state.set_index("region").loc["south"]
    assert (row["current_value"], row["current_source"]) == (203.0, "agreed")
    table = board.board_table(state, None, _no_history(), "2026Q1")
    south = table.set_index("region").loc["south"]
    # The number shown is the agreed one and the delta is against it.
    assert south["current"] == 203.0 and south["current_source"] == "agreed"
    assert south["delta_pct"] == pytest.approx((203 - 200) / 200 * 100)


def _no_history():
    import pandas as pd

    return pd.DataFrame(columns=["region", "metric", "period", "value"])


def test_cycle_that_needs_a_lead_is_the_default(cur):
    cid = open_cycle(cur)
    other = neg.create_cycle(cur, EXEC, "Q2", "new_customers", "2026Q2", 900)
    neg.publish_run(cur, ANALYST, other, make_run(2, period="2026Q2"))
    # An open cycle where the lead has already proposed needs nobody's action but the exec's;
    # a draft one needs nobody: the lead lands on the open cycle.
    assert neg.cycle_needing(cur, LEAD_EAST) == cid


def test_many_threads_never_write_another_region_and_stale_writes_are_refused(con):
    regions = [f"r{i}" for i in range(6)]
    cur = con.cursor()
    cid = neg.create_cycle(cur, EXEC, "Q1", "new_customers", "2026Q1", 600)
    neg.publish_run(cur, ANALYST, cid, make_run(1, dict.fromkeys(regions, 100.0)))
    neg.open_cycle(cur, EXEC, cid)
    outcomes: list[tuple] = []
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        c = con.cursor()
        for _ in range(12):
            region = rnd.choice(regions)
            seen = last_id(c, cid, region)
            lead = User(f"lead_{region}", region, "lead", frozenset({region}))
            action = rnd.choice(("propose", "counter", "accept", "accept_counter"))
            try:
                if action == "propose":
                    ids = [
                        neg.propose(
                            c,
                            lead,
                            cid,
                            region,
                            rnd.randint(90, 120),
                            **GOOD,
                            expected_last_event=seen,
                        )
                    ]
                elif action == "counter":
                    ids = [
                        neg.respond(
                            c,
                            EXEC,
                            cid,
                            region,
                            "counter",
                            counter_value=110,
                            reason="Room decision.",
                            expected_last_event=seen,
                        )
                    ]
                elif action == "accept":
                    ids = [neg.respond(c, EXEC, cid, region, "accept", expected_last_event=seen)]
                else:
                    ids = [neg.accept_counter(c, lead, cid, region, expected_last_event=seen)]
                result = "ok"
            except neg.StaleWriteError:
                ids, result = [], "stale"
            except neg.CycleStateError:
                ids, result = [], "state"
            with lock:
                outcomes.append((region, seen, ids, result))

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    events = {e["id"]: e for e in _events(cur, cid)}
    decision_by_region: dict[str, list[int]] = {}
    for e in events.values():
        if e["kind"] in neg.DECISION_KINDS:
            decision_by_region.setdefault(e["region"], []).append(e["id"])
    for region, seen, ids, _result in outcomes:
        for i in ids:
            assert events[i]["region"] == region
            # Accepted only if nothing of that region came between what was seen and it.
            before = [x for x in decision_by_region[region] if x < i]
            assert (before[-1] if before else None) == seen
    assert any(r == "stale" for *_, r in outcomes) or len(outcomes) == 72
    assert sum(len(ids) for *_, ids, _ in outcomes) == sum(
        len(v) for v in decision_by_region.values()
    )
    assert neg.verify_chain(cur).ok


def test_lead_with_unsigned_letter_lands_on_the_locked_cycle(cur):
    cid = open_cycle(cur, {"east": 220.0, "south": 200.0})
    for lead, region in ((LEAD_EAST, "east"), (LEAD_SOUTH, "south")):
        neg.propose(cur, lead, cid, region, 210, **GOOD, expected_last_event=None)
        neg.respond(cur, EXEC, cid, region, "accept", expected_last_event=last_id(cur, cid, region))
    board_lock.lock_cycle(cur, EXEC, cid)
    # A newer cycle, finished without these leads (e.g. another team's), sorts first.
    later = neg.create_cycle(cur, EXEC, "Other", "new_customers", "2026Q2", 100)
    assert neg.list_cycles(cur)[0]["id"] == later
    assert neg.cycle_needing(cur, LEAD_EAST) == cid
    assert neg.cycle_needing(cur, EXEC) == cid
