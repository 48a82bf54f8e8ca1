"""The board's incremental cache (calibration/board/live.py) equals a fresh build at every step."""

from __future__ import annotations

import pandas as pd
import pytest

from calibration.accounts.auth import User
from calibration.board import live
from calibration.board import service as board_service
from calibration.board import view as bview
from calibration.data import importer
from calibration.negotiation import service as neg
from tests.factories import snapshot as db_rows
from tests.factories import write_small_demo
from tests.nego_fixtures import ANALYST, EXEC, GOOD, HRBP, LEAD_EAST, LEAD_SOUTH, last_id, make_run

LEAD_NORTH = User("lead_north", "Lead North", "lead", frozenset({"north"}))
REGIONS = (
    b"region,name,name_zh,parent,lead\n"
    b"east,East,\xe5\x8d\x8e\xe4\xb8\x9c,china,lead_east\n"
    b"south,South,\xe5\x8d\x8e\xe5\x8d\x97,china,lead_south\n"
    b"north,North,\xe5\x8d\x8e\xe5\x8c\x97,,lead_north\n"
)


@pytest.fixture
def cycle(cur, small_demo):
    """Three regions (two under a parent) with history, an open cycle with a published run."""
    importer.import_bytes(cur, ANALYST, "regions", "regions.csv", REGIONS)
    importer.import_file(cur, ANALYST, "history", write_small_demo(small_demo) / "history.csv")
    cid = neg.create_cycle(cur, EXEC, "2026Q1", "new_customers", "2026Q1", 650)
    neg.publish_run(cur, ANALYST, cid, make_run(1, {"east": 220.0, "south": 200.0, "north": 180.0}))
    neg.open_cycle(cur, EXEC, cid)
    return cid


def _fresh(cur, cid: int, lang: str) -> dict:
    """What the board showed before the cache: a full snapshot and build."""
    return bview.build(board_service.snapshot(cur, EXEC, cid), lang)


def _same(cached: dict, fresh: dict) -> None:
    pd.testing.assert_frame_equal(cached["state"], fresh["state"])
    pd.testing.assert_frame_equal(cached["table"], fresh["table"])
    pd.testing.assert_frame_equal(cached["rollup"], fresh["rollup"])
    assert cached["headline"] == pytest.approx(fresh["headline"], nan_ok=True)
    assert cached["cycle"] == fresh["cycle"]


def test_incremental_board_equals_a_fresh_build_after_every_step(cur, cycle):
    cid, cache = cycle, live.BoardCache()

    def check() -> None:
        version = board_service.version(cur, cid)
        before = db_rows(cur)
        for lang in ("en", "zh"):
            _same(cache.view(cur, EXEC, cid, version, lang), _fresh(cur, cid, lang))
        assert db_rows(cur) == before  # reads never write

    steps = [
        lambda: neg.propose(cur, LEAD_EAST, cid, "east", 200, **GOOD, expected_last_event=None),
        # More than 15% below the suggestion: flagged for HR.
        lambda: neg.propose(cur, LEAD_SOUTH, cid, "south", 150, **GOOD, expected_last_event=None),
        lambda: neg.add_comment(cur, LEAD_EAST, cid, "east", "Two renewals moved to April."),
        lambda: neg.resolve_review(
            cur,
            HRBP,
            cid,
            "south",
            "supported",
            "Checked the pipeline with the lead.",
            expected_last_event=last_id(cur, cid, "south"),
        ),
        lambda: neg.respond(
            cur,
            EXEC,
            cid,
            "east",
            "counter",
            counter_value=210,
            reason="Two trade shows.",
            expected_last_event=last_id(cur, cid, "east"),
        ),
        lambda: neg.accept_counter(
            cur, LEAD_EAST, cid, "east", expected_last_event=last_id(cur, cid, "east")
        ),
        lambda: neg.propose(cur, LEAD_NORTH, cid, "north", 185, **GOOD, expected_last_event=None),
        lambda: neg.respond(
            cur, EXEC, cid, "south", "accept", expected_last_event=last_id(cur, cid, "south")
        ),
        lambda: neg.respond(
            cur, EXEC, cid, "north", "accept", expected_last_event=last_id(cur, cid, "north")
        ),
        # Not a decision: the lock changes the cycle, so the board is read afresh.
        lambda: neg.lock_cycle(cur, EXEC, cid),
    ]
    check()
    for step in steps:
        step()
        check()
    # Eight decision steps and one comment went row by row; the first read and the lock in full.
    assert cache.builds["incremental"] == 8
    assert cache.builds["same"] == 1
    assert cache.builds["full"] == 2
    assert (
        cache.view(cur, EXEC, cid, board_service.version(cur, cid), "en")["cycle"]["status"]
        == "locked"
    )


def test_other_screens_reuse_the_same_board(cur, cycle):
    cache = live.BoardCache()
    version = board_service.version(cur, cycle)
    first = cache.view(cur, EXEC, cycle, version, "en")
    neg.propose(cur, LEAD_EAST, cycle, "east", 200, **GOOD, expected_last_event=None)
    newer = board_service.version(cur, cycle)
    changed = cache.view(cur, EXEC, cycle, newer, "en")
    # Every other screen at that version gets the very same objects: no work, no copy.
    assert cache.view(cur, ANALYST, cycle, newer, "en") is changed
    # A screen still at the older version finds it kept.
    assert cache.view(cur, EXEC, cycle, version, "en") is first
    assert cache.builds == {"full": 1, "incremental": 1}


def test_a_proposal_after_the_version_read_is_not_counted_twice(cur, cycle):
    """The board at a version holds exactly its events, even when a newer one already exists."""
    cache = live.BoardCache()
    version = board_service.version(cur, cycle)
    neg.propose(cur, LEAD_EAST, cycle, "east", 200, **GOOD, expected_last_event=None)
    stale = cache.view(cur, EXEC, cycle, version, "en")
    assert stale["headline"]["proposed"] == 0
    newer = board_service.version(cur, cycle)
    _same(cache.view(cur, EXEC, cycle, newer, "en"), _fresh(cur, cycle, "en"))


def test_a_viewer_who_sees_fewer_regions_gets_only_those(cur, cycle):
    neg.propose(cur, LEAD_SOUTH, cycle, "south", 150, **GOOD, expected_last_event=None)
    cache = live.BoardCache()
    version = board_service.version(cur, cycle)
    snap = cache.snapshot(cur, EXEC, cycle, version)
    assert list(snap["state"]["region"]) == ["east", "north", "south"]
    with pytest.raises(PermissionError):
        cache.view(cur, LEAD_EAST, cycle, version, "en")


def test_a_screen_behind_gets_its_own_version_not_a_later_one(cur, cycle):
    """Building a newer version leaves the older boards as they were (rows are copied)."""
    cache = live.BoardCache()
    v0 = board_service.version(cur, cycle)
    cache.view(cur, EXEC, cycle, v0, "en")
    neg.propose(cur, LEAD_EAST, cycle, "east", 200, **GOOD, expected_last_event=None)
    v1 = board_service.version(cur, cycle)
    neg.propose(cur, LEAD_SOUTH, cycle, "south", 150, **GOOD, expected_last_event=None)
    v2 = board_service.version(cur, cycle)
    _same(cache.view(cur, EXEC, cycle, v2, "en"), _fresh(cur, cycle, "en"))
    behind = cache.view(cur, EXEC, cycle, v1, "en")
    assert cache.builds["incremental"] == 2
    _same(behind, live.BoardCache().view(cur, EXEC, cycle, v1, "en"))
    assert behind["headline"]["proposed"] == 1
