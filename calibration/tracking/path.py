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
  has been below the target on that day and the 2 days before (so we are ~90% sure of a
  miss, and not on the strength of one bad day) and at least 14 days remain after that day.
  `rule="projected"` warns on projected < target instead (earlier, many more false alarms);
  `confirm_days=1` drops the confirmation.
  These are per-cycle settings (`WarningSettings`), like `StatusThresholds`,
  `EscalationRules` and `ProjectionSettings`.
- Escalation "weeks" are rolling blocks of 7 consecutive days ending on the evaluation
  day: "2 weeks below 70%" means pace < 0.70 on each of the last 14 days. This does not
  depend on the weekday the period starts and has no partial first week.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
import pandas as pd

# Actuals arrive through the data feature; re-exported here for tracking's callers.
from calibration import charts_theme as theme
from calibration import numbers
from calibration.data.actuals import DecreasingCumulativeError as DecreasingCumulativeError
from calibration.data.actuals import to_daily as to_daily
from calibration.i18n import t
from calibration.periods import Period, parse_period, period_bounds

STATUSES = ("green", "amber", "red")
STATUS_COLORS = theme.STATUS_COLORS  # the one palette (calibration/charts_theme.py)
ROOT_CAUSES = ("external_resistance", "resource_gap", "other")
MIN_WARNING_DAYS = 14

EscalationKind = Literal["alert", "reminder", "escalation"]
WarningRule = Literal["upper", "projected"]

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
class ProjectionSettings:
    """How `project` estimates the period end (see its docstring)."""

    level: float = 0.8  # interval coverage; the columns keep the names lower80/upper80
    recent_days: int = 14  # window of the recent (run-rate) pace
    recent_weight: float = 0.5  # weight of the recent pace against the cumulative pace
    prior_days: float = 7.0  # days of plan at pace 1 (and pooled dispersion) to shrink towards

    def __post_init__(self) -> None:
        if not 0 < self.level < 1:
            raise ValueError("level must be between 0 and 1")
        if self.recent_days < 1 or not 0 <= self.recent_weight <= 1 or self.prior_days < 0:
            raise ValueError("need recent_days >= 1, 0 <= recent_weight <= 1, prior_days >= 0")


@dataclass(frozen=True)
class WarningSettings:
    """Early-warning rule: `upper` (upper80 < target) or `projected` (projected < target)."""

    rule: WarningRule = "upper"
    min_days_remaining: int = MIN_WARNING_DAYS  # warn only while this many days remain
    # The miss must show on this many consecutive days. 3 halves the false alarms on the
    # bench's synthetic period (20 -> 9 of 98 regions that made it) for ~4 days less lead.
    confirm_days: int = 3

    def __post_init__(self) -> None:
        if self.rule not in ("upper", "projected"):
            raise ValueError(f"unknown warning rule {self.rule!r}")
        if self.confirm_days < 1 or self.min_days_remaining < 0:
            raise ValueError("need confirm_days >= 1 and min_days_remaining >= 0")


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


# --------------------------------------------------------------------------------------
# Planned path
# --------------------------------------------------------------------------------------


def _as_period(period: Period | str) -> Period:
    p = period if isinstance(period, Period) else parse_period(period)
    if p is None:
        raise ValueError(f"unparseable period {period!r}")
    return p


def _day_numbers(values: pd.Series) -> np.ndarray:
    """Dates as integer days since 1970-01-01."""
    return pd.to_datetime(values).to_numpy().astype("datetime64[D]").astype(np.int64)


def _history_profiles(
    history: pd.DataFrame,
    period: Period,
    n_days: int,
    same_season: bool,
    min_periods: int,
) -> pd.DataFrame:
    """Mean cumulative-share curve per region on the target period's day grid (rows=regions)."""
    if history.empty:
        return pd.DataFrame()
    start, _ = period_bounds(period)
    history = history[history["date"].notna()]
    if history.empty:
        return pd.DataFrame()
    region = history["region"]
    if not pd.api.types.is_string_dtype(region):
        region = region.astype(str)
    dnum = _day_numbers(history["date"])
    value = np.nan_to_num(pd.to_numeric(history["value"]).to_numpy(dtype="float64"))
    # Period of each row by integer month arithmetic (months since 1970-01). Calendar
    # conversion is slow per element (Series.dt.to_period even more so), so each day of the
    # span and each period bound is converted once and looked up.
    lo, hi = dnum.min(), dnum.max()
    span = np.arange(lo, hi + 1).astype("datetime64[D]")
    mnum = span.astype("datetime64[M]").astype(np.int64)[dnum - lo]
    months = {"Q": 3, "M": 1, "A": 12}[period.freq]
    pidx = mnum // months
    periods = np.arange(pidx.min(), pidx.max() + 2)
    bounds = (periods * months).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    p_start = bounds[:-1][pidx - periods[0]]
    p_end = bounds[1:][pidx - periods[0]] - 1
    # Only whole past periods: inside the span the history file covers (a missing day inside
    # the span is a zero, one outside it is unknown), and ended before this period starts.
    keep = (p_start >= lo) & (p_end <= hi) & (p_end < _day_numbers(pd.Series([start]))[0])
    if same_season and period.freq != "A":
        keep &= (mnum // months) % (12 // months) == period.sub - 1
    if not keep.any():
        return pd.DataFrame()
    codes, uniq = pd.factorize(region, sort=True)
    codes, pidx, day = codes[keep], pidx[keep], (dnum - p_start)[keep]
    value, length = value[keep], (p_end - p_start + 1)[keep]
    # One group per (region, past period); keep those that sold anything.
    key = codes.astype(np.int64) * (pidx.max() - pidx.min() + 1) + (pidx - pidx.min())
    # Dense renumbering of the (small) key range: O(n), unlike np.unique's sort.
    used = np.bincount(key) > 0
    gkeys = np.flatnonzero(used)
    g = (np.cumsum(used) - 1)[key]
    totals = np.bincount(g, weights=value, minlength=len(gkeys))
    g_region = np.zeros(len(gkeys), dtype=np.int64)
    g_region[g] = codes
    g_len = np.zeros(len(gkeys), dtype=np.int64)
    g_len[g] = length
    good = totals > 0
    if not good.any():
        return pd.DataFrame()
    # Dense (groups x days) daily values, cumulative with a leading zero, so a period of any
    # length maps onto this period's grid by its elapsed fraction.
    width = int(g_len.max())
    dense = np.bincount(g * width + day, weights=value, minlength=len(gkeys) * width)
    cum = np.zeros((len(gkeys), width + 1))
    cum[:, 1:] = np.cumsum(dense.reshape(len(gkeys), width), axis=1)
    cum, lengths, g_region = cum[good], g_len[good], g_region[good]
    rows = np.arange(len(lengths))[:, None]
    pos = np.arange(1, n_days + 1)[None, :] / n_days * lengths[:, None]
    k = np.minimum(np.floor(pos).astype(np.int64), lengths[:, None] - 1)
    frac = pos - k
    curve = (cum[rows, k] + frac * (cum[rows, k + 1] - cum[rows, k])) / cum[rows, lengths[:, None]]
    # Groups are sorted by region (the key starts with the region code): sum per region
    # with reduceat over each region's block of rows.
    present, first, counts = np.unique(g_region, return_index=True, return_counts=True)
    mean = np.add.reduceat(curve, first, axis=0) / counts[:, None]
    enough = counts >= max(min_periods, 1)
    return pd.DataFrame(mean[enough], index=pd.Index(uniq)[present[enough]])


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
        prof = _history_profiles(history, p, n, same_season, min_periods)
        rows = prof.index.get_indexer(regions) if len(prof) else np.full(len(regions), -1)
        has = rows >= 0
        if has.any():
            curve = prof.to_numpy()[rows[has]]
            daily = np.diff(curve, axis=1, prepend=0.0)
            if smooth_days > 1:
                # Imported here: scipy takes 0.6 s to import, and the server imports this
                # module at start (notify, API) while the curve is drawn only for tracking.
                from scipy import ndimage

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
# The grid: the one place path and actuals are joined
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Grid:
    """Path and actuals as dense (regions x days) arrays, so every step is vectorised.

    Rows are regions (sorted), columns the days of each region's path (day 1 = first day);
    cells past a region's last day repeat its target and hold no actuals. `upto` is the
    number of days evaluated per region (as_of), `valid` masks the cells up to it.
    """

    regions: pd.Index  # (R,) str
    start: np.ndarray  # (R,) datetime64[D], first day of the path
    n: np.ndarray  # (R,) days in the path
    planned_cum: np.ndarray  # (R, L)
    actual: np.ndarray  # (R, L) daily values
    upto: np.ndarray  # (R,) days evaluated

    @property
    def day(self) -> np.ndarray:
        """(1, L) day numbers, 1-based."""
        return np.arange(1, self.planned_cum.shape[1] + 1)[None, :]

    @property
    def valid(self) -> np.ndarray:
        """(R, L) cells on or before as_of."""
        return self.day <= self.upto[:, None]

    @property
    def target(self) -> np.ndarray:
        """(R, 1) agreed target = planned on the last day."""
        return self.planned_cum[np.arange(len(self.n)), self.n - 1][:, None]

    @property
    def end(self) -> np.ndarray:
        """(R,) last day of the path."""
        return self.start + (self.n - 1).astype("timedelta64[D]")

    def dates(self) -> np.ndarray:
        """(R, L) calendar dates of the cells."""
        return self.start[:, None] + (self.day - 1).astype("timedelta64[D]")

    def flat(
        self, columns: Mapping[str, np.ndarray], mask: np.ndarray | None = None
    ) -> pd.DataFrame:
        """Long frame `region, date, *columns` of the masked cells (default: valid)."""
        mask = self.valid if mask is None else mask
        rows, cols = np.nonzero(mask)
        data: dict[str, Any] = {
            "region": self.regions.take(rows),
            "date": pd.to_datetime(self.dates()[rows, cols]).as_unit("ns"),
        }
        for name, arr in columns.items():
            arr = np.asarray(arr)
            data[name] = np.broadcast_to(arr, mask.shape)[rows, cols]
        return pd.DataFrame(data)


def _as_of(actuals_df: pd.DataFrame, as_of: date | str | None) -> pd.Timestamp | None:
    if as_of is not None:
        return pd.Timestamp(as_of).normalize()
    if len(actuals_df) == 0:
        return None
    return pd.to_datetime(actuals_df["date"]).max().normalize()


def _grid(
    path_df: pd.DataFrame,
    actuals_df: pd.DataFrame,
    as_of: date | str | None = None,
    *,
    whole: bool = False,
) -> _Grid:
    """Build the grid; evaluate through as_of (default: last actual day), or all days."""
    # Factorise the column as it is (Arrow strings in pandas 3): converting 18k strings to
    # Python objects costs more than the whole computation.
    region = path_df["region"]
    if not pd.api.types.is_string_dtype(region):
        region = region.astype(str)
    dnum = _day_numbers(path_df["date"])
    planned = path_df["planned_cum"].to_numpy(dtype="float64")
    codes, uniq = pd.factorize(region, sort=True)
    uniq = pd.Index(uniq)
    order = np.lexsort((dnum, codes))
    codes, dnum, planned = codes[order], dnum[order], planned[order]
    n_reg = len(uniq)
    counts = np.bincount(codes, minlength=n_reg)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = np.arange(len(codes)) - first[codes]
    start = dnum[first] if len(codes) else np.zeros(0, dtype=np.int64)
    if np.any(dnum - start[codes] != pos):
        raise ValueError("the path needs exactly one row per region and day, without gaps")
    width = int(counts.max()) if n_reg else 0
    # Pad each row with its target so arithmetic past a short period stays harmless.
    pc = (
        np.repeat(planned[first + counts - 1][:, None], width, axis=1)
        if n_reg
        else np.zeros((0, 0))
    )
    pc[codes, pos] = planned
    act = np.zeros((n_reg, width))
    if len(actuals_df):
        a_reg = actuals_df["region"]
        if not pd.api.types.is_string_dtype(a_reg):
            a_reg = a_reg.astype(str)
        a_code = uniq.get_indexer(a_reg)
        off = _day_numbers(actuals_df["date"]) - np.where(a_code >= 0, start[a_code], 0)
        ok = (a_code >= 0) & (off >= 0) & (off < np.where(a_code >= 0, counts[a_code], 0))
        vals = pd.to_numeric(actuals_df["value"]).to_numpy(dtype="float64")
        np.add.at(act, (a_code[ok], off[ok]), np.nan_to_num(vals[ok]))
    if whole:
        upto = counts.copy()
    else:
        cutoff = _as_of(actuals_df, as_of)
        if cutoff is None:
            upto = np.zeros(n_reg, dtype=np.int64)
        else:
            cut = np.datetime64(cutoff.date(), "D").astype(np.int64)
            upto = np.clip(cut - start + 1, 0, counts)
    return _Grid(
        regions=uniq,
        start=start.astype("datetime64[D]"),
        n=counts,
        planned_cum=pc,
        actual=act,
        upto=upto,
    )


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num/den, NaN where den <= 0 (nothing planned yet: no pace)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def daily_pace(
    path_df: pd.DataFrame, actuals_df: pd.DataFrame, as_of: date | str | None = None
) -> pd.DataFrame:
    """Per region and day up to as_of: `region, date, actual, actual_cum, planned_cum, pace`."""
    g = _grid(path_df, actuals_df, as_of)
    a_cum = np.cumsum(g.actual, axis=1)
    return g.flat(
        {
            "actual": g.actual,
            "actual_cum": a_cum,
            "planned_cum": g.planned_cum,
            "pace": _ratio(a_cum, g.planned_cum),
        }
    )


# --------------------------------------------------------------------------------------
# Projection
# --------------------------------------------------------------------------------------


def _runs(hit: np.ndarray) -> np.ndarray:
    """(R, L) length of the current run of consecutive True cells along each row."""
    c = np.cumsum(hit, axis=1)
    # At every False cell remember the count so far; the run is the count since the last one.
    return c - np.maximum.accumulate(np.where(hit, 0, c), axis=1)


def _shift(x: np.ndarray, k: int) -> np.ndarray:
    """x moved k days later along axis 1, zeros shifted in (the cumulative before day 1)."""
    out = np.zeros_like(x)
    if k < x.shape[1]:
        out[:, k:] = x[:, : x.shape[1] - k]
    return out


def _projection_arrays(g: _Grid, settings: ProjectionSettings) -> dict[str, np.ndarray]:
    """Projection for every cell (each cell = one as_of) as (R, L) arrays."""
    level, recent_days = settings.level, settings.recent_days
    recent_weight, prior_days = settings.recent_weight, settings.prior_days
    day = g.day.astype("float64")
    n = g.n[:, None].astype("float64")
    T = g.target
    Pl = g.planned_cum
    A = np.cumsum(g.actual, axis=1)
    R = np.clip(T - Pl, 0.0, None)
    planned = np.diff(Pl, axis=1, prepend=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Pseudo-volume of `prior_days` average days at pace 1: early in the period one or
        # two lucky or slow days should not swing the projection (or raise warnings) wildly.
        m = prior_days * T / n
        # Nothing planned yet (a profile may start flat) and no prior: assume the plan.
        c_cum = np.where(Pl + m > 0, (A + m) / (Pl + m), 1.0)
        # Recent pace = run rate over the last `recent_days`, measured against the path so a
        # back-loaded profile does not read as a slowdown.
        a_rec = A - _shift(A, recent_days)
        p_rec = Pl - _shift(Pl, recent_days)
        c_rec = np.where(p_rec + m > 0, (a_rec + m) / (p_rec + m), 1.0)
        w = recent_weight
        projected = A + R * ((1.0 - w) * c_cum + w * c_rec)
        # Day-to-day dispersion: daily actual ~ pace x daily plan with variance v x daily
        # plan (Poisson-like). Sums of squares from cumulative sums: every as_of in one pass.
        p_eff = np.maximum(planned, 0.05 * T / n)
        sp = np.cumsum(p_eff, axis=1)
        s2 = np.cumsum(g.actual**2 / p_eff, axis=1)
        ss = np.clip(s2 - A**2 / sp, 0.0, None)
        v_raw = np.where((day >= 2) & g.valid, ss / (day - 1.0), np.nan)
        # Shrink each region's dispersion towards the pooled (mean) dispersion of all regions
        # on the same day (same metric, same cycle): with few days a region's own estimate
        # has few degrees of freedom, and a median of such estimates is biased low. Before
        # day 2 fall back to Poisson counts (v = pace).
        counted = np.sum(~np.isnan(v_raw), axis=0)
        pooled = np.nansum(v_raw, axis=0) / np.where(counted > 0, counted, 1)
        v0 = np.where(counted > 0, pooled, np.nan)[None, :]
        v0 = np.where(np.isnan(v0), np.clip(c_cum, 1e-9, None), v0)
        if prior_days > 0:
            v = (ss + prior_days * v0) / (day - 1.0 + prior_days)
        else:
            v = np.where(np.isnan(v_raw), v0, v_raw)
        # Remaining noise (v x R) plus R^2 x variance of the blended pace. The recent window
        # is part of the cumulative one, so cov = v / Pl and
        # var(blend) = v((1-w^2)/Pl + w^2/Pl_rec).
        inv_cum = np.where(Pl + m > 0, 1.0 / (Pl + m), 0.0)
        inv_rec = np.where(p_rec + m > 0, 1.0 / (p_rec + m), 0.0)
        var = v * R * (1.0 + R * ((1.0 - w * w) * inv_cum + w * w * inv_rec))
    half = NormalDist().inv_cdf(0.5 + level / 2.0) * np.sqrt(np.nan_to_num(np.clip(var, 0.0, None)))
    return {
        "days_elapsed": np.broadcast_to(g.day, Pl.shape),
        "days_remaining": g.n[:, None] - g.day,
        "target": np.broadcast_to(T, Pl.shape),
        "actual_to_date": A,
        "planned_to_date": Pl,
        "pace": _ratio(A, Pl),
        "projected": projected,
        "lower80": np.maximum(projected - half, A),
        "upper80": projected + half,
        "projected_attainment": _ratio(projected, np.broadcast_to(T, Pl.shape)),
    }


_PROJECTION_COLUMNS = [
    "region",
    "as_of",
    "days_elapsed",
    "days_remaining",
    "target",
    "actual_to_date",
    "planned_to_date",
    "pace",
    "projected",
    "lower80",
    "upper80",
    "projected_attainment",
]


def projection_series(
    path_df: pd.DataFrame,
    actuals_df: pd.DataFrame,
    settings: ProjectionSettings | None = None,
) -> pd.DataFrame:
    """The projection as it would have read on every day of the path (for replay and charts).

    Same columns as `project`, one row per region and day; actuals after a day do not
    affect that day's row.
    """
    g = _grid(path_df, actuals_df, whole=True)
    arrs = _projection_arrays(g, settings or ProjectionSettings())
    out = g.flat(arrs).rename(columns={"date": "as_of"})
    return out[_PROJECTION_COLUMNS]


def project(
    path_df: pd.DataFrame,
    actuals_df: pd.DataFrame,
    as_of: date | str | None = None,
    settings: ProjectionSettings | None = None,
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
    day on or before as_of are left out; an as_of after the period evaluates its last day.
    """
    g = _grid(path_df, actuals_df, as_of)
    arrs = _projection_arrays(g, settings or ProjectionSettings())
    out = g.flat(arrs, _last_cells(g)).rename(columns={"date": "as_of"})
    return out[_PROJECTION_COLUMNS]


def _last_cells(g: _Grid) -> np.ndarray:
    """(R, L) mask of each region's as_of cell (none for regions not started by as_of)."""
    last = np.zeros_like(g.valid)
    has = g.upto > 0
    last[np.nonzero(has)[0], g.upto[has] - 1] = True
    return last


# --------------------------------------------------------------------------------------
# Status
# --------------------------------------------------------------------------------------


def status_of(
    pace: pd.Series | np.ndarray | float, thresholds: StatusThresholds | None = None
) -> pd.Series | np.ndarray | str:
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
    g = _grid(path_df, actuals_df, as_of)
    pace = _ratio(np.cumsum(g.actual, axis=1), g.planned_cum)
    # 1970-01-01 was a Thursday: day number + 3 mod 7 is the ISO weekday (Monday = 0).
    weekday = (g.dates().astype(np.int64) + 3) % 7
    last = g.valid & ((weekday == 6) | (g.day == g.upto[:, None]))
    week = g.dates() - weekday.astype("timedelta64[D]")
    out = g.flat({"week": week, "pace": pace}, last)
    out["week"] = pd.to_datetime(out["week"]).astype(out["date"].dtype)
    out = out[["region", "week", "date", "pace"]]
    return with_status(out, thresholds)


# --------------------------------------------------------------------------------------
# Early warning
# --------------------------------------------------------------------------------------


def _miss(cols: Mapping[str, Any], rule: WarningRule) -> Any:
    """The miss condition on columns (Series or arrays) of a projection."""
    # Relative slack like PACE_EPS: a region exactly on target must not warn because its
    # projection summed to 449.99999999 of 450.
    target = cols["target"] * (1.0 - PACE_EPS)
    if rule == "upper":
        return cols["upper80"] < target
    if rule == "projected":
        return cols["projected"] < target
    raise ValueError(f"unknown warning rule {rule!r}")


def early_warning(projection_df: pd.DataFrame, warning: WarningSettings | None = None) -> pd.Series:
    """Boolean per projection row: heading for a miss with at least 14 days left to act.

    Row by row, so `confirm_days` is not applied here (it needs the days before: use
    `snapshot` or `warning_backtest`).
    """
    w = warning or WarningSettings()
    miss = _miss(projection_df, w.rule) & (projection_df["days_remaining"] >= w.min_days_remaining)
    return pd.Series(miss, index=projection_df.index, name="warning", dtype=bool)


def _warn_cells(g: _Grid, arrs: Mapping[str, np.ndarray], w: WarningSettings) -> np.ndarray:
    """(R, L) warning per region and as_of day, with the confirmation run applied."""
    miss = _miss(arrs, w.rule) & g.valid
    confirmed = _runs(miss) >= w.confirm_days
    return confirmed & (arrs["days_remaining"] >= w.min_days_remaining)


def warning_backtest(
    path_df: pd.DataFrame,
    actuals_df: pd.DataFrame,
    warning: WarningSettings | None = None,
    settings: ProjectionSettings | None = None,
) -> pd.DataFrame:
    """Replay a finished period day by day: when did each region first get a warning?

    Actuals must cover the whole period (missing days count as zero). Returns per region
    `region, target, actual, attainment, missed, first_warning, lead_days, warning_days,
    outcome` with lead_days = days from the first warning to the period's last day, and
    outcome one of `warned` (missed, warned), `missed_unwarned`, `false_alarm` (made it but
    was warned) and `quiet` (made it, no warning).
    """
    g = _grid(path_df, actuals_df, whole=True)
    arrs = _projection_arrays(g, settings or ProjectionSettings())
    warn = _warn_cells(g, arrs, warning or WarningSettings())
    hit = warn.any(axis=1)
    first_day = np.argmax(warn, axis=1)  # first True per region (0 when none: masked below)
    rows = np.arange(len(g.n))
    final = pd.DataFrame(
        {"target": g.target[:, 0], "actual_to_date": arrs["actual_to_date"][rows, g.n - 1]},
        index=pd.Index(g.regions, name="region"),
    )
    first = pd.Series(
        np.where(hit, g.start + first_day.astype("timedelta64[D]"), np.datetime64("NaT")),
        index=final.index,
    ).astype("datetime64[ns]")
    end = pd.Series(g.end, index=final.index).astype("datetime64[ns]")
    out = pd.DataFrame(
        {
            "target": final["target"],
            "actual": final["actual_to_date"],
        }
    )
    out["attainment"] = out["actual"] / out["target"].where(out["target"] != 0)
    out["missed"] = out["actual"] < out["target"]
    out["first_warning"] = first
    out["lead_days"] = (end - first).dt.days.astype("Int64")
    out["warning_days"] = warn.sum(axis=1)
    has = out["first_warning"].notna()
    out["outcome"] = np.select(
        [out["missed"] & has, out["missed"], has],
        ["warned", "missed_unwarned", "false_alarm"],
        "quiet",
    )
    return out.reset_index()


def warning_days(
    path_df: pd.DataFrame,
    actuals_df: pd.DataFrame,
    as_of: date | str | None = None,
    warning: WarningSettings | None = None,
    settings: ProjectionSettings | None = None,
) -> pd.DataFrame:
    """Every day up to as_of on which a region had a (confirmed) early warning.

    Returns `region, date, run_start`, where run_start is the first day of that run of
    consecutive warning days: a stable key for recording a warning once per run.
    """
    g = _grid(path_df, actuals_df, as_of)
    arrs = _projection_arrays(g, settings or ProjectionSettings())
    warn = _warn_cells(g, arrs, warning or WarningSettings()) & g.valid
    run = _runs(warn)
    start = g.dates() - np.maximum(run - 1, 0).astype("timedelta64[D]")
    out = g.flat({"run_start": start}, warn)
    out["run_start"] = pd.to_datetime(out["run_start"]).astype(out["date"].dtype)
    return out


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
    Everything is derived from the data, so calling it again returns the same keys; revised
    actuals can change past triggers, which the caller's append-only log keeps as they were.
    `detail` is JSON-ready: pace, below, run_days, since (ISO date of the run's first day),
    actual_to_date, planned_to_date, notify (roles) and, for level 2, root_cause_options.
    """
    r = rules or EscalationRules()
    g = _grid(path_df, actuals_df, as_of)
    a_cum = np.cumsum(g.actual, axis=1)
    pace = _ratio(a_cum, g.planned_cum)
    with np.errstate(invalid="ignore"):
        # NaN pace (nothing planned yet) is not below: it ends a run, as does as_of.
        alert_run = _runs((pace < r.alert_below - PACE_EPS) & g.valid)
        low_run = _runs((pace < r.reminder_below - PACE_EPS) & g.valid)
    specs: list[tuple[EscalationKind, int, np.ndarray, int, float]] = [
        ("alert", 0, alert_run, r.alert_days, r.alert_below),
        ("reminder", 1, low_run, r.reminder_days, r.reminder_below),
        ("escalation", 2, low_run, r.escalation_days, r.reminder_below),
    ]
    out: list[Escalation] = []
    for kind, level, run, length, ratio in specs:
        # Only the day a run reaches its length: later days of the same run add nothing.
        rows, cols = np.nonzero(run == length)
        for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
            day = (g.start[i] + np.timedelta64(j, "D")).astype(date)
            detail: dict[str, Any] = {
                "pace": float(pace[i, j]),
                "below": ratio,
                "run_days": length,
                "since": (day - timedelta(days=length - 1)).isoformat(),
                "actual_to_date": float(a_cum[i, j]),
                "planned_to_date": float(g.planned_cum[i, j]),
                "notify": ["executive", "lead"] if level == 2 else ["lead"],
            }
            if level == 2:
                detail["root_cause_options"] = list(ROOT_CAUSES)
            out.append(Escalation(str(g.regions[i]), kind, level, day, detail))
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
        below=numbers.percent(e.detail.get("below")),
        days=e.detail.get("run_days", 0),
        pace=numbers.percent(e.detail.get("pace")),
    )


def describe_warning(
    row: Mapping[str, Any], lang: str = "en", region_name: str | None = None
) -> str:
    """The user-facing sentence for an early warning on a `project`/`snapshot` row."""
    return t(
        "tracking.warning.miss",
        lang,
        region=region_name or row["region"],
        projected=numbers.number(float(row["projected"])),
        target=numbers.number(float(row["target"])),
        upper=numbers.number(float(row["upper80"])),
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
    if "lead" not in fva_df.columns:
        raise ValueError("fva_by_lead needs a lead column")
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
    warning: WarningSettings | None = None,
    settings: ProjectionSettings | None = None,
) -> pd.DataFrame:
    """`project` plus `status` and `warning` columns: the tracking board in one frame."""
    g = _grid(path_df, actuals_df, as_of)
    arrs = _projection_arrays(g, settings or ProjectionSettings())
    arrs["warning"] = _warn_cells(g, arrs, warning or WarningSettings())
    out = g.flat(arrs, _last_cells(g)).rename(columns={"date": "as_of"})
    out = with_status(out[[*_PROJECTION_COLUMNS, "warning"]], thresholds)
    return out[[*_PROJECTION_COLUMNS, "status", "warning"]]
