"""The Model Lab's view of cycles: the sidebar cycle's metric, its published run beside the
current suggestions, and publishing a saved run to a draft or open cycle."""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from calibration.modeling import service as baseline
from calibration.negotiation import service as neg

PREFERRED_METRIC = "new_customers"  # the demo's metric, first when nothing else decides


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
