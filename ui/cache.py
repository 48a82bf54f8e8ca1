"""Every st.cache_* of the app in one place; each key names what the value depends on
(cycle, data version, settings), so a change elsewhere can never serve a stale value."""

from __future__ import annotations

# --- Model Lab -------------------------------------------------------------------------------
# Keys: database path, data version, metric, target period and the settings as canonical JSON
# (calibration.modeling.lab.params_key), plus language and labels for chart specs.
import json

import pandas as pd
import streamlit as st

from calibration.modeling import charts as charts_model
from calibration.modeling import service as model_service
from models.panel import Panel
from ui import context as ctx


@st.cache_resource(max_entries=8, show_spinner=False)
def lab_panel(db: str, version: tuple, metric: str) -> Panel:
    """The metric's panel, read once per data version and shared: models only read a Panel
    (signal features are kept by each fit, not on it), so a new setting costs only the fits."""
    return model_service.load_panel(ctx.cursor(), metric)


@st.cache_data(ttl=900, max_entries=64, show_spinner=False)
def lab_suggest(db: str, version: tuple, metric: str, period: str, params: str) -> pd.DataFrame:
    """Suggestions for one setting; reruns only when data or settings change."""
    panel = lab_panel(db, version, metric)
    return model_service.suggest(ctx.cursor(), metric, period, panel=panel, **json.loads(params))


@st.cache_data(ttl=900, max_entries=64, show_spinner=False)
def lab_backtest(db: str, version: tuple, metric: str, params: str) -> dict:
    """Backtest for one setting, cached like the suggestions."""
    panel = lab_panel(db, version, metric)
    return model_service.run_backtest(ctx.cursor(), metric, panel=panel, **json.loads(params))


@st.cache_data(ttl=900, max_entries=64, show_spinner=False)
def lab_overview_specs(
    db: str, version: tuple, metric: str, period: str, params: str, lang: str, labels: tuple
) -> dict:
    """Suggestion and driver chart specs: building Altair charts is most of a rerun's cost, so
    a setting seen before costs none of it (the builders are validated in the tests)."""
    table = lab_suggest(db, version, metric, period, params).copy()
    table["label"] = table["region"].map(lambda r: dict(labels).get(r, r))
    return {
        "suggestion": charts_model.suggestion_chart(table, lang).to_dict(validate=False),
        "drivers": charts_model.drivers_chart(table, lang).to_dict(validate=False),
    }


@st.cache_data(ttl=900, max_entries=256, show_spinner=False)
def lab_focus_specs(
    db: str, version: tuple, metric: str, period: str, params: str, lang: str, focus: str
) -> dict:
    """Backtest and waterfall chart specs of one region, cached like lab_overview_specs."""
    bt = lab_backtest(db, version, metric, params)
    table = lab_suggest(db, version, metric, period, params)
    one_pred = bt["predictions"][bt["predictions"]["region"] == focus]
    row = table.set_index("region").loc[focus]
    return {
        "backtest": charts_model.backtest_chart(one_pred, lang).to_dict(validate=False),
        "waterfall": charts_model.waterfall_chart(row, lang).to_dict(validate=False),
    }
