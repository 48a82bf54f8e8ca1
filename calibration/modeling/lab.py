"""What the Model Lab page draws, built from the store and the model (no Streamlit)."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pandas as pd

from calibration.modeling import service as baseline
from calibration.negotiation import service as neg
from calibration.store import data as dq

DIMENSIONS = ("market", "pipeline", "capacity")
PREFERRED_METRIC = "new_customers"  # the demo's metric, first when nothing else decides


def metrics(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """The stored metrics the Lab can model."""
    return dq.list_metrics(cur)["metric"].tolist()


def cycle_metric(
    cur: duckdb.DuckDBPyConnection, choices: list[str], cycle_id: int | None
) -> str | None:
    """The metric of the sidebar's cycle when the Lab can model it, else None."""
    cycle = neg.get_cycle(cur, cycle_id) if cycle_id is not None else None
    return cycle["metric"] if cycle and cycle["metric"] in choices else None


def default_metric(cur: duckdb.DuckDBPyConnection, choices: list[str], cycle_id: int | None) -> int:
    """Index of the metric to open on: the sidebar cycle's, else new_customers, else the first."""
    metric = cycle_metric(cur, choices, cycle_id)
    if metric is not None:
        return choices.index(metric)
    return choices.index(PREFERRED_METRIC) if PREFERRED_METRIC in choices else 0


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


def published_comparison(
    cur: duckdb.DuckDBPyConnection,
    cycle_id: int | None,
    metric: str,
    period: str,
    table: pd.DataFrame,
) -> tuple[dict, pd.DataFrame] | None:
    """The sidebar cycle and its published suggestions next to the current ones (label,
    published, suggestion, change), when that cycle is for this metric and period."""
    cycle = neg.get_cycle(cur, cycle_id) if cycle_id is not None else None
    if not (cycle and cycle["metric"] == metric and cycle["period"] == period and cycle["run_id"]):
        return None
    published = baseline.get_run(cur, int(cycle["run_id"]))
    if published is None:
        return None
    cmp = table[["region", "label", "suggestion"]].merge(
        published["regions"][["region", "suggestion"]].rename(columns={"suggestion": "published"}),
        on="region",
        how="left",
    )
    cmp["change"] = cmp["suggestion"] - cmp["published"]
    return cycle, cmp[["label", "published", "suggestion", "change"]]


def saved_runs(cur: duckdb.DuckDBPyConnection, metric: str) -> pd.DataFrame:
    """Saved runs of the metric, newest first, settings as compact JSON."""
    runs = baseline.list_runs(cur, metric)
    if runs.empty:
        return runs
    return runs.assign(params=runs["params"].map(lambda s: json.dumps(json.loads(s))))


def publish_choices(
    cur: duckdb.DuckDBPyConnection, metric: str, period: str, runs: pd.DataFrame
) -> tuple[list[int], dict[int, str]]:
    """Saved runs of the period and the draft/open cycles of metric and period (id: name)."""
    targets = {
        c["id"]: c["name"]
        for c in neg.list_cycles(cur)
        if c["metric"] == metric and c["period"] == period and c["status"] in ("draft", "open")
    }
    period_runs = runs[runs["period"] == period]["run_id"].tolist() if len(runs) else []
    return [int(r) for r in period_runs], targets


def publish_saved(
    cur: duckdb.DuckDBPyConnection,
    user: Any,
    cycle_id: int,
    run_id: int,
    metric: str,
    period: str,
) -> None:
    """Publish a saved run's suggestions to a cycle (the cycle's rules decide who may)."""
    saved = baseline.get_run(cur, run_id)
    if saved is None:
        raise ValueError(f"model run {run_id} does not exist")
    neg.publish_run(
        cur,
        user,
        cycle_id,
        {"run_id": run_id, "metric": metric, "period": period, "regions": saved["regions"]},
    )
