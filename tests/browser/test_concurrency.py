"""Concurrency in real browsers, small: 3 leads submit at once while 2 boards watch.

The same scenario as the 60-browser load test (tests/browser/test_load.py, `make load`),
sized so `make test` can afford it on a 2-core machine: one Chromium, five contexts, the
three Submit clicks sent together. It proves what the load test proves about correctness
(every proposal stored with the value typed, every board shows them all, the decision log
verifies), not how fast: no timed assertions (CONTRIBUTING).
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
from pathlib import Path

import pytest

from calibration.negotiation import service as neg
from tests.browser.conftest import Server, _need_browser
from tests.browser.load_data import region_ids, seed_workshop
from tests.browser.steps import read_db
from tests.browser.test_load import _scenario

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

LEADS = 3
BOARDS = 2


def test_three_leads_two_boards_at_once(tmp_path: Path) -> None:
    _need_browser()
    db = tmp_path / "small.duckdb"
    cid, suggestions = seed_workshop(db, tmp_path / "data", LEADS)
    # Distinct values per region, so a proposal stored under the wrong region shows.
    suggestions = {r: suggestions[r] + i for i, r in enumerate(region_ids(LEADS))}
    people = ("exec", *(f"lead_{r}" for r in region_ids(LEADS)))
    server = Server(db, {**os.environ, "CALIBRATE_DB": str(db)}, people=people)
    server.start()
    out: dict = {}
    try:
        # Its own thread (own event loop): the session's sync Playwright may be running here.
        worker = threading.Thread(
            target=lambda: out.update(
                asyncio.run(
                    _scenario(server.url, suggestions, tmp_path / "none.tsv", LEADS, BOARDS)
                )
            )
        )
        worker.start()
        worker.join(timeout=540)
        assert not worker.is_alive(), "the scenario did not finish"
        assert out, "the scenario failed (see the output above)"
    finally:
        server.stop()

    # Every page answered without an error; every board reached "3 of 3 proposed"
    # (the scenario waits for that text on each board before it returns).
    assert sum(out["errors"]) == 0, out["errors"]
    assert len(out["records"]) == BOARDS
    for record in out["records"]:
        assert any(
            f"{LEADS} of {LEADS} proposed" in text for _, kind, text in record if kind == "counts"
        ), record

    con = read_db(db)
    try:
        cur = con.cursor()
        state = neg.cycle_state(cur, cid).set_index("region")
        assert (state["status"] == "proposed").all(), state["status"].to_dict()
        assert state["proposal_value"].to_dict() == {
            r: float(math.floor(suggestions[r])) for r in region_ids(LEADS)
        }
        assert neg.verify_chain(cur).ok
    finally:
        con.close()
