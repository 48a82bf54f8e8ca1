"""The executive live board: table, headline numbers, change marks and what-if allocations.

Pure pandas: no Streamlit, no SQL. The input `state` is the negotiation module's
`cycle_state(cur, cycle_id)` frame, one row per region with the columns in STATE_COLUMNS.

Conventions used throughout:
- "current" number of a region = agreed value if agreed, else the outstanding counter-offer,
  else the lead's proposal if one exists, else the model's suggestion, with its source in
  "current_source". negotiation.current_number decides it (cycle_state's current_value);
  current_values only repeats the rule for frames that lack that column.
- every `*_pct` column or key is a percentage (22.4 means 22.4%), NaN when undefined.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from functools import lru_cache

import numpy as np
import pandas as pd

from calibration.i18n import LANGS, region_name, t
from calibration.periods import FREQ_SEASONS, Period, parse_period, period_bounds

STATE_COLUMNS = (
    "region",
    "suggestion",
    "lower80",
    "upper80",
    "run_id",
    "proposal_value",
    "proposed_at",
    "proposed_by",
    "justification",
    "flagged",
    "review_outcome",
    "response",
    "counter_value",
    "status",
    "agreed_value",
    "last_event_id",
    "last_change_at",
    "answered_older_run",
    "current_value",
    "current_source",
)

# The board computes these itself when a frame lacks them (cycle_state has both).
_DERIVED_STATE = ("current_value", "current_source")
_NUMERIC_STATE = (
    "suggestion",
    "lower80",
    "upper80",
    "proposal_value",
    "counter_value",
    "agreed_value",
    "current_value",
)

BOARD_COLUMNS = (
    "region",
    "name",
    "parent",
    "parent_name",
    "last_actual",
    "last_actual_period",
    "same_period_last_year",
    "suggestion",
    "lower80",
    "upper80",
    "proposal",
    "agreed",
    "current",
    "current_source",
    "delta_pct",
    "vs_last_year_pct",
    "position",
    "status",
    "status_label",
    "flagged",
    "counter_value",
    "justification_preview",
    "last_change_at",
    "older_run",
    "last_event_id",
)

ROLLUP_COLUMNS = (
    "parent",
    "name",
    "regions",
    "last_actual",
    "same_period_last_year",
    "suggestion",
    "current",
    "agreed",
    "delta_pct",
    "proposed",
    "flagged",
    "agreed_count",
)

METHODS = ("suggestion", "stretch", "capacity", "equal_growth", "prior_share")
POSITIONS = ("below", "within", "above")

ALLOCATION_COLUMNS = (
    "region",
    "method",
    "basis",
    "basis_imputed",
    "kept",
    "implied",
    "suggestion",
    "lower80",
    "upper80",
    "same_period_last_year",
    "vs_suggestion_pct",
    "vs_last_year_pct",
    "position",
    "label_en",
    "label_zh",
)

PREVIEW_CHARS = 80
CAPACITY_SIGNAL = "headcount_ae"


class AllocationError(ValueError):
    """An allocation that cannot be made; the message is a translation key."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


# ---------------------------------------------------------------------------- helpers


def conform_state(state: pd.DataFrame) -> pd.DataFrame:
    """The state frame checked for cycle_state's columns (STATE_COLUMNS), numbers as float64.

    A missing column raises KeyError naming it: a renamed column must fail, not turn the
    board's cells into NaN. Only the derived current_value/current_source may be absent.
    """
    missing = [c for c in STATE_COLUMNS if c not in state.columns and c not in _DERIVED_STATE]
    if missing:
        raise KeyError(f"cycle state lacks column(s): {', '.join(missing)}")
    fill = {
        c: (np.nan if c == "current_value" else None)
        for c in _DERIVED_STATE
        if c not in state.columns
    }
    out = state.assign(**fill) if fill else state
    # Columns built from Python dicts with None are object dtype; arithmetic wants floats.
    fix = {c: out[c].astype("float64") for c in _NUMERIC_STATE if out[c].dtype != "float64"}
    return out.assign(**fix) if fix else out


def current_sources(state: pd.DataFrame) -> pd.Series:
    """Per row: where the current number comes from (agreed, counter, proposal, suggestion)."""
    given = state["current_source"] if "current_source" in state else None
    if given is not None and given.notna().all():
        return given.astype("object")
    status = (
        state["status"].fillna("none")
        if "status" in state
        else pd.Series("none", index=state.index)
    )
    counter = (
        state["counter_value"] if "counter_value" in state else pd.Series(np.nan, index=state.index)
    )
    out = np.select(
        [
            state["agreed_value"].notna(),
            (status == "countered").to_numpy() & counter.notna().to_numpy(),
            state["proposal_value"].notna(),
            state["suggestion"].notna(),
        ],
        ["agreed", "counter", "proposal", "suggestion"],
        default=None,
    )
    result = pd.Series(out, index=state.index, dtype="object")
    return given.fillna(result) if given is not None else result


def current_values(state: pd.DataFrame) -> pd.Series:
    """Per row: the number of its current_sources entry (agreed, counter, proposal, sugg.)."""
    if "current_value" in state and state["current_value"].notna().all():
        return state["current_value"].astype("float64")
    source = current_sources(state)
    picks = {
        "agreed": state["agreed_value"],
        "counter": state["counter_value"] if "counter_value" in state else None,
        "proposal": state["proposal_value"],
        "suggestion": state["suggestion"],
    }
    out = pd.Series(np.nan, index=state.index, dtype="float64")
    for name, column in picks.items():
        if column is not None:
            mask = (source == name).to_numpy()
            out[mask] = column.astype("float64")[mask]
    return out


def position_vs_interval(value: pd.Series, lower: pd.Series, upper: pd.Series) -> pd.Series:
    """'below', 'within' or 'above' the 80% interval; None where value or bounds are missing."""
    v = value.to_numpy("float64", na_value=np.nan)
    lo = lower.to_numpy("float64", na_value=np.nan)
    hi = upper.to_numpy("float64", na_value=np.nan)
    known = ~(np.isnan(v) | np.isnan(lo) | np.isnan(hi))
    # A tiny tolerance so that rounding an allocation to whole units at the bound
    # does not flip it to "beyond what the data supports".
    tol = 1e-9 * np.maximum(1.0, np.abs(np.nan_to_num(v)))
    pos = np.where(v < lo - tol, "below", np.where(v > hi + tol, "above", "within"))
    return pd.Series(np.where(known, pos, None), index=value.index, dtype="object")


def _pct(num: pd.Series | np.ndarray, den: pd.Series | np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype="float64")
    den = np.asarray(den, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (num - den) / den * 100.0
    return np.where((den == 0) | np.isnan(den), np.nan, out)


_BLOCK_TAG = re.compile(r"</?(br|p|div|li|ul|ol|tr|td|h[1-6])\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
# Emphasis marks only at word edges, so "lead_east" or "2*3" keep their characters.
_MD_MARK = re.compile(r"(^|\s)(#{1,6}|>|[-*+]|\d+\.)\s+|(?<!\w)[*_`~]+|[*_`~]+(?!\w)")
_SPACE = re.compile(r"\s+")


def preview(text: object, limit: int = PREVIEW_CHARS) -> str:
    """Plain-text preview of a justification: no markup, one line, at most limit chars."""
    if text is None or (isinstance(text, float) and math.isnan(text)) or text is pd.NA:
        return ""
    return _preview(str(text), limit)


# Justifications do not change between refreshes; cache so the live board does not
# re-run four regexes per region every second.
@lru_cache(maxsize=4096)
def _preview(text: str, limit: int) -> str:
    # Block tags separate words; inline tags (<b>, <a>) sit inside a sentence.
    s = _TAG.sub("", _BLOCK_TAG.sub(" ", text))
    s = _MD_LINK.sub(r"\1", s)
    s = _MD_MARK.sub(" ", s)
    s = _SPACE.sub(" ", s).strip()
    if len(s) <= limit:
        return s
    cut = s[: limit - 1]
    # Break at a word when there is one late enough; CJK text has no spaces, so cut hard.
    space = cut.rfind(" ")
    if space >= limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,.;:，。；：") + "…"


def _target_period(period: str | Period) -> Period:
    p = period if isinstance(period, Period) else parse_period(period)
    if p is None:
        raise AllocationError("board.err_period", period=period)
    return p


def history_points(history: pd.DataFrame, period: str | Period) -> pd.DataFrame:
    """Per region (index): last_actual, last_actual_period, same_period_last_year, prior_year.

    last_actual is the latest value before the target period; prior_year is the previous
    calendar year's total, annualised from the periods present (so a region with one
    missing quarter is not penalised).
    """
    p = _target_period(period)
    cols = ["last_actual", "last_actual_period", "same_period_last_year", "prior_year"]
    if history is None or history.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="region"))
    # numpy rather than groupby: the board recomputes this on every refresh for every
    # allocation method, and groupby/join cost ~15 ms here against ~1 ms.
    before = history[history["ordinal"] < p.ordinal]
    ordn = before["ordinal"].to_numpy("int64")
    val = before["value"].to_numpy("float64")
    codes, uniques = pd.factorize(before["region"])
    n = len(uniques)
    last = _last_per_group(codes, ordn)
    seasons = FREQ_SEASONS[p.freq]
    ly = np.full(n, np.nan)
    is_ly = ordn == p.shift(-seasons).ordinal
    ly[codes[is_ly]] = val[is_ly]
    y0 = Period(p.freq, p.year - 1, 1).ordinal
    in_prior = (ordn >= y0) & (ordn < y0 + seasons)
    count = np.bincount(codes[in_prior], minlength=n)
    total = np.bincount(codes[in_prior], weights=val[in_prior], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        prior = np.where(count > 0, total / count * seasons, np.nan)
    out = pd.DataFrame(
        {
            "last_actual": np.full(n, np.nan),
            "last_actual_period": pd.Series([None] * n, dtype=object),
            "same_period_last_year": ly,
            "prior_year": prior,
        },
        index=pd.Index(np.asarray(uniques, dtype=object), name="region", dtype=object),
    )
    out.iloc[codes[last], 0] = val[last]
    out.iloc[codes[last], 1] = before["period"].iloc[last].to_numpy(object)
    return out[cols]


# ---------------------------------------------------------------------------- board table


def board_table(
    state: pd.DataFrame,
    regions: pd.DataFrame,
    history: pd.DataFrame,
    period: str | Period,
    lang: str = "en",
    points: pd.DataFrame | None = None,
    labels: tuple[dict, dict] | None = None,
) -> pd.DataFrame:
    """One row per region of the cycle with the board's columns (BOARD_COLUMNS).

    points: history_points(history, period), labels: region_labels(regions, lang), when the
    caller keeps them (they change only with an import). Column types do not depend on the
    values, so rows built apart can be put together (the board's cache replaces the rows a
    change touched).
    """
    s = _by_region(conform_state(state))
    hist = (history_points(history, period) if points is None else points).reindex(s.index)

    name_of, parent_of = region_labels(regions, lang) if labels is None else labels

    def names(ids: Iterable[object]) -> list[object]:
        return [None if _s(rid) is None else name_of.get(rid, str(rid)) for rid in ids]

    parent = pd.Series([parent_of.get(r) for r in s.index], index=s.index, dtype="object")

    def text(values: list[object]) -> pd.Series:
        # One type whatever the values (all missing would be object): see the docstring.
        return pd.Series(values, index=s.index, dtype="str")

    current = current_values(s)
    source = current_sources(s)
    # A Δ only for a number somebody named; the suggestion against itself says nothing.
    has_number = (source != "suggestion").to_numpy() & source.notna().to_numpy()
    status = s["status"].fillna("none").astype("object")
    table = pd.DataFrame(
        {
            "region": s["region"].astype("object"),
            "name": text(names(s.index)),
            "parent": parent,
            "parent_name": text(names(parent)),
            "last_actual": hist["last_actual"].astype("float64"),
            "last_actual_period": hist["last_actual_period"].astype("object"),
            "same_period_last_year": hist["same_period_last_year"].astype("float64"),
            "suggestion": s["suggestion"].astype("float64"),
            "lower80": s["lower80"].astype("float64"),
            "upper80": s["upper80"].astype("float64"),
            "proposal": s["proposal_value"].astype("float64"),
            "agreed": s["agreed_value"].astype("float64"),
            "current": current,
            "current_source": source,
            "delta_pct": np.where(has_number, _pct(current, s["suggestion"]), np.nan),
            "vs_last_year_pct": _pct(current, hist["same_period_last_year"]),
            "position": position_vs_interval(current, s["lower80"], s["upper80"]),
            "status": status,
            "status_label": text([t(f"board.status_{x}", lang) for x in status]),
            "flagged": s["flagged"].fillna(False).astype(bool),
            "counter_value": s["counter_value"].astype("float64"),
            "justification_preview": text([preview(x) for x in s["justification"]]),
            # Fixed types: all-missing would otherwise be object, some-present datetime/float.
            "last_change_at": _utc_times(s["last_change_at"]),
            "older_run": s["answered_older_run"].fillna(False).astype(bool),
            "last_event_id": pd.to_numeric(s["last_event_id"]).astype("float64"),
        }
    )
    order = table.assign(_p=table["parent_name"].fillna("")).sort_values(
        ["_p", "region"], kind="stable"
    )
    return order.drop(columns="_p").reset_index(drop=True)[list(BOARD_COLUMNS)]


def _utc_times(values: pd.Series) -> pd.Series:
    """Times as naive UTC datetime64[us] (the events' "at"), NaT where missing."""
    times = pd.to_datetime(values, utc=True)
    return times.dt.tz_localize(None).astype("datetime64[us]")


def region_labels(regions: pd.DataFrame, lang: str) -> tuple[dict, dict]:
    """(region → display name in lang, region → parent id) of a regions frame."""
    # Plain dicts: a .loc lookup per row cost ~0.3 ms, i.e. 60 ms for 200 regions.
    name_of: dict[object, str] = {}
    parent_of: dict[object, object] = {}
    if regions is not None and not regions.empty:
        for rid, en, zh, par in zip(
            regions["region"].tolist(),
            regions["name_en"].tolist(),
            regions["name_zh"].tolist(),
            regions["parent"].tolist(),
            strict=True,
        ):
            name_of[rid] = region_name(str(rid), _s(en), _s(zh), lang)
            parent_of[rid] = _s(par) or None
    return name_of, parent_of


def _by_region(state: pd.DataFrame) -> pd.DataFrame:
    # Keep "region" as a column too; an unnamed index avoids pandas' ambiguity error when
    # grouping or sorting by "region".
    s = state.set_index("region", drop=False)
    s.index.name = None
    return s


def _s(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return str(value)


def rollup(table: pd.DataFrame) -> pd.DataFrame:
    """Board table summed by parent region; empty (with ROLLUP_COLUMNS) when none has a parent.

    Interval bounds are not summed: the sum of 80% bounds is not the 80% interval of the sum.
    """
    with_parent = table[table["parent"].notna()]
    if with_parent.empty:
        return pd.DataFrame(columns=list(ROLLUP_COLUMNS))
    g = with_parent.groupby("parent", sort=True)
    out = pd.DataFrame(
        {
            "name": g["parent_name"].first(),
            "regions": g.size(),
            "last_actual": g["last_actual"].sum(min_count=1),
            "same_period_last_year": g["same_period_last_year"].sum(min_count=1),
            "suggestion": g["suggestion"].sum(min_count=1),
            "current": g["current"].sum(min_count=1),
            "agreed": g["agreed"].sum(min_count=1),
            "proposed": g["proposal"].count(),
            "flagged": g["flagged"].sum().astype("int64"),
            "agreed_count": g["agreed"].count(),
        }
    )
    out["delta_pct"] = _pct(out["current"], out["suggestion"])
    return out.reset_index()[list(ROLLUP_COLUMNS)]


# ---------------------------------------------------------------------------- headline


def headline(
    state: pd.DataFrame, company_target: float | None, signed_count: int = 0
) -> dict[str, float | int | bool | None]:
    """The numbers across the top of the board.

    gap = company_target − current_sum. Two relative forms, because the seeds speak of
    "1,200 wanted, regions sum to 980: a 22% gap", which is the gap relative to the regions'
    sum ((1200 − 980) / 980 = 22.4%):
    - gap_pct: gap / current_sum × 100 (how much the regions would have to add, the seeds' %)
    - gap_share_of_target_pct: gap / company_target × 100 (18.3% in that example).
    "flagged" counts proposals routed to review (whatever the outcome); "awaiting_review"
    those still waiting for the HR partner.
    """
    state = conform_state(state)
    suggestion = state["suggestion"].astype("float64")
    current = current_values(state)
    agreed = state["agreed_value"].astype("float64")
    status = state["status"].fillna("none")
    target = None if company_target is None else float(company_target)
    sug_sum = float(suggestion.sum())
    cur_sum = float(current.sum())

    def gap_of(total: float) -> tuple[float, float, float]:
        if target is None:
            return math.nan, math.nan, math.nan
        gap = target - total
        pct = gap / total * 100.0 if total else math.nan
        share = gap / target * 100.0 if target else math.nan
        return gap, pct, share

    gap, gap_pct, gap_share = gap_of(cur_sum)
    s_gap, s_gap_pct, _ = gap_of(sug_sum)
    n = len(state)
    n_agreed = int((agreed.notna() | (status == "agreed")).sum())
    return {
        "company_target": target,
        "suggestion_sum": sug_sum,
        "proposal_sum": float(state["proposal_value"].astype("float64").sum()),
        "current_sum": cur_sum,
        "agreed_sum": float(agreed.sum()),
        "gap": gap,
        "gap_pct": gap_pct,
        "gap_share_of_target_pct": gap_share,
        "suggestion_gap": s_gap,
        "suggestion_gap_pct": s_gap_pct,
        "regions": n,
        "proposed": int(state["proposal_value"].notna().sum()),
        "flagged": int(state["flagged"].fillna(False).astype(bool).sum()),
        "awaiting_review": int((status == "flagged").sum()),
        "countered": int((status == "countered").sum()),
        "agreed": n_agreed,
        "signed": int(signed_count),
        "all_agreed": n > 0 and n_agreed == n,
    }


def changes_since(previous_state: pd.DataFrame | None, state: pd.DataFrame) -> set[str]:
    """Regions whose last_event_id differs from the previous refresh (new regions included)."""
    if previous_state is None or previous_state.empty:
        return set()
    for frame in (previous_state, state):
        if "last_event_id" not in frame.columns or "region" not in frame.columns:
            raise KeyError("cycle state lacks column(s): region, last_event_id")
    # Plain dicts: every screen runs this on every refresh, and it needs two columns only.
    before = dict(zip(previous_state["region"].tolist(), _ids(previous_state), strict=True))
    now = zip(state["region"].tolist(), _ids(state), strict=True)
    return {str(r) for r, e in now if r not in before or before[r] != e}


def _ids(state: pd.DataFrame) -> list[float | None]:
    """last_event_id as floats, None where missing (so that missing equals missing)."""
    ids = pd.to_numeric(state["last_event_id"], errors="coerce").astype("float64")
    return [None if math.isnan(x) else x for x in ids.tolist()]


# ---------------------------------------------------------------------------- allocation


def method_label(method: str, lang: str = "en") -> str:
    """Display name of an allocation method."""
    return t(f"board.method_{method}", lang)


def _last_per_group(codes: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Row index of the largest key within each group code (rows of groups that occur)."""
    if len(codes) == 0:
        return np.array([], dtype="int64")
    order = np.lexsort((key, codes))
    sc = codes[order]
    return order[np.r_[sc[1:] != sc[:-1], True]]


def _capacity_basis(
    signals: pd.DataFrame | None, p: Period, signal: str = CAPACITY_SIGNAL
) -> pd.Series:
    """Headcount per region planned for the target period, else the last known before it."""
    if signals is None or signals.empty:
        return pd.Series(dtype="float64")
    sig = signals[signals["signal"] == signal]
    if sig.empty:
        return pd.Series(dtype="float64")
    # Signals may have another frequency than the metric (monthly headcount, quarterly
    # target), so compare calendar dates rather than ordinals; bounds are computed once
    # per distinct label, not per row.
    pcodes, plabels = pd.factorize(sig["period"])
    bounds = [period_bounds(q) if (q := parse_period(lab)) else None for lab in plabels]
    nat = np.iinfo("int64").min
    lab_start = np.array([b[0].value if b else nat for b in bounds], dtype="int64")
    lab_end = np.array([b[1].value if b else nat for b in bounds], dtype="int64")
    start, end = lab_start[pcodes], lab_end[pcodes]
    valid = start != nat
    p_start, p_end = (b.value for b in period_bounds(p))
    rcodes, regions = pd.factorize(sig["region"])
    n = len(regions)
    value = sig["value"].to_numpy("float64")
    in_period = valid & (start <= p_end) & (end >= p_start)
    count = np.bincount(rcodes[in_period], minlength=n)
    total = np.bincount(rcodes[in_period], weights=value[in_period], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        plan = np.where(count > 0, total / count, np.nan)
    before = np.flatnonzero(valid & (end < p_start))
    last = before[_last_per_group(rcodes[before], start[before])]
    known = np.full(n, np.nan)
    known[rcodes[last]] = value[last]
    return pd.Series(np.where(np.isnan(plan), known, plan), index=pd.Index(regions, dtype=object))


def _largest_remainder(total: float, weights: np.ndarray, keys: list[str]) -> np.ndarray:
    """Whole numbers proportional to weights that add up to round(total)."""
    units = round(total)
    quotas = units * weights / weights.sum()
    floors = np.floor(quotas)
    extra = int(units - floors.sum())
    frac = quotas - floors
    # Ties go to the larger weight, then the region id, so reruns give the same answer.
    order = sorted(range(len(keys)), key=lambda i: (-frac[i], -weights[i], keys[i]))
    out = floors.copy()
    for i in order[:extra]:
        out[i] += 1
    return out


def allocate(
    method: str,
    company_target: float,
    state: pd.DataFrame,
    history: pd.DataFrame,
    signals: pd.DataFrame | None,
    period: str | Period,
    integer: bool | None = None,
) -> pd.DataFrame:
    """Split the company target over regions by method (one of METHODS); ALLOCATION_COLUMNS.

    Regions already agreed keep their agreed value; the remainder goes to the others in
    proportion to the method's basis. A region lacking the basis (no headcount, no last
    year) is treated as average: its basis is its suggestion times the others' basis per
    unit of suggestion. integer=None means whole units when the target and the history are
    whole numbers (counts), and then largest-remainder rounding keeps the sum exact.
    """
    if method not in METHODS:
        raise AllocationError("board.err_method", method=method)
    if company_target is None or not math.isfinite(float(company_target)) or company_target < 0:
        raise AllocationError("board.err_target")
    p = _target_period(period)
    state = conform_state(state)
    if state.empty:
        raise AllocationError("board.err_no_regions")
    region = state["region"].to_numpy(object)
    hist = history_points(history, p).reindex(region)
    suggestion = state["suggestion"].to_numpy("float64", na_value=np.nan)
    lower = state["lower80"].to_numpy("float64", na_value=np.nan)
    upper = state["upper80"].to_numpy("float64", na_value=np.nan)
    agreed = state["agreed_value"].to_numpy("float64", na_value=np.nan)
    last_year = hist["same_period_last_year"].to_numpy("float64")

    if method == "suggestion":
        basis = suggestion.copy()
    elif method == "stretch":
        basis = upper.copy()
    elif method == "capacity":
        basis = _capacity_basis(signals, p).reindex(region).to_numpy("float64")
    elif method == "equal_growth":
        # Proportional to the same period last year = the same growth % for every region.
        basis = last_year.copy()
    else:
        basis = hist["prior_year"].to_numpy("float64")
    basis = np.clip(basis, 0, None)

    kept = ~np.isnan(agreed)
    free = ~kept
    imputed = np.isnan(basis) & free
    known = free & ~np.isnan(basis)
    if free.any() and not known.any():
        # Nothing to scale from: answering with the suggestion under another name would
        # mislead the room, so say that the data is missing.
        raise AllocationError("board.err_no_basis", method=method_label(method))
    if imputed.any():
        sug_known = np.nansum(suggestion[known])
        ratio = basis[known].sum() / sug_known if sug_known > 0 else 1.0
        basis = np.where(imputed, np.clip(suggestion, 0, None) * ratio, basis)

    if integer is None:
        values = history["value"].to_numpy("float64") if history is not None else np.array([])
        values = values[~np.isnan(values)]
        integer = float(company_target).is_integer() and bool(np.all(values == np.round(values)))

    target = float(company_target)
    remainder = target - float(agreed[kept].sum())
    implied = agreed.copy()
    w = basis[free]
    if free.any():
        if remainder < -1e-9:
            raise AllocationError("board.err_agreed_exceed", agreed=target - remainder)
        if not np.isfinite(w).all() or w.sum() <= 0:
            raise AllocationError("board.err_no_basis", method=method_label(method))
        if integer:
            shares = _largest_remainder(remainder, w, [str(r) for r in region[free]])
        else:
            shares = remainder * w / w.sum()
            # Put float rounding residue on the largest share so the sum is the target.
            shares[int(np.argmax(shares))] += remainder - shares.sum()
        implied[free] = shares
    elif abs(remainder) > 1e-9:
        raise AllocationError("board.err_all_agreed")

    index = pd.RangeIndex(len(region))
    position = position_vs_interval(
        pd.Series(implied, index=index),
        pd.Series(lower, index=index),
        pd.Series(upper, index=index),
    )
    vs_sug = _pct(implied, suggestion)
    out = pd.DataFrame(
        {
            "region": region,
            "method": method,
            "basis": basis,
            "basis_imputed": imputed,
            "kept": kept,
            "implied": implied,
            "suggestion": suggestion,
            "lower80": lower,
            "upper80": upper,
            "same_period_last_year": last_year,
            "vs_suggestion_pct": vs_sug,
            "vs_last_year_pct": _pct(implied, last_year),
            "position": position,
        },
        index=index,
    )
    for lang in LANGS:
        label = _labeller(lang)
        out[f"label_{lang}"] = [
            label(pos, pct, k) for pos, pct, k in zip(position, vs_sug, kept, strict=True)
        ]
    return out[list(ALLOCATION_COLUMNS)]


def _labeller(lang: str) -> Callable[[str | None, float, bool], str]:
    """A fast allocation_label for one language: templates are looked up once, not per row."""
    kept_text = t("board.alloc_kept", lang)
    none_text = t("board.alloc_no_suggestion", lang)
    same_text = t("board.alloc_same", lang)
    more, less = t("board.alloc_more", lang), t("board.alloc_less", lang)
    joined = t("board.alloc_label", lang)
    where = {pos: t(f"board.position_{pos}", lang) for pos in (*POSITIONS, "unknown")}

    def label(position: str | None, pct: float, kept: bool) -> str:
        if kept:
            return kept_text
        if pct is None or math.isnan(pct):
            diff = none_text
        elif abs(pct) < 0.5:
            diff = same_text
        else:
            diff = (more if pct > 0 else less).format(pct=f"{abs(pct):.0f}")
        return joined.format(diff=diff, where=where[position or "unknown"])

    return label


def allocation_label(position: str | None, vs_suggestion_pct: float, kept: bool, lang: str) -> str:
    """Plain-language sentence on one allocated number, e.g. '12% above the suggestion, ...'."""
    return _labeller(lang)(position, vs_suggestion_pct, kept)


def allocate_all(
    company_target: float,
    state: pd.DataFrame,
    history: pd.DataFrame,
    signals: pd.DataFrame | None,
    period: str | Period,
) -> dict[str, pd.DataFrame | AllocationError]:
    """Every method's allocation (or the error that method gives), for a side-by-side view."""
    out: dict[str, pd.DataFrame | AllocationError] = {}
    for m in METHODS:
        try:
            out[m] = allocate(m, company_target, state, history, signals, period)
        except AllocationError as exc:
            out[m] = exc
    return out


__all__ = [
    "ALLOCATION_COLUMNS",
    "BOARD_COLUMNS",
    "METHODS",
    "POSITIONS",
    "ROLLUP_COLUMNS",
    "STATE_COLUMNS",
    "AllocationError",
    "allocate",
    "allocate_all",
    "allocation_label",
    "board_table",
    "changes_since",
    "conform_state",
    "current_values",
    "headline",
    "history_points",
    "method_label",
    "position_vs_interval",
    "preview",
    "rollup",
]
