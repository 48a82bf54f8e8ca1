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


def per_region_scores(
    bt: dict, labels: dict[str, str], regions: pd.Series | None = None
) -> pd.DataFrame:
    """Per-region backtest scores of the model and last year's value, regions by name
    (only `regions` when given: the parent drilled into at store scale)."""
    per = pd.DataFrame(bt["per_region"])
    if per.empty:
        return per
    keep = per["method"].isin(["model", "seasonal_naive"])
    if regions is not None:
        keep &= per["region"].isin(set(regions))
    per = per[keep].copy()
    per["region"] = per["region"].map(lambda r: labels.get(r, r))
    return per


def saved_runs(cur: duckdb.DuckDBPyConnection, metric: str) -> pd.DataFrame:
    """Saved runs of the metric, newest first, settings as compact JSON."""
    runs = baseline.list_runs(cur, metric)
    if runs.empty:
        return runs
    return runs.assign(params=runs["params"].map(lambda s: json.dumps(json.loads(s))))


# More regions than this and the Lab shows totals by parent region and one parent's
# regions at a time: 10,000 store rows in one table, chart or list are not readable and
# every rerun would ship them all to the browser.
AGGREGATE_ABOVE = 200
AGGREGATE_COLUMNS = ("suggestion", "base", "history", "market", "pipeline", "capacity")


def parents(regions: pd.DataFrame) -> dict[str, str]:
    """Region -> its parent region (a region without a parent is its own group)."""
    out = {}
    for region, parent in zip(regions["region"], regions["parent"], strict=True):
        out[region] = parent if isinstance(parent, str) and parent else region
    return out


def aggregate(table: pd.DataFrame, groups: dict[str, str], labels: dict[str, str]) -> pd.DataFrame:
    """One row per parent: label, regions, sums of suggestion, base and contributions, and
    the suggestion's change on the base. Sums add up exactly to the store rows.

    No 80% range is given for a total: the stores' ranges do not add up to one.
    """
    keys = table["region"].map(lambda r: groups.get(r, r))
    sums = table.groupby(keys, sort=True)[list(AGGREGATE_COLUMNS)].sum()
    sums.insert(0, "regions", table.groupby(keys, sort=True).size())
    sums.insert(0, "label", [labels.get(p, p) for p in sums.index])
    base = sums["base"].where(sums["base"] != 0)
    sums["change"] = sums["suggestion"] / base - 1.0
    return sums.rename_axis("parent").reset_index()


def drill(table: pd.DataFrame, groups: dict[str, str], parent: str) -> pd.DataFrame:
    """The rows of one parent's regions (all columns of the suggestion table)."""
    mask = table["region"].map(lambda r: groups.get(r, r)) == parent
    return table[mask.to_numpy()].reset_index(drop=True)
