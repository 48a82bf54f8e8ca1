"""Baseline service: backtests, suggestions and saved model runs, read from the store."""

from __future__ import annotations

import json
import math
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from calibration import access
from calibration.modeling.reasons import with_reasons
from calibration.periods import parse_period
from calibration.store import data as dq
from calibration.store import model_runs as mq
from calibration.store import transaction
from calibration.store.core import utcnow
from models.backtest import CANDIDATES, METHODS, backtest, fits_ready, optimise_nested
from models.baseline import BaselineModel
from models.panel import Panel, build_panel, infer_freq

DEFAULTS: dict[str, Any] = {"half_life": 8.0, "pooling": 12.0, "robust": True, "scales": None}
MODEL_PARAMS = ("half_life", "pooling", "scales", "robust")


def model_params(params: dict | None) -> dict[str, Any]:
    """The service's defaults overlaid with params; `weights` (the former name of
    `scales`, in runs saved before the rename) is read as scales."""
    given = dict(params or {})
    if "weights" in given:
        legacy = given.pop("weights")
        given.setdefault("scales", legacy)
    settings = {**DEFAULTS, **given}
    return {k: settings[k] for k in MODEL_PARAMS}


def parse_scales(text: str | None) -> dict[str, float] | None:
    """Parse 'market=1,pipeline=0.5,capacity=1' into a dict (None for empty)."""
    if not text:
        return None
    out: dict[str, float] = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        key = key.strip()
        if key not in ("market", "pipeline", "capacity"):
            raise ValueError(f"unknown dimension {key!r} (use market, pipeline, capacity)")
        w = float(value)
        if not 0 <= w <= 2:
            raise ValueError(f"scale for {key} must be between 0 and 2")
        out[key] = w
    return out


parse_weights = parse_scales  # the former name


def make_model(
    half_life: float = DEFAULTS["half_life"],
    pooling: float | str = DEFAULTS["pooling"],
    scales: dict[str, float] | None = None,
    robust: bool = True,
    freq: str | None = None,
) -> BaselineModel:
    """A BaselineModel with the service's defaults."""
    return BaselineModel(
        half_life=half_life, pooling=pooling, scales=scales, robust=robust, freq=freq
    )


def load_inputs(
    cur: duckdb.DuckDBPyConnection, metric: str
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """History of metric, the signals of the same frequency, and that frequency."""
    history = dq.load_history(cur, metric)
    if history.empty:
        raise ValueError(f"no history for metric {metric!r}")
    freq = dq.metric_frequency(cur, metric) or infer_freq(history)
    signals = dq.load_signals(cur)
    if "frequency" in signals.columns:
        signals = signals[signals["frequency"] == freq]
    return history, signals, freq


def load_panel(cur: duckdb.DuckDBPyConnection, metric: str) -> Panel:
    """The metric's history and signals as a dense panel (reusable across settings)."""
    history, signals, freq = load_inputs(cur, metric)
    return build_panel(history, signals, freq)


def run_backtest(
    cur: duckdb.DuckDBPyConnection,
    metric: str,
    origins: int = 8,
    half_life: float = DEFAULTS["half_life"],
    pooling: float | str = DEFAULTS["pooling"],
    scales: dict[str, float] | None = None,
    robust: bool = True,
    holt_winters: bool = False,
    panel: Panel | None = None,
    tuning: int = 0,
    fitted: BaselineModel | None = None,
    records: bool = True,
) -> dict:
    """Rolling-origin backtest of the model and naive methods for a stored metric.

    tuning > 0: nested rolling origin, the model's settings (models.backtest.CANDIDATES)
    are chosen on that many origins before the scored ones; `origin_roles` says which.

    Returns JSON-ready keys metric, origins, methods, per_region, seconds, params, plus
    `predictions` (a DataFrame: region, period, method, forecast, lower80, upper80, actual).
    panel: the metric's panel from load_panel, when the caller keeps one.
    fitted: a model from fitted_model() with these settings (its panel is used): the
    backtest reuses its fits, so only the origins it has not fitted yet cost a fit.
    records: per_region as JSON records; False keeps the DataFrame (NaN for no score), which
    at 10,000 stores saves half a second of dicts the Model Lab would turn back into a frame.
    """
    if fitted is not None:
        panel = fitted.panel_
        model = fitted.with_scales(scales)
    else:
        if panel is None:
            panel = load_panel(cur, metric)
        model = make_model(half_life, pooling, scales, robust, panel.freq)
    bt = backtest(
        model=model,
        panel=panel,
        origins=origins,
        holt_winters=holt_winters,
        tuning=tuning,
        candidates=CANDIDATES if tuning else None,
    )
    out = {"metric": metric, **bt.to_dict(records)}
    out["methods"] = {m: _clean(v) for m, v in out["methods"].items()}
    if records:
        out["per_region"] = [_clean(r) for r in out["per_region"]]
    else:
        out["per_region"] = bt.per_region
    out["predictions"] = bt.predictions
    return out


def _clean(d: dict) -> dict:
    # JSON has no NaN: missing scores become null.
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


def _fitted(
    cur: duckdb.DuckDBPyConnection,
    metric: str,
    period: str,
    panel: Panel | None,
    **params: Any,
) -> BaselineModel:
    # The model fitted for period on the metric's panel (read here unless the caller has it).
    if panel is None:
        panel = load_panel(cur, metric)
    p = parse_period(period)
    if p is None or p.freq != panel.freq:
        raise ValueError(f"period {period!r} does not match the metric's frequency {panel.freq}")
    return make_model(freq=panel.freq, **params).fit(None, None, p.label, panel=panel)


def fitted_model(
    panel: Panel,
    period: str,
    half_life: float = DEFAULTS["half_life"],
    pooling: float | str = DEFAULTS["pooling"],
    robust: bool = True,
) -> BaselineModel:
    """The model fitted for period on a panel, without analyst scales: suggest() and
    run_backtest() given it as `fitted` reuse its fits for any scales (one thread at a time)."""
    params = {"half_life": half_life, "pooling": pooling, "robust": robust}
    return _fitted(None, "", period, panel, **params)  # type: ignore[arg-type]


def backtest_ready(fitted: BaselineModel, origins: int = 8) -> bool:
    """True when a run_backtest(fitted=...) of `origins` origins needs no new fit."""
    return fits_ready(fitted, origins)


def suggest(
    cur: duckdb.DuckDBPyConnection,
    metric: str,
    period: str,
    half_life: float = DEFAULTS["half_life"],
    pooling: float | str = DEFAULTS["pooling"],
    scales: dict[str, float] | None = None,
    robust: bool = True,
    panel: Panel | None = None,
    fitted: BaselineModel | None = None,
    reasons_for: np.ndarray | None = None,
) -> pd.DataFrame:
    """Per-region suggestion for period: region, period, suggestion, lower80, upper80, base,
    history, market, pipeline, capacity, reason_en, reason_zh.

    fitted: a model from fitted_model() with these settings and period (no refit).
    reasons_for: positions of the regions that get a reason (default all; others "").
    """
    if fitted is not None:
        model = fitted.with_scales(scales)
    else:
        params = {"half_life": half_life, "pooling": pooling, "scales": scales, "robust": robust}
        model = _fitted(cur, metric, period, panel, **params)
    return with_reasons(*model.explain(), rows=reasons_for)


def suggest_with_signals(
    cur: duckdb.DuckDBPyConnection,
    metric: str,
    period: str,
    panel: Panel | None = None,
    **params: Any,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Like suggest, plus the per-signal table (region, signal, dimension, change, contribution)."""
    model = _fitted(cur, metric, period, panel, **params)
    return with_reasons(*model.explain()), model.signal_table()


def save_run(
    cur: duckdb.DuckDBPyConnection,
    actor: Any,
    metric: str,
    period: str,
    params: dict | None = None,
    origins: int = 8,
) -> int:
    """Fit, backtest and store a model run; returns its run_id. Analysts and admins only."""
    access.require(actor, "model.run")
    chosen = model_params(params)
    panel = load_panel(cur, metric)  # one read for the suggestion and the backtest
    table, signals = suggest_with_signals(cur, metric, period, panel=panel, **chosen)
    bt = run_backtest(cur, metric, origins=origins, panel=panel, **chosen)
    bt.pop("predictions")
    p = parse_period(period)
    assert p is not None
    table = table.replace({np.nan: None})
    with transaction(cur):
        return mq.insert_run(
            cur,
            metric,
            p.label,
            p.ordinal,
            json.dumps(chosen, sort_keys=True),
            json.dumps(bt, ensure_ascii=False, default=float),
            actor.username,
            utcnow(),
            table,
            signals,
        )


def optimise(
    cur: duckdb.DuckDBPyConnection,
    metric: str,
    origins: int = 8,
    half_life: float = DEFAULTS["half_life"],
    pooling: float | str = DEFAULTS["pooling"],
    robust: bool = True,
    start: dict[str, float] | None = None,
    tuning: int = 4,
) -> dict:
    """Dimension scales tuned on earlier origins, scored on the last `origins` (nested).

    Returns scales, wape and start_wape (both on the scoring origins), tuning_wape,
    tuning_origins and scoring_origins.
    """
    history, signals, freq = load_inputs(cur, metric)
    model = make_model(half_life, pooling, start, robust, freq)
    panel = build_panel(history, signals, freq)
    return _clean(optimise_nested(panel, model, origins=origins, tuning=tuning))


def next_period(cur: duckdb.DuckDBPyConnection, metric: str) -> str | None:
    """Label of the period after the metric's last history period (the usual target)."""
    history = dq.load_history(cur, metric)
    if history.empty:
        return None
    last = history.loc[history["ordinal"].idxmax(), "period"]
    p = parse_period(last)
    return p.shift(1).label if p else None


def list_runs(
    cur: duckdb.DuckDBPyConnection, metric: str | None = None, period: str | None = None
) -> pd.DataFrame:
    """Saved runs, newest first (params and backtest as JSON text)."""
    return mq.list_runs(cur, metric, period)


def get_run(cur: duckdb.DuckDBPyConnection, run_id: int) -> dict | None:
    """A saved run: its fields (params/backtest parsed), `regions` and `signals` DataFrames."""
    run = mq.get_run(cur, run_id)
    if run is None:
        return None
    run["params"] = json.loads(run["params"])
    run["backtest"] = json.loads(run["backtest"]) if run.get("backtest") else None
    run["regions"] = mq.run_regions(cur, run_id)
    run["signals"] = mq.run_signals(cur, run_id)
    return run


def latest_run(cur: duckdb.DuckDBPyConnection, metric: str, period: str) -> dict | None:
    """The newest saved run for a metric and period, or None."""
    runs = mq.list_runs(cur, metric, period)
    return get_run(cur, int(runs["run_id"].iloc[0])) if len(runs) else None


__all__ = [
    "METHODS",
    "get_run",
    "latest_run",
    "list_runs",
    "make_model",
    "model_params",
    "next_period",
    "optimise",
    "parse_scales",
    "parse_weights",
    "backtest_ready",
    "fitted_model",
    "run_backtest",
    "save_run",
    "suggest",
    "suggest_with_signals",
]
