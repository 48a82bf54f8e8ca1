"""Tracking of a locked cycle: planned path, projection, status, warnings, escalations, FVA.

Pure pandas/numpy: no Streamlit, no database. The store and pages call these functions.

Frame conventions (column names are the contract):
- path: `region, date, planned_cum` (cumulative plan at the end of each day of the period),
  as returned by `planned_path`; the last row per region equals the agreed target.
- actuals: `region, date, value` with *daily* values (see `to_daily` for cumulative input);
  extra columns (e.g. `metric`) are ignored, so filter to one metric before calling.
  Days without a row count as zero; actuals outside the path's dates or regions are ignored.

Design decisions (see also the module constants):
- Pace is cumulative: actual-to-date / planned-to-date. A day on which nothing was planned
  yet has no pace (NaN) and counts as on track, because nothing was due.
- Status: green when pace >= green (0.95), amber when pace >= amber (0.85), else red.
- Early warning: raised on a day when the upper bound of the 80% interval of the projection
  is below the target (so we are ~90% sure of a miss) and at least 14 days remain after that
  day. `rule="projected"` warns on projected < target instead (earlier, more false alarms).
- Escalation "weeks" are rolling blocks of 7 consecutive days ending on the evaluation
  day: "2 weeks below 70%" means pace < 0.70 on each of the last 14 days. This does not
  depend on the weekday the period starts and has no partial first week.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import ndimage, stats

from calibration.i18n import t
from calibration.periods import Period, parse_period, period_bounds

STATUSES = ("green", "amber", "red")
STATUS_COLORS = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828"}
ROOT_CAUSES = ("external_resistance", "resource_gap", "other")
MIN_WARNING_DAYS = 14

EscalationKind = Literal["alert", "reminder", "escalation"]
WarningRule = Literal["upper", "projected"]

_FREQ_ALIAS = {"Q": "Q", "M": "M", "A": "Y"}
# Pace comes from cumulative sums of floats, so a region exactly on a threshold (95 of 100)
# may compute as 0.9499999999999998; comparisons allow this much slack so float noise never
# flips a boundary.
PACE_EPS = 1e-9


# --------------------------------------------------------------------------------------
# Parameters (per cycle; the store may persist them with dataclasses.asdict)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusThresholds:
    """Pace thresholds of the red/amber/green status: green >= green, amber >= amber."""

    green: float = 0.95
    amber: float = 0.85

    def __post_init__(self) -> None:
        if not 0 <= self.amber <= self.green:
            raise ValueError(f"need 0 <= amber <= green, got {self.amber}, {self.green}")


@dataclass(frozen=True)
class EscalationRules:
    """The seed ladder: days of consecutive pace below a ratio of the path."""

    reminder_below: float = 0.70
    reminder_days: int = 14  # 2 rolling weeks
    escalation_days: int = 21  # 3 rolling weeks
    alert_below: float = 0.85
    alert_days: int = 3

    def __post_init__(self) -> None:
        if not 0 < self.reminder_days <= self.escalation_days:
            raise ValueError("need 0 < reminder_days <= escalation_days")
        if self.alert_days <= 0:
            raise ValueError("alert_days must be positive")


@dataclass(frozen=True)
class Escalation:
    """One triggered rung of the ladder; `key` is stable across daily re-evaluations."""

    region: str
    kind: EscalationKind
    level: int  # 0 alert, 1 reminder to the lead, 2 escalation to the executive
    triggered_on: date
    detail: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> tuple[str, str, date]:
        """Identity for de-duplication by the caller: (region, kind, triggered_on)."""
        return (self.region, self.kind, self.triggered_on)


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


# --------------------------------------------------------------------------------------
# Actuals input
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Planned path
# --------------------------------------------------------------------------------------


def _as_period(period: Period | str) -> Period:
    p = period if isinstance(period, Period) else parse_period(period)
    if p is None:
        raise ValueError(f"unparseable period {period!r}")
    return p


def _history_profiles(
    history: pd.DataFrame,
    period: Period,
    n_days: int,
    same_season: bool,
    min_periods: int,
) -> pd.DataFrame:
    """Mean cumulative-share curve per region on the target period's day grid (rows=regions)."""
    start, _ = period_bounds(period)
    h = history[["region", "date", "value"]].copy()
    h["date"] = pd.to_datetime(h["date"]).dt.normalize()
    h["value"] = pd.to_numeric(h["value"]).astype("float64")
    if h.empty:
        return pd.DataFrame()
    per = h["date"].dt.to_period(_FREQ_ALIAS[period.freq])
    h["p_start"] = per.dt.start_time.dt.normalize()
    h["p_end"] = per.dt.end_time.dt.normalize()
    # Only whole past periods: inside the span the history file covers (a missing day inside
    # the span is a zero, one outside it is unknown), and ended before this period starts.
    lo, hi = h["date"].min(), h["date"].max()
    keep = (h["p_start"] >= lo) & (h["p_end"] <= hi) & (h["p_end"] < start)
    if same_season and period.freq != "A":
        season = per.dt.quarter if period.freq == "Q" else per.dt.month
        keep &= season == period.sub
    h = h[keep]
    if h.empty:
        return pd.DataFrame()
    h["day"] = (h["date"] - h["p_start"]).dt.days
    h["length"] = (h["p_end"] - h["p_start"]).dt.days + 1
    daily = h.groupby(["region", "p_start", "day"], sort=True)["value"].sum()
    groups = daily.groupby(level=["region", "p_start"], sort=True)
    totals = groups.sum()
    good = totals[totals > 0].index
    if len(good) == 0:
        return pd.DataFrame()
    lengths = h.groupby(["region", "p_start"])["length"].first().loc[good].to_numpy()
    # Dense array (groups x days) of daily values, then cumulative with a leading zero, so a
    # period of any length maps onto this period's grid by its elapsed fraction.
    daily = daily[daily.index.droplevel("day").isin(good)]
    gidx = pd.MultiIndex.from_arrays(
        [daily.index.get_level_values(0), daily.index.get_level_values(1)]
    )
    g = good.get_indexer(gidx)
    width = int(lengths.max())
    dense = np.zeros((len(good), width))
    np.add.at(dense, (g, daily.index.get_level_values("day").to_numpy()), daily.to_numpy())
    cum = np.concatenate([np.zeros((len(good), 1)), np.cumsum(dense, axis=1)], axis=1)
    total = cum[np.arange(len(good)), lengths]
    pos = np.arange(1, n_days + 1)[None, :] / n_days * lengths[:, None]
    k = np.minimum(np.floor(pos).astype(int), lengths[:, None] - 1)
    frac = pos - k
    rows = np.arange(len(good))[:, None]
    curve = (cum[rows, k] + frac * (cum[rows, k + 1] - cum[rows, k])) / total[:, None]
    curves = pd.DataFrame(curve, index=good.get_level_values("region"))
    counts = curves.groupby(level=0).size()
    mean = curves.groupby(level=0).mean()
    return mean[counts.reindex(mean.index) >= min_periods]


def planned_path(
    targets: Mapping[str, float] | pd.Series,
    period: Period | str,
    history: pd.DataFrame | None = None,
    *,
    smooth_days: int = 7,
    same_season: bool = False,
    min_periods: int = 1,
) -> pd.DataFrame:
    """Agreed targets spread over the period's days by each region's history profile, else evenly.

    Returns `region, date, planned_cum`, one row per region and day; the last day equals the
    target exactly. `history` is daily actuals `region, date, value` of past periods; a
    region's profile is the mean cumulative-share curve over its whole past periods of the
    same frequency (only the same quarter/month of the year when `same_season`), with daily
    shares smoothed by a centred `smooth_days` moving average (weekday patterns of different
    years do not line up, and a single noisy period should not make a jagged plan).
    """
    p = _as_period(period)
    start, end = period_bounds(p)
    dates = pd.date_range(start, end, freq="D")
    n = len(dates)
    tgt = pd.Series(targets, dtype="float64")
    if tgt.isna().any():
        raise ValueError(f"target missing for region(s) {list(tgt.index[tgt.isna()])}")
    regions = tgt.index.astype(str)
    shares = np.full((len(regions), n), 1.0 / n)
    if history is not None and len(history):
        hist = history.assign(region=history["region"].astype(str))
        prof = _history_profiles(hist, p, n, same_season, min_periods)
        rows = prof.index.get_indexer(regions) if len(prof) else np.full(len(regions), -1)
        has = rows >= 0
        if has.any():
            curve = prof.to_numpy()[rows[has]]
            daily = np.diff(curve, axis=1, prepend=0.0)
            if smooth_days > 1:
                daily = ndimage.uniform_filter1d(daily, smooth_days, axis=1, mode="reflect")
            daily = np.clip(daily, 0.0, None)
            shares[has] = daily / daily.sum(axis=1, keepdims=True)
    cum = np.cumsum(shares, axis=1)
    cum[:, -1] = 1.0  # exact end, whatever the rounding of the cumulative sum
    planned = cum * tgt.to_numpy()[:, None]
    return pd.DataFrame(
        {
            "region": np.repeat(regions.to_numpy(), n),
            "date": np.tile(dates.to_numpy(), len(regions)),
            "planned_cum": planned.ravel(),
        }
    )


# --------------------------------------------------------------------------------------
# Daily frame: the one place path and actuals are joined
# --------------------------------------------------------------------------------------


def _daily_frame(path_df: pd.DataFrame, actuals_df: pd.DataFrame) -> pd.DataFrame:
    """Path joined with daily actuals: per region and day planned, actual and cumulatives."""
    f = path_df[["region", "date", "planned_cum"]].copy()
    f["region"] = f["region"].astype(str)
    f["date"] = pd.to_datetime(f["date"]).dt.normalize()
    f = f.sort_values(["region", "date"], kind="stable").reset_index(drop=True)
    a = actuals_df[["region", "date", "value"]]
    a = a.assign(region=a["region"].astype(str), date=pd.to_datetime(a["date"]).dt.normalize())
    a = a.groupby(["region", "date"], as_index=False, sort=False)["value"].sum()
    f = f.merge(a, on=["region", "date"], how="left", sort=False)
    f["actual"] = f.pop("value").fillna(0.0).astype("float64")
    g = f.groupby("region", sort=False)
    f["planned"] = g["planned_cum"].diff().fillna(f["planned_cum"])
    f["actual_cum"] = g["actual"].cumsum()
    f["day"] = g.cumcount() + 1
    f["n_days"] = g["date"].transform("size")
    f["target"] = g["planned_cum"].transform("last")
    f["end"] = g["date"].transform("last")
    return f


def _pace(actual_cum: pd.Series, planned_cum: pd.Series) -> pd.Series:
    """actual/planned, NaN where nothing was planned yet."""
    return actual_cum / planned_cum.where(planned_cum > 0)


def daily_pace(
    path_df: pd.DataFrame, actuals_df: pd.DataFrame, as_of: date | str | None = None
) -> pd.DataFrame:
    """Per region and day up to as_of: `region, date, actual, actual_cum, planned_cum, pace`."""
    f = _daily_frame(path_df, actuals_df)
    f = _cut(f, actuals_df, as_of)
    f["pace"] = _pace(f["actual_cum"], f["planned_cum"])
    return f[["region", "date", "actual", "actual_cum", "planned_cum", "pace"]].reset_index(
        drop=True
    )


def _as_of(actuals_df: pd.DataFrame, as_of: date | str | None) -> pd.Timestamp | None:
    if as_of is not None:
        return pd.Timestamp(as_of).normalize()
    if len(actuals_df) == 0:
        return None
    return pd.to_datetime(actuals_df["date"]).max().normalize()


def _cut(f: pd.DataFrame, actuals_df: pd.DataFrame, as_of: date | str | None) -> pd.DataFrame:
    """Rows up to as_of (default: the last day with actuals)."""
    cutoff = _as_of(actuals_df, as_of)
    if cutoff is None:
        return f.iloc[0:0]
    return f[f["date"] <= cutoff]


# --------------------------------------------------------------------------------------
# Projection
# --------------------------------------------------------------------------------------


def _projection_frame(
    f: pd.DataFrame,
    *,
    level: float,
    recent_days: int,
    recent_weight: float,
    prior_days: float,
) -> pd.DataFrame:
    """Projection columns for every row of a daily frame at once (each row = one as_of)."""
    g = f.groupby("region", sort=False)
    A = f["actual_cum"]
    Pl = f["planned_cum"]
    T = f["target"]
    R = (T - Pl).clip(lower=0.0)
    day = f["day"].astype("float64")
    # Pseudo-volume of `prior_days` average days at pace 1: early in the period one or two
    # lucky or slow days should not swing the projection (or raise warnings) wildly.
    m = prior_days * T / f["n_days"]
    c_cum = (A + m) / (Pl + m)
    # Recent pace = run rate over the last `recent_days`, measured against the path so a
    # back-loaded profile does not read as a slowdown.
    a_rec = A - g["actual_cum"].shift(recent_days).fillna(0.0)
    p_rec = Pl - g["planned_cum"].shift(recent_days).fillna(0.0)
    c_rec = (a_rec + m) / (p_rec + m)
    pace_hat = (1.0 - recent_weight) * c_cum + recent_weight * c_rec
    projected = A + R * pace_hat
    # Day-to-day dispersion: daily actual ~ pace * daily plan with variance v * daily plan
    # (Poisson-like). Sums of squares from cumulative sums, so every as_of is one pass.
    p_eff = np.maximum(f["planned"], 0.05 * T / f["n_days"])
    sp = p_eff.groupby(f["region"], sort=False).cumsum()
    s2 = (f["actual"] ** 2 / p_eff).groupby(f["region"], sort=False).cumsum()
    ss = (s2 - A**2 / sp).clip(lower=0.0)
    v_raw = (ss / (day - 1.0)).where(day >= 2)
    # Shrink each region's dispersion towards the pooled (mean) dispersion of all regions on
    # the same day (same metric, same cycle): with few days a region's own estimate has few
    # degrees of freedom, and a median of such estimates is biased low. Before day 2 fall
    # back to Poisson counts (v = pace).
    v0 = v_raw.groupby(f["day"]).transform("mean")
    v0 = v0.fillna(c_cum.clip(lower=1e-9))
    if prior_days > 0:
        v = (ss + prior_days * v0) / ((day - 1.0).clip(lower=0.0) + prior_days)
    else:
        v = v_raw.fillna(v0)
    # Remaining noise (v * R) plus R^2 x variance of the blended pace. The recent window is
    # part of the cumulative one, so cov = v / Pl and var(blend) = v((1-w^2)/Pl + w^2/Pl_rec).
    w = recent_weight
    inv_cum = 1.0 / (Pl + m).where((Pl + m) > 0)
    inv_rec = 1.0 / (p_rec + m).where((p_rec + m) > 0)
    var = v * R * (1.0 + R * ((1.0 - w * w) * inv_cum + w * w * inv_rec))
    half = stats.norm.ppf(0.5 + level / 2.0) * np.sqrt(var.fillna(0.0))
    out = pd.DataFrame(
        {
            "region": f["region"],
            "as_of": f["date"],
            "days_elapsed": f["day"],
            "days_remaining": f["n_days"] - f["day"],
            "target": T,
            "actual_to_date": A,
            "planned_to_date": Pl,
            "pace": _pace(A, Pl),
            "projected": projected,
            "lower80": np.maximum(projected - half, A),
            "upper80": projected + half,
        }
    )
    out["projected_attainment"] = out["projected"] / T.where(T != 0)
    return out


def projection_series(
    path_df: pd.DataFrame,
    actuals_df: pd.DataFrame,
    *,
    level: float = 0.8,
    recent_days: int = 14,
    recent_weight: float = 0.5,
    prior_days: float = 7.0,
) -> pd.DataFrame:
    """The projection as it would have read on every day of the path (for replay and charts)."""
    f = _daily_frame(path_df, actuals_df)
    return _projection_frame(
        f,
        level=level,
        recent_days=recent_days,
        recent_weight=recent_weight,
        prior_days=prior_days,
    ).reset_index(drop=True)


def project(
    path_df: pd.DataFrame,
    actuals_df: pd.DataFrame,
    as_of: date | str | None = None,
    *,
    level: float = 0.8,
    recent_days: int = 14,
    recent_weight: float = 0.5,
    prior_days: float = 7.0,
) -> pd.DataFrame:
    """Period-end projection per region from actuals through as_of (default: last actual day).

    Returns `region, as_of, days_elapsed, days_remaining, target, actual_to_date,
    planned_to_date, pace, projected, lower80, upper80, projected_attainment`.
    projected = actual + remaining plan x pace-estimate, where the pace estimate blends the
    cumulative pace (= actual / path share to date, the path-based estimate) with the pace of
    the last `recent_days` (a path-aware run rate), both shrunk towards 1 by `prior_days`
    days of plan. The interval is normal with variance from the day-to-day dispersion of
    daily actuals around the plan, so it narrows to zero at the period end. `level` sets
    the coverage; the column names keep "80" for a stable contract. Regions with no path
    day on or before as_of are left out.
    """
    f = _cut(_daily_frame(path_df, actuals_df), actuals_df, as_of)
    proj = _projection_frame(
        f,
        level=level,
        recent_days=recent_days,
        recent_weight=recent_weight,
        prior_days=prior_days,
    )
    return proj.groupby("region", sort=True).tail(1).reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Status
# --------------------------------------------------------------------------------------


def status_of(pace: pd.Series | np.ndarray | float, thresholds: StatusThresholds | None = None):
    """green when pace >= green, amber when pace >= amber, else red; NaN pace is green."""
    th = thresholds or StatusThresholds()
    scalar = np.ndim(pace) == 0
    arr = np.atleast_1d(np.asarray(pace, dtype="float64"))
    # NaN means nothing was due yet: on track by definition.
    out = np.where(
        np.isnan(arr) | (arr >= th.green - PACE_EPS),
        "green",
        np.where(arr >= th.amber - PACE_EPS, "amber", "red"),
    )
    if scalar:
        return str(out[0])
    if isinstance(pace, pd.Series):
        return pd.Series(out, index=pace.index, name="status")
    return out


def with_status(df: pd.DataFrame, thresholds: StatusThresholds | None = None) -> pd.DataFrame:
    """A copy of a frame with a `pace` column, plus `status`."""
    return df.assign(status=status_of(df["pace"], thresholds))


def weekly_status(
    path_df: pd.DataFrame,
    actuals_df: pd.DataFrame,
    as_of: date | str | None = None,
    thresholds: StatusThresholds | None = None,
) -> pd.DataFrame:
    """Status at the last evaluated day of each ISO week: `region, week, date, pace, status`.

    `week` is the Monday of the ISO week (a Timestamp); `date` is the day evaluated (Sunday,
    or as_of / the period's first or last day for a partial week).
    """
    d = daily_pace(path_df, actuals_df, as_of)
    d["week"] = d["date"] - pd.to_timedelta(d["date"].dt.day_of_week, unit="D")
    last = d.groupby(["region", "week"], sort=True).tail(1)
    out = last[["region", "week", "date", "pace"]].reset_index(drop=True)
    return with_status(out, thresholds)


# --------------------------------------------------------------------------------------
# Early warning
# --------------------------------------------------------------------------------------


def early_warning(
    projection_df: pd.DataFrame,
    rule: WarningRule = "upper",
    min_days_remaining: int = MIN_WARNING_DAYS,
) -> pd.Series:
    """Boolean per projection row: the region is heading for a miss with enough time to act."""
    if rule == "upper":
        miss = projection_df["upper80"] < projection_df["target"]
    elif rule == "projected":
        miss = projection_df["projected"] < projection_df["target"]
    else:
        raise ValueError(f"unknown warning rule {rule!r}")
    return (miss & (projection_df["days_remaining"] >= min_days_remaining)).rename("warning")


def warning_backtest(
    path_df: pd.DataFrame,
    actuals_df: pd.DataFrame,
    *,
    rule: WarningRule = "upper",
    min_days_remaining: int = MIN_WARNING_DAYS,
    **projection_kwargs: float,
) -> pd.DataFrame:
    """Replay a finished period day by day: when did each region first get a warning?

    Actuals must cover the whole period (missing days count as zero). Returns per region
    `region, target, actual, attainment, missed, first_warning, lead_days, warning_days,
    outcome` with lead_days = days from the first warning to the period's last day, and
    outcome one of `warned` (missed, warned), `missed_unwarned`, `false_alarm` (made it but
    was warned) and `quiet` (made it, no warning).
    """
    f = _daily_frame(path_df, actuals_df)
    proj = _projection_frame(
        f,
        level=projection_kwargs.pop("level", 0.8),
        recent_days=int(projection_kwargs.pop("recent_days", 14)),
        recent_weight=projection_kwargs.pop("recent_weight", 0.5),
        prior_days=projection_kwargs.pop("prior_days", 7.0),
    )
    if projection_kwargs:
        raise TypeError(f"unknown arguments {sorted(projection_kwargs)}")
    proj["warning"] = early_warning(proj, rule, min_days_remaining)
    proj["end"] = f["end"]
    g = proj.groupby("region", sort=True)
    final = g.tail(1).set_index("region")
    warned = proj[proj["warning"]]
    first = warned.groupby("region")["as_of"].min()
    out = pd.DataFrame(
        {
            "target": final["target"],
            "actual": final["actual_to_date"],
        }
    )
    out["attainment"] = out["actual"] / out["target"].where(out["target"] != 0)
    out["missed"] = out["actual"] < out["target"]
    out["first_warning"] = first.reindex(out.index)
    out["lead_days"] = (final["end"] - out["first_warning"]).dt.days.astype("Int64")
    out["warning_days"] = warned.groupby("region").size().reindex(out.index, fill_value=0)
    has = out["first_warning"].notna()
    out["outcome"] = np.select(
        [out["missed"] & has, out["missed"], has],
        ["warned", "missed_unwarned", "false_alarm"],
        "quiet",
    )
    return out.reset_index()


def backtest_summary(backtest_df: pd.DataFrame) -> dict[str, float | int]:
    """Counts and rates of a `warning_backtest` result, for a report or a bench."""
    b = backtest_df
    missed = b[b["missed"]]
    made = b[~b["missed"]]
    lead = missed["lead_days"].dropna()
    return {
        "regions": len(b),
        "missed": len(missed),
        "missed_warned": int((missed["outcome"] == "warned").sum()),
        "median_lead_days": float(lead.median()) if len(lead) else float("nan"),
        "min_lead_days": int(lead.min()) if len(lead) else 0,
        "made": len(made),
        "false_alarms": int((made["outcome"] == "false_alarm").sum()),
        "false_alarm_rate": float((made["outcome"] == "false_alarm").mean()) if len(made) else 0.0,
    }


# --------------------------------------------------------------------------------------
# Escalation ladder
# --------------------------------------------------------------------------------------


def _runs(pace: pd.Series, regions: pd.Series, below: float) -> pd.Series:
    """Length of the current run of consecutive days with pace < below (NaN breaks a run)."""
    hit = (pace < below - PACE_EPS).fillna(False)
    # Each non-hit day starts a new block; within a block, count the hits so far.
    block = (~hit).groupby(regions, sort=False).cumsum()
    return hit.astype("int64").groupby([regions, block], sort=False).cumsum()


def escalations(
    path_df: pd.DataFrame,
    actuals_df: pd.DataFrame,
    as_of: date | str | None = None,
    rules: EscalationRules | None = None,
) -> list[Escalation]:
    """Every rung triggered on or before as_of, oldest first; recompute daily, dedupe by key.

    alert (level 0): pace < alert_below on `alert_days` consecutive days; reminder to the
    lead (level 1): pace < reminder_below on `reminder_days` (14) consecutive days;
    escalation to the executive with a root-cause form (level 2): `escalation_days` (21).
    A rung triggers once per run, on the day the run reaches its length; a day at or above
    the ratio ends the run, and a later run triggers again (with a new `triggered_on`).
    """
    r = rules or EscalationRules()
    d = daily_pace(path_df, actuals_df, as_of)
    if d.empty:
        return []
    alert_run = _runs(d["pace"], d["region"], r.alert_below)
    low_run = _runs(d["pace"], d["region"], r.reminder_below)
    specs: list[tuple[EscalationKind, int, pd.Series, int, float]] = [
        ("alert", 0, alert_run, r.alert_days, r.alert_below),
        ("reminder", 1, low_run, r.reminder_days, r.reminder_below),
        ("escalation", 2, low_run, r.escalation_days, r.reminder_below),
    ]
    out: list[Escalation] = []
    for kind, level, run, length, ratio in specs:
        hits = d[run == length]
        for region, day, pace, actual, planned in zip(
            hits["region"],
            hits["date"],
            hits["pace"],
            hits["actual_cum"],
            hits["planned_cum"],
            strict=True,
        ):
            detail: dict[str, Any] = {
                "pace": float(pace),
                "below": ratio,
                "run_days": length,
                "since": (day - pd.Timedelta(days=length - 1)).date(),
                "actual_to_date": float(actual),
                "planned_to_date": float(planned),
                "notify": ["executive", "lead"] if level == 2 else ["lead"],
            }
            if level == 2:
                detail["root_cause_options"] = list(ROOT_CAUSES)
            out.append(Escalation(str(region), kind, level, day.date(), detail))
    out.sort(key=lambda e: (e.triggered_on, e.region, e.level))
    return out


def validate_root_cause(cause: str, text: str) -> None:
    """Check a root-cause form answer: one of ROOT_CAUSES and a non-empty explanation."""
    if cause not in ROOT_CAUSES:
        raise ValueError(f"root cause must be one of {', '.join(ROOT_CAUSES)}, got {cause!r}")
    if not text or not text.strip():
        raise ValueError("a root-cause form needs an explanation text")


def describe_escalation(e: Escalation, lang: str = "en", region_name: str | None = None) -> str:
    """The user-facing sentence for an escalation (region_name replaces the region id)."""
    return t(
        f"tracking.escalation.{e.kind}",
        lang,
        region=region_name or e.region,
        below=e.detail.get("below", float("nan")),
        days=e.detail.get("run_days", 0),
        pace=e.detail.get("pace", float("nan")),
    )


def describe_warning(
    row: Mapping[str, Any], lang: str = "en", region_name: str | None = None
) -> str:
    """The user-facing sentence for an early warning on a `project`/`snapshot` row."""
    return t(
        "tracking.warning.miss",
        lang,
        region=region_name or row["region"],
        projected=float(row["projected"]),
        target=float(row["target"]),
        upper=float(row["upper80"]),
        days=int(row["days_remaining"]),
    )


# --------------------------------------------------------------------------------------
# Forecast value added (after the period)
# --------------------------------------------------------------------------------------

_FVA_SOURCES = ("suggestion", "proposal", "agreed")


def _ape(forecast: pd.Series, actual: pd.Series) -> pd.Series:
    """Absolute percentage error as a fraction; NaN when the actual is zero."""
    return (forecast - actual).abs() / actual.abs().where(actual != 0)


def forecast_value_added(df: pd.DataFrame) -> pd.DataFrame:
    """Per region: absolute % errors of suggestion, proposal and agreed value, and FVA.

    Input `region, suggestion, proposal, agreed, actual` (optional `lead`). Adds
    `ape_suggestion, ape_proposal, ape_agreed` (fractions, NaN when actual is 0),
    `fva = ape_suggestion - ape_agreed` (positive: the workshop improved on the model) and
    `fva_proposal = ape_suggestion - ape_proposal` (the lead's own number vs the model).
    """
    need = {"region", "suggestion", "proposal", "agreed", "actual"} - set(df.columns)
    if need:
        raise ValueError(f"forecast_value_added needs columns {sorted(need)}")
    out = df.copy()
    for src in _FVA_SOURCES:
        out[f"ape_{src}"] = _ape(out[src].astype("float64"), out["actual"].astype("float64"))
    out["fva"] = out["ape_suggestion"] - out["ape_agreed"]
    out["fva_proposal"] = out["ape_suggestion"] - out["ape_proposal"]
    return out


def _fva_totals(df: pd.DataFrame) -> dict[str, float]:
    """Mean APE and WAPE (sum |error| / sum actual, robust to small regions) per source."""
    res: dict[str, float] = {}
    denom = df["actual"].abs().sum()
    for src in _FVA_SOURCES:
        res[f"mape_{src}"] = float(df[f"ape_{src}"].mean())
        err = (df[src] - df["actual"]).abs().sum()
        res[f"wape_{src}"] = float(err / denom) if denom else float("nan")
    res["fva"] = res["mape_suggestion"] - res["mape_agreed"]
    res["fva_wape"] = res["wape_suggestion"] - res["wape_agreed"]
    return res


def fva_by_lead(fva_df: pd.DataFrame) -> pd.DataFrame:
    """Per lead: regions, sums, mean APE and WAPE of each source, FVA (mean and WAPE based)."""
    rows = []
    for lead, grp in fva_df.groupby("lead", sort=True, dropna=False):
        sums = {f"sum_{c}": float(grp[c].sum()) for c in (*_FVA_SOURCES, "actual")}
        rows.append({"lead": lead, "regions": len(grp), **sums, **_fva_totals(grp)})
    return pd.DataFrame(rows)


def fva_summary(fva_df: pd.DataFrame) -> dict[str, float | int]:
    """Company totals: mean and weighted errors, FVA, regions improved, error of the sums."""
    res: dict[str, float | int] = {"regions": len(fva_df), **_fva_totals(fva_df)}
    res["regions_improved"] = int((fva_df["fva"] > 0).sum())
    res["regions_worsened"] = int((fva_df["fva"] < 0).sum())
    total_actual = float(fva_df["actual"].sum())
    res["total_actual"] = total_actual
    for src in _FVA_SOURCES:
        total = float(fva_df[src].sum())
        res[f"total_{src}"] = total
        # Error of the company sum: regional errors can cancel, so this differs from WAPE.
        res[f"total_ape_{src}"] = (
            abs(total - total_actual) / abs(total_actual) if total_actual else float("nan")
        )
    res["total_fva"] = res["total_ape_suggestion"] - res["total_ape_agreed"]
    return res


# --------------------------------------------------------------------------------------
# One call for the page
# --------------------------------------------------------------------------------------


def snapshot(
    path_df: pd.DataFrame,
    actuals_df: pd.DataFrame,
    as_of: date | str | None = None,
    *,
    thresholds: StatusThresholds | None = None,
    rule: WarningRule = "upper",
    min_days_remaining: int = MIN_WARNING_DAYS,
) -> pd.DataFrame:
    """`project` plus `status` and `warning` columns: the tracking board in one frame."""
    proj = with_status(project(path_df, actuals_df, as_of), thresholds)
    proj["warning"] = early_warning(proj, rule, min_days_remaining)
    return proj
