"""Service-level checks of issue 15: keys become words, numbers as people write them."""

from __future__ import annotations

import math

import pandas as pd

from calibration.i18n import language_name, name_of, readable
from calibration.modeling import lab
from calibration.negotiation import forms
from calibration.tracking.service import render_notification
from ui.tables import as_text

MINUS = "\u2212"


def test_a_metric_without_translation_reads_as_words_never_its_key() -> None:
    assert name_of("metric", "new_customers", "en") == "New customers"
    assert name_of("metric", "new_customers", "zh") == "新客户数"
    assert name_of("metric", "repeat_orders_q", "zh") == "Repeat orders q"
    assert readable("gross_margin") == "Gross margin"
    assert language_name("en") == "English" and language_name("zh") == "中文"


def test_saved_run_settings_read_as_words_not_json() -> None:
    text = lab.settings_text(
        {"half_life": 8.0, "pooling": 12.0, "scales": {"market": 1.25, "pipeline": 1}}, "en"
    )
    assert text == "Half-life 8 · Pooling 12 · Market ×1.2 · Pipeline ×1"


def test_backtest_scores_have_words_and_percentages() -> None:
    bt = {"methods": {"model": {"wape": 0.08234, "mape": None, "bias": -0.0111, "coverage80": 0.8}}}
    scores = lab.method_scores(bt, "en")
    shown = as_text(scores, percent=lab.SCORES)
    row = shown.iloc[0].to_dict()
    assert row == {
        "method": "Baseline model",
        "wape": "8.2%",
        "mape": "–",
        "bias": f"{MINUS}1.1%",
        "coverage80": "80%",
    }


def test_table_cells_never_show_none_nan_or_long_decimals() -> None:
    frame = pd.DataFrame(
        {
            "name": ["a", None],
            "value": [141.2391, math.nan],
            "at": [pd.Timestamp("2026-01-02 03:04:05"), pd.NaT],
            "pace": [0.9857, 1.0],
        }
    )
    shown = as_text(frame, percent=["pace"])
    assert shown.to_dict("list") == {
        "name": ["a", "–"],
        "value": ["141", "–"],
        "at": ["2026-01-02 03:04", "–"],
        "pace": ["98.6%", "100%"],
    }


def test_hr_support_items_and_resolved_values_in_words() -> None:
    items = [{"kind": "headcount", "amount": 1.0, "description": "Account executive"}]
    table = forms.support_items_table(items, "zh")
    assert table.to_dict("records") == [
        {"kind": "人员", "amount": "1", "description": "Account executive"}
    ]
    assert forms.fmt(90.7427) == "91"
    assert forms.pct(0.318) == "31.8%"


def test_tracking_messages_say_percentages_with_at_most_one_decimal() -> None:
    text = render_notification(
        "tracking.inbox.alert",
        {"region_en": "East", "below": 0.85, "pace": 0.98571, "run_days": 3, "day": "2026-01-05"},
        "en",
    )
    assert "98.6%" in text and "85%" in text and "0.98" not in text
