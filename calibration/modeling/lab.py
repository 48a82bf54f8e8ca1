"""What the Model Lab page draws, built from the store and the model (no Streamlit)."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pandas as pd

from calibration import numbers
from calibration.accounts import directory
from calibration.i18n import t
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
    """An error score (a fraction) as a percentage with one decimal, "–" when there is none."""
    return numbers.percent(value)


def settings_text(params: dict[str, Any], lang: str = "en") -> str:
    """A run's settings in words: "Half-life 8 · Pooling 10 · Market ×1.2 · …"."""
    parts = []
    for key in ("half_life", "pooling"):
        if key in params:
            value = numbers.number(params[key], "measure")
            parts.append(f"{t(f'model_lab.setting.{key}', lang)} {value}")
    for dim, scale in (params.get("scales") or {}).items():
        parts.append(f"{t(f'model.dimension.{dim}', lang)} ×{numbers.number(scale, 'measure')}")
    return " · ".join(parts) or "–"


def optimised_summary(res: dict, lang: str = "en") -> dict[str, str]:
    """The values of the "scales tuned" message: scales, origins and WAPE before/after."""
    return {
        "scales": settings_text({"scales": res["scales"]}, lang),
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


SCORES = ("wape", "mape", "bias", "coverage80")


def method_scores(bt: dict, lang: str = "en") -> pd.DataFrame:
    """The backtest's score per method (method in lang's words; scores are fractions)."""
    rows = [
        {"method": t(f"model_lab.method.{m}", lang), **{k: s.get(k) for k in SCORES}}
        for m, s in bt["methods"].items()
    ]
    return pd.DataFrame(rows, columns=["method", *SCORES])


def per_region_scores(
    bt: dict, labels: dict[str, str], lang: str = "en", regions: pd.Series | None = None
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
    per["method"] = [t(f"model_lab.method.{m}", lang) for m in per["method"]]
    return per[["region", "method", *[k for k in SCORES if k in per]]]


def runs_view(
    cur: duckdb.DuckDBPyConnection, actor: Any, metric: str, lang: str = "en"
) -> pd.DataFrame:
    """Saved runs for people: settings in words, who saved it by name (newest first)."""
    runs = baseline.list_runs(cur, metric)
    if runs.empty:
        return runs
    names = directory.display_names(cur, actor, lang)
    return pd.DataFrame(
        {
            "run_id": runs["run_id"],
            "period": runs["period"],
            "params": [settings_text(json.loads(p), lang) for p in runs["params"]],
            "created_by": [directory.person(names, u) for u in runs["created_by"]],
            "created_at": runs["created_at"],
        }
    )


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


def fill_reasons(rows: pd.DataFrame, reasons: pd.DataFrame) -> pd.DataFrame:
    """The rows with reason_en and reason_zh taken from `reasons` (by region)."""
    by = reasons.set_index("region")
    out = rows.copy()
    for col in ("reason_en", "reason_zh"):
        out[col] = out["region"].map(by[col]).fillna("")
    return out
