"""The websocket load harness (bench/load_harness.py): its parsing, and one small run end to end.

The end-to-end run starts a real server (no browser): 2 leads sign in and submit through
My region's form over Streamlit's protocol, 1 board ticks its live fragment; every proposal
must be saved, seen on the board and stored. No timed assertions (CONTRIBUTING).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
from pathlib import Path

import pyarrow as pa
import pytest

from bench import load_harness
from bench.load_harness import Board, Plan, Step, parse_steps, prepare, run_step, summarise
from bench.st_client import widget_key
from calibration.negotiation import service as neg
from tests.browser.load_data import region_ids
from tests.browser.steps import read_db


def test_widget_key_of_keyed_and_unkeyed_ids() -> None:
    assert widget_key("$$ID-47bec9047a2d-login_username") == "login_username"
    assert widget_key("$$ID-c066ceaad518-None") is None
    assert widget_key("$$ID-15cf-FormSubmitter:login-Sign in") == "FormSubmitter:login-Sign in"
    assert widget_key("plain") is None


def test_steps_are_leads_by_boards_or_totals_split_like_250_to_50() -> None:
    assert parse_steps("10x5, 2x1") == [(10, 5), (2, 1)]
    assert parse_steps("300,20") == [(250, 50), (17, 3)]


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def test_board_notes_a_region_once_when_its_status_is_shown() -> None:
    step = Step(leads=2, boards=1)
    board = Board(session=None, step=step, names={"Region 01": "r01", "Region 02": "r02"})
    first = _ipc(
        pa.table({"Region": ["Region 01", "Region 02"], "Status": ["Proposed", "Waiting"]})
    )
    later = _ipc(pa.table({"Region": ["Region 01", "Region 02"], "Status": ["Agreed", "Proposed"]}))
    other = _ipc(pa.table({"Region": ["Region 02"], "Implied": [3.0]}))  # not the board table
    board.read([(1.0, first), (1.5, other)])
    board.read([(2.0, later)])
    assert board.seen == {"r01": 1.0, "r02": 2.0}
    step.saved, step.sent_at = {"r01", "r02"}, {"r01": 0.5, "r02": 1.0}
    assert step.missing() == 0
    assert step.latencies() == ([0.5, 1.0], [0.5, 1.0])


def test_scenario_runs_while_the_calling_thread_runs_an_event_loop() -> None:
    """A sync Playwright of the same pytest worker keeps a loop running in the main thread:
    run_step's scenario must still run, and its failure must reach the caller."""
    ran: list[str] = []

    async def scenario() -> None:
        ran.append("scenario")

    async def failing() -> None:
        raise ValueError("the scenario failed")

    async def caller() -> None:
        # Called synchronously from inside a running loop, as run_step is in that worker.
        load_harness._run_apart(scenario())
        with pytest.raises(ValueError, match="the scenario failed"):
            load_harness._run_apart(failing())

    # The caller's loop in a thread of its own: this worker's main thread may already run one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, caller()).result(timeout=60)
    assert ran == ["scenario"]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_two_leads_one_board_every_proposal_lands(tmp_path: Path) -> None:
    template, cid, suggestions = prepare(tmp_path, 2)
    step, db = run_step(
        template,
        suggestions,
        2,
        1,
        tmp_path,
        plan=Plan(idle_s=1, submit_window_s=1),
        cycle_id=cid,
    )
    summary = summarise(step, cores=2)

    assert step.errors == []
    assert step.saved == {"r01", "r02"}
    assert summary["pairs_not_seen"] == 0 and summary["ok"]
    assert summary["proposals_stored"] == 2
    assert summary["seen_on_every_board_n"] == 2
    assert summary["tick_n"] > 0 and summary["sign_in_n"] == 3
    con = read_db(db)
    try:
        cur = con.cursor()
        state = neg.cycle_state(cur, cid).set_index("region")
        assert state["proposal_value"].to_dict() == {
            r: float(math.floor(suggestions[r])) for r in region_ids(2)
        }
        assert neg.verify_chain(cur).ok
    finally:
        con.close()
