"""Actuals as daily values: running totals turned into per-day amounts, checked."""

from __future__ import annotations

from datetime import date

import pandas as pd


class DecreasingCumulativeError(ValueError):
    """Cumulative actuals went down; `rows` lists every offending (region, date, prev, value)."""

    def __init__(self, rows: list[tuple[str, date, float, float]]) -> None:
        self.rows = rows
        region, day, prev, value = rows[0]
        more = f" (and {len(rows) - 1} more)" if len(rows) > 1 else ""
        super().__init__(
            f"cumulative actuals decrease for region {region} on {day:%Y-%m-%d}: "
            f"{value:g} after {prev:g}{more}; send daily values or fix the running total"
        )


def to_daily(actuals_df: pd.DataFrame, cumulative: bool) -> pd.DataFrame:
    """Daily values `region, date, value` (+ `metric` if present) from daily or running totals."""
    keys = ["region", "metric"] if "metric" in actuals_df.columns else ["region"]
    missing = {"region", "date", "value"} - set(actuals_df.columns)
    if missing:
        raise ValueError(f"actuals need columns region, date, value; missing {sorted(missing)}")
    df = actuals_df[[*keys, "date", "value"]].copy()
    df["date"] = pd.to_datetime(df["date"]).dt.normalize()
    df["value"] = pd.to_numeric(df["value"]).astype("float64")
    if not cumulative:
        # Several rows for one day (e.g. one per deal) add up.
        return df.groupby([*keys, "date"], as_index=False, sort=True)["value"].sum()
    dup = df.duplicated([*keys, "date"], keep=False)
    if dup.any():
        r = df[dup].iloc[0]
        raise ValueError(
            f"cumulative actuals list region {r['region']} twice on {r['date']:%Y-%m-%d}; "
            "a running total has one value per day"
        )
    df = df.sort_values([*keys, "date"], kind="stable").reset_index(drop=True)
    prev = df.groupby(keys, sort=False)["value"].shift(1)
    bad = prev.notna() & (df["value"] < prev)
    if bad.any():
        rows = [
            (str(r), d.date(), float(p), float(v))
            for r, d, p, v in zip(
                df.loc[bad, "region"],
                df.loc[bad, "date"],
                prev[bad],
                df.loc[bad, "value"],
                strict=True,
            )
        ]
        raise DecreasingCumulativeError(rows)
    # The first running total is the amount since the start of the period.
    df["value"] = df["value"] - prev.fillna(0.0)
    return df
