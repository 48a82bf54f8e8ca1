"""Cycles, proposals, review, responses, lock, state and the hash chain."""

from __future__ import annotations

import math

import pytest

from calibration.negotiation import service as neg
from tests.nego_fixtures import (
    ADMIN,
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


def test_dissent_check_is_pure():
    assert neg.dissent_check(180, 220, 0.15) is True  # 18.2% below
    assert neg.dissent_check(190, 220, 0.15) is False  # 13.6% below
    assert neg.dissent_check(187, 220, 0.15) is False  # exactly 15% is not "more than"
    assert neg.dissent_check(0, 0, 0.15) is False
    assert neg.dissent_check(300, 220, 0.15) is False


def test_cycle_lifecycle_and_open_needs_run(cur):
    cid = neg.create_cycle(cur, EXEC, "Q1", "new_customers", "2026Q1", 1200)
    assert neg.get_cycle(cur, cid)["status"] == "draft"
    with pytest.raises(neg.CycleStateError, match="Publish a model run"):
        neg.open_cycle(cur, EXEC, cid)
    neg.publish_run(cur, ANALYST, cid, make_run())
    neg.open_cycle(cur, EXEC, cid)
    c = neg.get_cycle(cur, cid)
    assert (c["status"], c["run_id"], c["company_target"], c["dissent_threshold"]) == (
        "open",
        1,
        1200.0,
        0.15,
    )
    with pytest.raises(neg.CycleStateError):
        neg.set_status(cur, EXEC, cid, "tracking")  # skipping locked


def test_wrong_roles_refused(cur):
    for user in (ANALYST, HRBP, LEAD_EAST):
        with pytest.raises(PermissionError):
            neg.create_cycle(cur, user, "Q1", "new_customers", "2026Q1", 1200)
    cid = neg.create_cycle(cur, ADMIN, "Q1", "new_customers", "2026Q1", 1200)
    for user in (EXEC, HRBP, LEAD_EAST):
        with pytest.raises(PermissionError):
            neg.publish_run(cur, user, cid, make_run())
    neg.publish_run(cur, ANALYST, cid, make_run())
    with pytest.raises(PermissionError):
        neg.open_cycle(cur, ANALYST, cid)
    neg.open_cycle(cur, EXEC, cid)
    for user in (EXEC, ANALYST, HRBP, ADMIN):
        with pytest.raises(PermissionError):
            neg.propose(cur, user, cid, "east", 200, **GOOD, expected_last_event=None)
    neg.propose(cur, LEAD_EAST, cid, "east", 150, **GOOD, expected_last_event=None)
    for user in (LEAD_EAST, ANALYST, HRBP):
        with pytest.raises(PermissionError):
            neg.respond(cur, user, cid, "east", "accept", expected_last_event=None)
    for user in (LEAD_EAST, ANALYST, EXEC, ADMIN):
        with pytest.raises(PermissionError):
            neg.resolve_review(cur, user, cid, "east", "supported", "ok", expected_last_event=None)
    with pytest.raises(PermissionError):
        neg.add_comment(cur, ANALYST, cid, "east", "analysts only read")
    with pytest.raises(PermissionError):
        neg.lock_cycle(cur, LEAD_EAST, cid)


def test_cross_region_writes_refused(cur):
    cid = open_cycle(cur)
    with pytest.raises(PermissionError):
        neg.propose(cur, LEAD_EAST, cid, "south", 190, **GOOD, expected_last_event=None)
    neg.propose(cur, LEAD_SOUTH, cid, "south", 190, **GOOD, expected_last_event=None)
    neg.respond(
        cur,
        EXEC,
        cid,
        "south",
        "counter",
        counter_value=200,
        reason="Pipeline is up",
        expected_last_event=last_id(cur, cid, "south"),
    )
    with pytest.raises(PermissionError):
        neg.accept_counter(
            cur, LEAD_EAST, cid, "south", expected_last_event=last_id(cur, cid, "south")
        )
    with pytest.raises(PermissionError):
        neg.add_comment(cur, LEAD_EAST, cid, "south", "peeking at my neighbour")
    with pytest.raises(PermissionError):
        neg.thread(cur, LEAD_EAST, cid, "south")
    with pytest.raises(PermissionError):
        neg.region_view(cur, LEAD_EAST, cid, "south")
    # what a lead can read is filtered in the service, whatever the caller asks for
    assert neg.cycle_state(cur, cid, viewer=LEAD_EAST)["region"].tolist() == ["east"]
    log = neg.decision_log(cur, LEAD_EAST, cid)
    assert "south" not in set(log["region"].dropna())


def test_proposal_validation_stores_nothing(cur):
    cid = open_cycle(cur)
    before = len(neg.decision_log(cur, EXEC, cid))
    with pytest.raises(neg.ValidationError) as err:
        neg.propose(
            cur,
            LEAD_EAST,
            cid,
            "east",
            -1,
            justification="too short",
            support="  ",
            risk="",
            confidence="sure",
            expected_last_event=None,
        )
    assert err.value.errors == {
        "value": "nego.err_value",
        "justification": "nego.err_justification",
        "support": "nego.err_required",
        "risk": "nego.err_required",
        "confidence": "nego.err_confidence",
    }
    for bad in (math.nan, math.inf, "abc", None, True):
        with pytest.raises(neg.ValidationError) as err:
            neg.propose(cur, LEAD_EAST, cid, "east", bad, **GOOD, expected_last_event=None)
        assert set(err.value.errors) == {"value"}
    with pytest.raises(neg.ValidationError) as err:
        neg.propose(
            cur,
            LEAD_EAST,
            cid,
            "east",
            200,
            **{**GOOD, "risk": "x" * 5001},
            expected_last_event=None,
        )
    assert err.value.errors == {"risk": "nego.err_too_long"}
    with pytest.raises(neg.ValidationError) as err:
        neg.propose(
            cur,
            LEAD_EAST,
            cid,
            "east",
            200,
            **GOOD,
            expected_last_event=None,
            support_items=[{"kind": "car", "amount": 1, "description": "x"}],
        )
    assert err.value.errors == {"support_items": "nego.err_support_items"}
    # 20 characters only once stripped
    with pytest.raises(neg.ValidationError):
        neg.propose(
            cur,
            LEAD_EAST,
            cid,
            "east",
            200,
            **{**GOOD, "justification": "   short but padded      " + " " * 30},
            expected_last_event=None,
        )
    assert len(neg.decision_log(cur, EXEC, cid)) == before


def test_proposal_records_suggestion_and_run_and_text_as_given(cur):
    cid = open_cycle(cur)
    text = "<script>alert(1)</script> =SUM(A1) 理由:搜索量下降\x00 12%"
    eid = neg.propose(
        cur,
        LEAD_EAST,
        cid,
        "east",
        210,
        **{**GOOD, "justification": text},
        expected_last_event=None,
        support_items=[{"kind": "headcount", "amount": 1, "description": "AE"}],
    )
    row = neg.cycle_state(cur, cid).set_index("region").loc["east"]
    assert row["proposal_value"] == 210 and row["proposal_suggestion"] == 220
    assert row["proposal_run_id"] == 1 and row["status"] == "proposed"
    assert row["justification"] == text.replace("\x00", "")
    assert row["support_items"] == [{"kind": "headcount", "amount": 1.0, "description": "AE"}]
    assert row["last_event_id"] == eid and row["proposed_by"] == "lead_east"
    assert not row["flagged"] and row["revision"] == 1


def test_flag_review_counter_accept_lock(cur):
    cid = open_cycle(cur, {"east": 220.0, "south": 200.0})
    _same_as_whole_cycle(cur, cid)
    neg.propose(cur, LEAD_EAST, cid, "east", 180, **GOOD, expected_last_event=None)
    _same_as_whole_cycle(cur, cid)
    state = neg.cycle_state(cur, cid).set_index("region")
    assert state.loc["east", "status"] == "flagged"
    assert state.loc["east", "gap"] == pytest.approx(40 / 220)
    queue = neg.review_queue(cur, HRBP, cid)
    assert queue["region"].tolist() == ["east"]
    # the HRBP sees only flagged regions
    assert neg.cycle_state(cur, cid, viewer=HRBP)["region"].tolist() == ["east"]
    with pytest.raises(neg.ValidationError) as err:
        neg.resolve_review(
            cur, HRBP, cid, "east", "maybe", " ", expected_last_event=last_id(cur, cid, "east")
        )
    assert err.value.errors == {"outcome": "nego.err_outcome", "note": "nego.err_required"}
    neg.resolve_review(
        cur,
        HRBP,
        cid,
        "east",
        "supported",
        "Market data backs it.",
        expected_last_event=last_id(cur, cid, "east"),
    )
    assert neg.review_queue(cur, HRBP, cid).empty
    _same_as_whole_cycle(cur, cid)
    row = neg.cycle_state(cur, cid).set_index("region").loc["east"]
    assert (row["review_outcome"], row["status"], row["flagged"]) == ("supported", "proposed", True)
    with pytest.raises(neg.CycleStateError):
        neg.resolve_review(
            cur,
            HRBP,
            cid,
            "east",
            "supported",
            "again",
            expected_last_event=last_id(cur, cid, "east"),
        )

    neg.respond(
        cur,
        EXEC,
        cid,
        "east",
        "counter",
        counter_value=200,
        reason="Meet halfway",
        expected_last_event=last_id(cur, cid, "east"),
    )
    assert neg.cycle_state(cur, cid).set_index("region").loc["east", "status"] == "countered"
    _same_as_whole_cycle(cur, cid)
    with pytest.raises(neg.CycleStateError, match="Every region"):
        neg.lock_cycle(cur, EXEC, cid)
    neg.accept_counter(cur, LEAD_EAST, cid, "east", expected_last_event=last_id(cur, cid, "east"))
    neg.propose(cur, LEAD_SOUTH, cid, "south", 205, **GOOD, expected_last_event=None)
    neg.respond(cur, EXEC, cid, "south", "accept", expected_last_event=last_id(cur, cid, "south"))
    _same_as_whole_cycle(cur, cid)
    state = neg.cycle_state(cur, cid).set_index("region")
    assert state["status"].tolist() == ["agreed", "agreed"]
    assert state["agreed_value"].to_dict() == {"east": 200.0, "south": 205.0}
    assert neg.lock_cycle(cur, EXEC, cid) == {"east": 200.0, "south": 205.0}
    assert neg.get_cycle(cur, cid)["status"] == "locked"
    with pytest.raises(neg.CycleStateError, match="locked"):
        neg.propose(
            cur, LEAD_EAST, cid, "east", 230, **GOOD, expected_last_event=last_id(cur, cid, "east")
        )
    with pytest.raises(neg.CycleStateError, match="locked"):
        neg.respond(cur, EXEC, cid, "east", "accept", expected_last_event=last_id(cur, cid, "east"))
    assert neg.verify_chain(cur).ok


def test_counter_needs_value_and_reason(cur):
    cid = open_cycle(cur)
    neg.propose(cur, LEAD_EAST, cid, "east", 200, **GOOD, expected_last_event=None)
    with pytest.raises(neg.ValidationError) as err:
        neg.respond(
            cur,
            EXEC,
            cid,
            "east",
            "counter",
            counter_value=-5,
            reason="",
            expected_last_event=last_id(cur, cid, "east"),
        )
    assert err.value.errors == {"counter_value": "nego.err_value", "reason": "nego.err_required"}
    with pytest.raises(neg.CycleStateError):
        neg.respond(cur, EXEC, cid, "north", "accept", expected_last_event=None)


def test_stale_write_refused(cur):
    cid = open_cycle(cur)
    first = neg.propose(cur, LEAD_EAST, cid, "east", 200, **GOOD, expected_last_event=None)
    # the executive answers; the lead's page still shows `first`
    neg.respond(
        cur,
        EXEC,
        cid,
        "east",
        "counter",
        counter_value=215,
        reason="Pipeline is up",
        expected_last_event=first,
    )
    with pytest.raises(neg.StaleWriteError) as err:
        neg.propose(cur, LEAD_EAST, cid, "east", 205, **GOOD, expected_last_event=first)
    # Says what changed (issue 12): region, who, what and when.
    assert "east changed: exec countered with 215 at" in str(err.value)
    assert "Check and send again" in str(err.value)
    assert err.value.actor == "exec"
    # a comment does not make a proposal stale
    neg.add_comment(cur, EXEC, cid, "east", "Let's talk")
    neg.propose(
        cur, LEAD_EAST, cid, "east", 205, **GOOD, expected_last_event=last_id(cur, cid, "east")
    )
    with pytest.raises(neg.StaleWriteError):  # a first proposal somebody else beat
        neg.propose(cur, LEAD_EAST, cid, "east", 205, **GOOD, expected_last_event=None)


def test_republish_keeps_answered_run(cur):
    cid = open_cycle(cur)
    neg.propose(cur, LEAD_EAST, cid, "east", 200, **GOOD, expected_last_event=None)
    neg.publish_run(cur, ANALYST, cid, make_run(2, {"east": 240.0, "south": 200.0, "north": 180.0}))
    row = neg.cycle_state(cur, cid).set_index("region").loc["east"]
    assert (row["run_id"], row["suggestion"]) == (2, 240.0)
    assert (row["proposal_run_id"], row["proposal_suggestion"]) == (1, 220.0)
    assert row["answered_older_run"]
    with pytest.raises(neg.CycleStateError):
        neg.publish_run(cur, ANALYST, cid, make_run(2))  # same run twice
    with pytest.raises(neg.ValidationError):
        neg.publish_run(cur, ANALYST, cid, make_run(3, period="2026Q2"))
    # a revision answers the new run
    neg.propose(
        cur, LEAD_EAST, cid, "east", 230, **GOOD, expected_last_event=last_id(cur, cid, "east")
    )
    row = neg.cycle_state(cur, cid).set_index("region").loc["east"]
    assert (row["proposal_run_id"], row["revision"], row["answered_older_run"]) == (2, 2, False)
    history = neg.region_events(cur, LEAD_EAST, cid, "east")
    assert history["value"].tolist() == [200.0, 230.0]
    assert history["run_id"].tolist() == [1, 2]


def test_audit_chain_detects_direct_edit(cur):
    cid = open_cycle(cur)
    neg.propose(cur, LEAD_EAST, cid, "east", 200, **GOOD, expected_last_event=None)
    neg.add_comment(cur, LEAD_EAST, cid, "east", "evidence follows")
    report = neg.verify_chain(cur)
    assert report.ok and report.events == 6
    target = int(cur.execute("SELECT id FROM events WHERE kind = 'proposal'").fetchone()[0])
    cur.execute("UPDATE events SET value = 999 WHERE id = ?", [target])
    report = neg.verify_chain(cur)
    assert not report.ok and report.broken_id == target


def test_audit_chain_detects_deleted_row(cur):
    open_cycle(cur)
    cur.execute("DELETE FROM events WHERE id = 2")
    report = neg.verify_chain(cur)
    assert not report.ok and report.broken_id == 3


def _same_as_whole_cycle(cur, cid: int) -> None:
    """Each region's state read alone (a lead's page, every write's freshness check) equals
    its row of the whole cycle's state; north has neither a suggestion nor a decision."""
    state = neg.cycle_state(cur, cid)
    for region in ("east", "south", "north"):
        whole = state[state["region"] == region]
        expected = None if whole.empty else neg._plain(whole.iloc[0].to_dict())
        assert neg._state_row(cur, cid, region) == expected, region
