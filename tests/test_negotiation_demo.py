"""The demo step seeds an open cycle when the baseline is present and skips otherwise."""

from __future__ import annotations

import sys
import types

import pandas as pd

from calibration.accounts.auth import SYSTEM
from calibration.demo import workshop as demo
from calibration.negotiation import service as neg


def _fake_baseline() -> types.ModuleType:
    mod = types.ModuleType("calibration.modeling.service")
    suggestions = {"east": 220.0, "south": 200.0, "north": 180.0}

    def suggest(cur, metric, period, **_):
        return pd.DataFrame({"region": list(suggestions), "period": period,
                             "suggestion": list(suggestions.values()),
                             "lower80": 0.0, "upper80": 999.0})

    def save_run(cur, actor, metric, period, params=None, origins=8):
        return 7

    def get_run(cur, run_id):
        return {"run_id": run_id, "metric": "new_customers", "period": "2026Q1",
                "regions": suggest(cur, "new_customers", "2026Q1")}

    mod.suggest, mod.save_run, mod.get_run = suggest, save_run, get_run
    return mod


def test_demo_seeds_open_cycle(cur, small_demo, monkeypatch):
    monkeypatch.setenv("CALIBRATE_DEMO_DIR", str(small_demo))
    monkeypatch.setitem(sys.modules, "calibration.modeling.service", _fake_baseline())
    demo.load_demo(cur)
    (cycle,) = neg.list_cycles(cur)
    assert (cycle["status"], cycle["metric"], cycle["period"], cycle["company_target"],
            cycle["run_id"]) == ("open", "new_customers", "2026Q1", 1200.0, 7)
    state = neg.cycle_state(cur, cycle["id"]).set_index("region")
    assert state.loc["east", "status"] == "flagged"
    assert state.loc["south", "status"] == "proposed"
    assert len(neg.thread(cur, SYSTEM, cycle["id"], "east")) == 2
    assert neg.verify_chain(cur).ok


def test_demo_without_baseline_skips(cur, small_demo, monkeypatch):
    monkeypatch.setenv("CALIBRATE_DEMO_DIR", str(small_demo))
    monkeypatch.setitem(sys.modules, "calibration.modeling.service", None)  # import fails
    demo.load_demo(cur)
    assert neg.list_cycles(cur) == []
