"""The board's view and respond services (calibration/board/view.py, respond.py): no Streamlit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibration.board import respond
from calibration.board import view as bview
from tests.test_board import REGIONS, make_history, make_signals, make_state


def snapshot(**state: list) -> dict:
    """A snapshot as board.service.snapshot returns it, for three regions a, b, c."""
    return {
        "cycle": {"id": 1, "period": "2026Q1", "company_target": 1000.0, "status": "open"},
        "state": make_state(**state),
        "regions": REGIONS,
        "history": make_history(),
        "signals": make_signals(),
        "signed": 0,
    }


def test_view_of_an_empty_state_has_no_table():
    snap = snapshot()
    snap["state"] = snap["state"].iloc[0:0]
    assert set(bview.build(snap, "en")) == {"cycle", "state"}


def test_view_builds_table_headline_and_rollup():
    view = bview.build(snapshot(proposal_value=[120.0, np.nan, np.nan]), "en")
    assert list(view["table"]["name"]) == ["Alpha", "Beta", "Gamma"]
    assert view["headline"]["proposed"] == 1
    assert view["headline"]["company_target"] == 1000.0
    assert not view["rollup"].empty


def test_fmt_dashes_missing_and_signs_percentages():
    assert bview.fmt(None) == "–"
    assert bview.fmt(float("nan"), pct=True) == "–"
    assert bview.fmt(1234.4) == "1,234"
    assert bview.fmt(2.34, pct=True) == "+2.3%"
    assert bview.fmt(-5.0, pct=True) == "\u22125%"  # one true minus sign, no ".0"
    assert bview.fmt(-0.01, pct=True) == "0%"  # never "−0"


def test_shown_table_marks_lit_regions_and_keeps_numbers():
    view = bview.build(snapshot(), "en")
    shown = bview.shown_table(view["table"], {"b"}, big=False, lang="en")
    col = bview.column_labels("en")
    assert list(shown[""]) == ["", "●", ""]
    # Regions have parents: the parent column sits after the name.
    assert list(shown.columns[:3]) == ["", col["region"], col["parent"]]
    assert shown[col["suggestion"]].tolist() == [100.0, 200.0, 400.0]
    assert shown[col["interval"]].iloc[0] == "90 – 150"
    # No proposal yet: the current number is the suggestion, shown as missing with no source.
    assert shown[col["proposal"]].isna().all()
    assert (shown[col["source"]] == "–").all()


def test_shown_table_for_the_projector_has_fewer_columns():
    view = bview.build(snapshot(), "zh")
    shown = bview.shown_table(view["table"], set(), big=True, lang="zh")
    col = bview.column_labels("zh")
    assert list(shown.columns) == [col[k] for k in bview.BIG_COLUMNS]
    assert list(shown[col["region"]]) == ["甲", "乙", "丙"]


def test_allocation_carries_names_and_its_table_is_text():
    snap = snapshot()
    view = bview.build(snap, "en")
    alloc = bview.allocation(snap, view["table"], "suggestion")
    assert set(alloc["name"]) == {"Alpha", "Beta", "Gamma"}
    frame = bview.allocation_table(alloc, "en")
    assert len(frame) == 3
    assert all(isinstance(v, str) for v in frame.iloc[:, 1])


def test_respond_queue_orders_proposed_then_flagged_then_countered():
    table = pd.DataFrame(
        {"region": ["a", "b", "c", "d"], "status": ["countered", "flagged", "none", "proposed"]}
    )
    assert respond.queue(table) == ["d", "b", "a", "c"]
    assert respond.default_region(table) == 3
    done = pd.DataFrame({"region": ["a"], "status": ["agreed"]})
    assert respond.queue(done) == []
    assert respond.default_region(done) == 0
    assert respond.nothing_to_answer(done)
    assert not respond.nothing_to_answer(table)


def test_seen_events_and_last_event_read_missing_as_none():
    state = make_state(last_event_id=[3.0, np.nan, 7.0])
    assert respond.seen_events(state) == {"a": 3, "b": None, "c": 7}
    assert respond.last_event(state) == 7
    assert respond.last_event(make_state()) is None


def test_send_rows_leave_out_kept_and_agreed_regions():
    alloc = pd.DataFrame(
        {
            "region": ["a", "b", "c"],
            "name": ["Alpha", "Beta", "Gamma"],
            "implied": [100.4, 200.6, 300.0],
            "kept": [False, False, True],
        }
    )
    table = pd.DataFrame(
        {
            "region": ["a", "b", "c"],
            "status": ["agreed", "proposed", "agreed"],
            "last_event_id": [1.0, np.nan, 2.0],
        }
    )
    rows = respond.send_rows(alloc, table)
    assert rows.to_dict("records") == [
        {"region": "b", "name": "Beta", "implied": 201.0, "seen": None}
    ]


def test_counter_offers_take_the_common_reason_when_blank():
    rows = pd.DataFrame({"region": ["a", "b", "c"], "seen": [4, None, 9]})
    edited = [
        {"send": True, "value": 110.0, "why": "  "},
        {"send": False, "value": 210.0, "why": "skip"},
        {"send": True, "value": 310.0, "why": " own reason "},
    ]
    offers = respond.counter_offers(rows, edited, "common", "send", "value", "why")
    assert offers == [
        {"region": "a", "value": 110.0, "reason": "common", "expected_last_event": 4},
        {"region": "c", "value": 310.0, "reason": "own reason", "expected_last_event": 9},
    ]


def test_lock_summary_against_the_target():
    assert respond.lock_summary(911, 1200, "en") == "911 agreed, 289 below the company's 1,200."
    assert "1,200" in respond.lock_summary(1200.2, 1200, "en")
    assert respond.lock_summary(911, None, "en") != respond.lock_summary(911, 1200, "en")


def test_hr_overrides_lists_only_overridden_regions():
    state = make_state()
    state["hr_override_reason"] = [None, "Market entry", None]
    state["hr_override_by"] = [None, "exec", None]
    assert respond.hr_overrides(state) == [{"region": "b", "by": "exec", "reason": "Market entry"}]
