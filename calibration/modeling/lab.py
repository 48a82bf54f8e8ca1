"""What the Model Lab page draws, built from the store and the model (no Streamlit)."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pandas as pd

from calibration.modeling import service as baseline
from calibration.store import data as dq

DIMENSIONS = ("market", "pipeline", "capacity")


def metrics(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """The stored metrics the Lab can model."""
    return dq.list_metrics(cur)["metric"].tolist()


def span(labels: list[str]) -> str:
    """First–last of a list of period labels ("–" when empty)."""
    return f"{labels[0]}–{labels[-1]}" if labels else "–"


def score(value: float | None) -> str:
    """A score with three decimals, "–" when there is none."""
    return "–" if value is None else f"{value:.3f}"


def optimised_summary(res: dict) -> dict[str, str]:
    """The values of the "scales tuned" message: scales, origins and WAPE before/after."""
    return {
        "scales": ", ".join(f"{k}={v:g}" for k, v in res["scales"].items()),
        "tuning": span(res["tuning_origins"]),
        "scoring": span(res["scoring_origins"]),
        "before": score(res["start_wape"]),
        "after": score(res["wape"]),
    }


def params_key(params: dict[str, Any]) -> str:
    """The settings as canonical JSON: one cache key per distinct setting."""
    return json.dumps(params, sort_keys=True)


def with_labels(table: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """A copy of a per-region table with a `label` column (the region's display name)."""
    out = table.copy()
    out["label"] = out["region"].map(lambda r: labels.get(r, r))
    return out


def per_region_scores(bt: dict, labels: dict[str, str]) -> pd.DataFrame:
    """Per-region backtest scores of the model and last year's value, regions by name."""
    per = pd.DataFrame(bt["per_region"])
    if per.empty:
        return per
    per = per[per["method"].isin(["model", "seasonal_naive"])].copy()
    per["region"] = per["region"].map(lambda r: labels.get(r, r))
    return per


def saved_runs(cur: duckdb.DuckDBPyConnection, metric: str) -> pd.DataFrame:
    """Saved runs of the metric, newest first, settings as compact JSON."""
    runs = baseline.list_runs(cur, metric)
    if runs.empty:
        return runs
    return runs.assign(params=runs["params"].map(lambda s: json.dumps(json.loads(s))))
