"""Every st.cache_* of the app in one place; each key names what the value depends on
(cycle, data version, settings), so a change elsewhere can never serve a stale value."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from calibration import settings
from calibration.accounts.auth import User
from calibration.board import charts as board_charts
from calibration.board import live
from calibration.board import service as board_service
from calibration.board import view as bview
from calibration.modeling import charts as charts_model
from calibration.modeling import lab
from calibration.modeling import service as model_service
from models.baseline import BaselineModel
from models.panel import Panel
from ui import context as ctx

# ---------------------------------------------------------------------------- charts
# Building an Altair chart and converting it is most of a page's rerun: My region's two cost
# ~160 ms of each run together. A page asks for the spec of a builder's chart instead; the
# same inputs (st.cache_data hashes the frames' contents) give the same spec, not built again.


@st.cache_data(max_entries=512, show_spinner=False)
def _chart_spec(name: str, _build: Callable[..., Any], args: tuple, kwargs: dict) -> dict:
    # Validated (to_dict()): a spec is built only when its inputs are new.
    return _build(*args, **kwargs).to_dict()


def chart_spec(build: Callable[..., Any], *args: Any, **kwargs: Any) -> dict:
    """The Vega-Lite spec of build(*args, **kwargs), an Altair chart builder, once per set of
    inputs (for st.vega_lite_chart)."""
    return _chart_spec(f"{build.__module__}.{build.__qualname__}", build, args, kwargs)


# ---------------------------------------------------------------------------- board
# Keyed on the database and the cycle's version (board.service.version): one read per change,
# shared by every screen. Every board role sees all regions, so the first viewer's snapshot
# is valid for the others (hence the unhashed _viewer).


@st.cache_data(max_entries=16, show_spinner=False)
def board_inputs(db: str, metric: str, data_version: tuple) -> dict:
    """Regions, history and signals of a metric: they change only with an import."""
    return board_service.inputs(ctx.cursor(), metric)


@st.cache_resource(max_entries=4, show_spinner=False)
def board_cache(db: str) -> live.BoardCache:
    """The process-wide board cache of a database: each version built once, from the previous
    one plus the events since, and the same objects handed to every screen (read-only)."""
    return live.BoardCache()


def board_snapshot(db: str, cycle_id: int, version: tuple, viewer: User) -> dict:
    """The board's snapshot of a cycle at version (from board_cache: no copy per screen)."""
    # version = (last event, signatures, newest import, regions): the last two are the data's.
    return board_cache(db).snapshot(
        ctx.cursor(),
        viewer,
        cycle_id,
        version,
        load_inputs=lambda metric: board_inputs(db, metric, version[2:]),
    )


def board_view(db: str, cycle_id: int, version: tuple, lang: str, viewer: User) -> dict:
    """Table, headline and rollup, built once per change for all screens (board_cache)."""
    return board_cache(db).view(
        ctx.cursor(),
        viewer,
        cycle_id,
        version,
        lang,
        load_inputs=lambda metric: board_inputs(db, metric, version[2:]),
    )


@st.cache_resource(max_entries=32, show_spinner=False)
def board_styler(
    db: str,
    cycle_id: int,
    version: tuple,
    lang: str,
    tz: str,
    lit: tuple[str, ...],
    _build: Callable[[], Styler],
) -> Styler:
    """The board's styled grid for one version, language, zone and set of marked regions,
    built once (ui/board_table.detail_table) and shared read-only by every screen."""
    return _build()


@st.cache_data(max_entries=32, show_spinner=False)
def board_chart(
    db: str, cycle_id: int, version: tuple, lang: str, big: bool, which: str, _viewer: User
) -> dict:
    """The open tab's chart spec ("regions" or "bridge"), once per change for every screen."""
    # Specs, not Altair objects: converting a chart costs ~25 ms; not validated here (the
    # tests validate the builders).
    view = board_view(db, cycle_id, version, lang, _viewer)
    if which == "regions":
        chart = board_charts.regions_chart(view["table"], lang, big=big)
    else:
        chart = board_charts.bridge_chart(view["headline"], view["table"], lang, big=big)
    return chart.to_dict(validate=False)


@st.cache_data(max_entries=32, show_spinner=False)
def board_allocation(
    db: str, cycle_id: int, version: tuple, method: str, lang: str, big: bool, _viewer: User
) -> tuple[pd.DataFrame, dict]:
    """The what-if allocation and its chart spec, once per change and method."""
    snap = board_snapshot(db, cycle_id, version, _viewer)
    table = board_view(db, cycle_id, version, lang, _viewer)["table"]
    alloc = bview.allocation(snap, table, method)
    return alloc, board_charts.allocation_chart(alloc, lang, big=big).to_dict(validate=False)


@st.cache_data(max_entries=8, show_spinner=False)
def cycle_defaults(db: str, data_version: tuple) -> dict[str, str]:
    """Metrics a new cycle can be set on, each with its next period (they change only with an
    import: data_version is board.service.version's data part)."""
    cur = ctx.cursor()
    return {m: model_service.next_period(cur, m) or "" for m in board_service.cycle_metrics(cur)}


def board_db() -> str:
    """The database the board's caches are keyed on."""
    return settings.db_path()


# --- Model Lab -------------------------------------------------------------------------------
# Keys: database path, data version, metric, target period and the settings as canonical JSON
# (calibration.modeling.lab.params_key), plus language and labels for chart specs.


@st.cache_resource(max_entries=8, show_spinner=False)
def lab_panel(db: str, version: tuple, metric: str) -> Panel:
    """The metric's panel, read once per data version and shared: models only read a Panel
    (signal features are kept by each fit, not on it), so a new setting costs only the fits."""
    return model_service.load_panel(ctx.cursor(), metric)


def _lab_fit_key(params: str) -> tuple[str, dict | None]:
    # The settings that need a fit (canonical JSON), and the analyst scales that need none.
    given = json.loads(params)
    scales = given.pop("scales", None)
    return json.dumps(given, sort_keys=True), scales


@st.cache_resource(max_entries=2, show_spinner=False)
def lab_model(
    db: str, version: tuple, metric: str, period: str, fit: str
) -> tuple[BaselineModel, threading.Lock]:
    """The model fitted for one fit setting (half-life, pooling): suggestions and backtests
    for any analyst scales reuse its fits. Sessions share it, so it is used under its lock.
    Two entries: 10,000 stores' fits are a few hundred MB."""
    panel = lab_panel(db, version, metric)
    return model_service.fitted_model(panel, period, **json.loads(fit)), threading.Lock()


@st.cache_data(ttl=900, max_entries=64, show_spinner=False)
def lab_suggest(db: str, version: tuple, metric: str, period: str, params: str) -> pd.DataFrame:
    """Suggestions for one setting; reruns only when data or settings change. At store
    scale the reasons are left empty: lab_reasons writes those of the regions shown."""
    fit, scales = _lab_fit_key(params)
    model, lock = lab_model(db, version, metric, period, fit)
    none = np.zeros(0, dtype=int) if len(model.regions_) > lab.AGGREGATE_ABOVE else None
    with lock:
        return model_service.suggest(
            ctx.cursor(), metric, period, scales=scales, fitted=model, reasons_for=none
        )


@st.cache_data(ttl=900, max_entries=256, show_spinner=False)
def lab_reasons(
    db: str, version: tuple, metric: str, period: str, params: str, regions: tuple[str, ...]
) -> pd.DataFrame:
    """region, reason_en, reason_zh of some regions only (one parent's stores)."""
    fit, scales = _lab_fit_key(params)
    model, lock = lab_model(db, version, metric, period, fit)
    pos = {r: i for i, r in enumerate(model.regions_)}
    rows = np.array([pos[r] for r in regions if r in pos], dtype=int)
    with lock:
        table = model_service.suggest(
            ctx.cursor(), metric, period, scales=scales, fitted=model, reasons_for=rows
        )
    return table.iloc[rows][["region", "reason_en", "reason_zh"]].reset_index(drop=True)


@st.cache_data(ttl=900, max_entries=64, show_spinner=False)
def lab_backtest(db: str, version: tuple, metric: str, period: str, params: str) -> dict:
    """Backtest for one setting, cached like the suggestions; it reuses the fits of the
    suggestion's model (the origins it adds are fitted once per fit setting)."""
    fit, scales = _lab_fit_key(params)
    model, lock = lab_model(db, version, metric, period, fit)
    with lock:
        return model_service.run_backtest(
            ctx.cursor(), metric, scales=scales, fitted=model, records=False
        )


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
    db: str,
    version: tuple,
    metric: str,
    period: str,
    params: str,
    lang: str,
    focus: str,
    backtest: bool = True,
) -> dict:
    """Backtest (when run) and waterfall chart specs of one region, cached like
    lab_overview_specs."""
    table = lab_suggest(db, version, metric, period, params)
    row = table.set_index("region").loc[focus]
    out = {"waterfall": charts_model.waterfall_chart(row, lang).to_dict(validate=False)}
    if backtest:
        bt = lab_backtest(db, version, metric, period, params)
        one_pred = bt["predictions"][bt["predictions"]["region"] == focus]
        out["backtest"] = charts_model.backtest_chart(one_pred, lang).to_dict(validate=False)
    return out


def lab_backtest_ready(db: str, version: tuple, metric: str, period: str, params: str) -> bool:
    """True when the fit setting's model holds every fit its backtest needs (run before)."""
    fit, _ = _lab_fit_key(params)
    model, lock = lab_model(db, version, metric, period, fit)
    with lock:
        return model_service.backtest_ready(model)
