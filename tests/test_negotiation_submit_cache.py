"""The submit cache (calibration/negotiation/submit_cache.py): a warm submit runs one read
and the append, and whatever changes the cycle or the region in between is seen."""

from __future__ import annotations

import json

import pytest

from calibration.negotiation import service as neg
from calibration.store import connect
from tests.nego_fixtures import ANALYST, EXEC, GOOD, LEAD_EAST, LEAD_SOUTH, make_run, open_cycle


class CountingCursor:
    """A cursor that counts the statements run through it (DuckDB's own cannot be patched)."""

    def __init__(self, cur) -> None:
        self.cur = cur
        self.statements: list[str] = []

    def execute(self, sql: str, *args, **kwargs):
        self.statements.append(" ".join(sql.split()))
        return self.cur.execute(sql, *args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.cur, name)


def _state(cur, cid: int, region: str):
    return neg.cycle_state(cur, cid).set_index("region").loc[region]


def test_warm_submit_runs_one_read_and_the_append(cur):
    cid = open_cycle(cur)
    neg.propose(cur, LEAD_SOUTH, cid, "south", 195, **GOOD, expected_last_event=None)
    counting = CountingCursor(cur)
    neg.propose(counting, LEAD_EAST, cid, "east", 210, **GOOD, expected_last_event=None)
    # Which database file the cursor is on; then the group
    # commit: BEGIN, the events since the snapshot (and the head), one INSERT, COMMIT.
    words = [s.split()[0] for s in counting.statements]
    assert words == ["SELECT", "BEGIN", "SELECT", "INSERT", "COMMIT"], counting.statements
    assert "duckdb_databases()" in counting.statements[0]
    assert _state(cur, cid, "east")["proposal_value"] == 210
    assert neg.verify_chain(cur).ok


def test_a_form_older_than_a_decision_the_cache_saw_is_refused(cur):
    """The process's own appends bring the cache forward: after a proposal, and after the
    executive's counter, a submit from the older form is stale, and says who changed it."""
    cid = open_cycle(cur)
    first = neg.propose(cur, LEAD_EAST, cid, "east", 210, **GOOD, expected_last_event=None)
    with pytest.raises(neg.StaleWriteError) as refused:
        neg.propose(cur, LEAD_EAST, cid, "east", 205, **GOOD, expected_last_event=None)
    assert refused.value.event_id == first and refused.value.change == "proposed"
    counter = neg.respond(
        cur,
        EXEC,
        cid,
        "east",
        "counter",
        expected_last_event=first,
        counter_value=215,
        reason="East can reach 215 with the partner channel.",
    )
    with pytest.raises(neg.StaleWriteError) as refused:
        neg.propose(cur, LEAD_EAST, cid, "east", 205, **GOOD, expected_last_event=first)
    assert refused.value.event_id == counter and refused.value.actor == "exec"
    revised = neg.propose(cur, LEAD_EAST, cid, "east", 212, **GOOD, expected_last_event=counter)
    row = _state(cur, cid, "east")
    assert row["proposal_value"] == 212 and row["last_event_id"] == revised
    assert neg.verify_chain(cur).ok


def test_revision_names_the_proposal_it_revises(cur):
    from calibration.store import negotiation as q

    cid = open_cycle(cur)
    first = neg.propose(cur, LEAD_EAST, cid, "east", 210, **GOOD, expected_last_event=None)
    neg.propose(cur, LEAD_SOUTH, cid, "south", 195, **GOOD, expected_last_event=None)
    second = neg.propose(cur, LEAD_EAST, cid, "east", 211, **GOOD, expected_last_event=first)
    newest = q.region_decisions(cur, cid, "east", ("proposal",))[0]
    assert newest["id"] == second and json.loads(newest["payload"])["revises"] == first


def test_a_new_run_and_a_lock_are_seen_by_the_next_submit(cur):
    """Cycle-wide events (a new published run, the status) drop the cached cycle."""
    cid = open_cycle(cur, {"east": 220.0, "south": 200.0})
    neg.propose(cur, LEAD_SOUTH, cid, "south", 195, **GOOD, expected_last_event=None)
    # Run 2 suggests 300 for East: 250 is now more than 15% below, so HR must review it.
    neg.publish_run(cur, ANALYST, cid, make_run(2, {"east": 300.0, "south": 200.0}))
    neg.propose(cur, LEAD_EAST, cid, "east", 250, **GOOD, expected_last_event=None)
    row = _state(cur, cid, "east")
    assert row["flagged"] and row["proposal_run_id"] == 2 and row["proposal_suggestion"] == 300
    # Revised within the threshold (no HR review), then both agreed and the cycle locked.
    neg.propose(cur, LEAD_EAST, cid, "east", 290, **GOOD, expected_last_event=row["last_event_id"])
    for region in ("east", "south"):
        seen = _state(cur, cid, region)["last_event_id"]
        neg.respond(cur, EXEC, cid, region, "accept", expected_last_event=seen)
    neg.lock_cycle(cur, EXEC, cid)
    seen = _state(cur, cid, "east")["last_event_id"]
    with pytest.raises(neg.CycleStateError) as refused:
        neg.propose(cur, LEAD_EAST, cid, "east", 260, **GOOD, expected_last_event=seen)
    assert refused.value.key == "nego.err_locked"
    assert neg.verify_chain(cur).ok


def test_two_databases_in_one_process_keep_their_own_cycles(tmp_path):
    """Cycle 1 of one database is not cycle 1 of another: the cache is keyed by the file."""
    a = connect(tmp_path / "a.duckdb").cursor()
    b = connect(tmp_path / "b.duckdb").cursor()
    cid_a = open_cycle(a, {"east": 220.0})
    cid_b = open_cycle(b, {"east": 100.0})
    assert cid_a == cid_b
    seen_a = seen_b = None
    for value in (180, 181):  # alternating; each database warm after its first submit
        seen_a = neg.propose(a, LEAD_EAST, cid_a, "east", value, **GOOD, expected_last_event=seen_a)
        seen_b = neg.propose(b, LEAD_EAST, cid_b, "east", value, **GOOD, expected_last_event=seen_b)
        # 180 is 18% below 220 (flagged) and 80% above 100 (not flagged).
        assert _state(a, cid_a, "east")["flagged"] and not _state(b, cid_b, "east")["flagged"]
    # b's newest decision is not a's: a's form is stale there.
    neg.propose(b, LEAD_EAST, cid_b, "east", 182, **GOOD, expected_last_event=seen_b)
    with pytest.raises(neg.StaleWriteError):
        neg.propose(a, LEAD_EAST, cid_a, "east", 183, **GOOD, expected_last_event=seen_b + 1)
    assert neg.verify_chain(a).ok and neg.verify_chain(b).ok


def test_a_database_replaced_under_the_same_file_is_read_afresh(tmp_path):
    """A restore puts another log under the same name: the cached event's hash no longer
    matches, so the cycle is read again (its suggestion here is 100, not 220)."""
    from calibration.events import copy_database

    path = tmp_path / "live.duckdb"
    con = connect(path)
    cur = con.cursor()
    cid = open_cycle(cur, {"east": 220.0, "south": 200.0})
    neg.propose(cur, LEAD_SOUTH, cid, "south", 195, **GOOD, expected_last_event=None)
    con.close()
    other = connect(tmp_path / "other.duckdb")
    ocur = other.cursor()
    assert open_cycle(ocur, {"east": 100.0, "south": 200.0}) == cid
    neg.propose(ocur, LEAD_SOUTH, cid, "south", 196, **GOOD, expected_last_event=None)
    other.close()
    copy_database(tmp_path / "other.duckdb", path)
    cur = connect(path).cursor()
    neg.propose(cur, LEAD_EAST, cid, "east", 180, **GOOD, expected_last_event=None)
    row = _state(cur, cid, "east")
    assert row["proposal_suggestion"] == 100 and not row["flagged"]
    assert neg.verify_chain(cur).ok


def test_a_cache_behind_the_form_does_not_refuse_it(cur, monkeypatch):
    """An append the cache never heard of (as another process's would be) must not turn a
    form drawn after it into a stale refusal: refusals are decided on the database."""
    from calibration import events

    cid = open_cycle(cur)
    first = neg.propose(cur, LEAD_EAST, cid, "east", 210, **GOOD, expected_last_event=None)
    monkeypatch.setattr(events, "_note", lambda *args, **kwargs: None)
    counter = neg.respond(
        cur,
        EXEC,
        cid,
        "east",
        "counter",
        expected_last_event=first,
        counter_value=215,
        reason="East can reach 215 with the partner channel.",
    )
    monkeypatch.undo()
    revised = neg.propose(cur, LEAD_EAST, cid, "east", 212, **GOOD, expected_last_event=counter)
    row = _state(cur, cid, "east")
    assert row["last_event_id"] == revised and row["proposal_value"] == 212
    assert neg.verify_chain(cur).ok


def test_who_reviews_follows_account_changes(cur):
    """Who HR asks is kept between group commits, by what the policy decides on: a new HR
    account and a role taken away are followed at once."""
    from calibration.store import sso as sq
    from calibration.store import tracking as tq
    from calibration.store import transaction
    from calibration.store import users as uq
    from calibration.store.core import utcnow

    def add_hr(name: str) -> None:
        with transaction(cur):
            uq.insert_user(cur, name, name, "hrbp", "!no-password", [], utcnow())

    def asked() -> dict[str, int]:
        return {u: len(tq.list_notifications(cur, u)) for u in ("hr1", "hr2")}

    add_hr("hr1")
    cid = open_cycle(cur, {"east": 220.0, "south": 200.0, "north": 180.0})
    neg.propose(cur, LEAD_EAST, cid, "east", 150, **GOOD, expected_last_event=None)
    assert asked() == {"hr1": 1, "hr2": 0}
    add_hr("hr2")
    neg.propose(cur, LEAD_SOUTH, cid, "south", 150, **GOOD, expected_last_event=None)
    assert asked() == {"hr1": 2, "hr2": 1}
    with transaction(cur):
        sq.set_role(cur, "hr1", "analyst")
    lead_north = type(LEAD_EAST)("lead_north", "Lead North", "lead", frozenset({"north"}))
    neg.propose(cur, lead_north, cid, "north", 120, **GOOD, expected_last_event=None)
    assert asked() == {"hr1": 2, "hr2": 2}
