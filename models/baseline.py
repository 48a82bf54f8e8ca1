"""The dynamic baseline: pooled, recency-weighted log-growth regression per region.

For each region r and period t the response is the year-over-year log growth
g = log(y_t + c) - log(y_{t-s} + c) (s = periods per year, c an offset that is 0 for
positive series). Features: an intercept and momentum terms from the region's own
history, plus one year-over-year change per signal. Market and pipeline signals enter
with a one-period lag (only known up to the period before the target); capacity signals
are plans, so the value for the target period is used when present.

One weighted least-squares fit per region, solved for all regions at once with batched
normal equations. Observation weights halve every `half_life` periods, and a ridge
penalty pulls each region's coefficients toward the all-region (pooled) fit.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models import calibrate
from models.ets import EtsPaths, ets_forecast, ets_paths
from models.features import SignalFeatures, shared_features, signal_changes
from models.panel import DIMENSIONS, Panel, build_panel, ffill, infer_freq, lag, to_ordinal

HISTORY = "history"
COMPONENTS = (HISTORY, *DIMENSIONS)


@dataclass
class Design:
    """Training rows and the prediction row for one target period, all regions."""

    X: np.ndarray  # (R, N, p): N periods from the first with any usable row to the target
    g: np.ndarray  # (R, N) response: log growth vs same season last year
    w: np.ndarray  # (R, N) recency weights, 0 for unusable rows
    x_new: np.ndarray  # (R, p)
    log_base: np.ndarray  # (R,) log(base + c) for the target period
    base: np.ndarray  # (R,) same season last year (or last value as fallback)
    offset: np.ndarray  # (R,) c
    change_new: np.ndarray  # (R, K) year-over-year change of each signal at prediction
    names: list[str]
    dims: list[str]  # "history" or a dimension, per column
    signal_cols: list[int] = field(default_factory=list)
    # With level gaps (BaselineModel.level_gap): per signal, the column of its gap term,
    # in the order of signal_cols (empty without), and the gap at prediction (R, K).
    gap_cols: list[int] = field(default_factory=list)
    gap_new: np.ndarray | None = None
    # (K,) NaN where change_new is a log change, else the unit it is measured in (a signal
    # that is not always positive changes by differences of level / unit).
    change_unit: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # True when every row is the panel-wide base's row (no region or signal rebuilt), so
    # the recency-weighted products can be carried from one target to the next.
    base_rows: bool = False


def _offset(y: np.ndarray) -> np.ndarray:
    """Per row, the shift that keeps log(y + c) defined: 0 for rows positive so far."""
    # A region with no data yet (early calibration origins) warns "empty slice": expected.
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ymin = np.nanmin(y, axis=1)
        ymean = np.nanmean(np.abs(y), axis=1)
    offset = np.where(np.nan_to_num(ymin, nan=1.0) > 0, 0.0, 0.1 * np.nan_to_num(ymean) + 1e-9)
    return np.where(np.nan_to_num(ymin) < 0, offset - np.nan_to_num(ymin), offset)


def _history_columns(
    y: np.ndarray, offset: np.ndarray, s: int, momentum: bool, reversion: bool
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[str]]:
    """log(y + c), its year-over-year growth g and the history feature columns (finite)."""
    with np.errstate(all="ignore"):  # rows that need a shift are rebuilt, never read here
        ly = np.log(y + offset[:, None])
    g = ly - lag(ly, s)
    cols: list[np.ndarray] = [np.ones_like(g)]
    names = ["intercept"]
    if momentum:
        cols.append(lag(g, 1))
        names.append("momentum")
    if reversion and s > 1:
        # Growth a year ago: noise in last year's value shows up there with the opposite
        # sign, so this term lets the fit smooth a noisy seasonal-naive base.
        cols.append(lag(g, s))
        names.append("year_ago_growth")
    # History terms may hold NaN or inf; the signal changes are finite already.
    return ly, g, [np.nan_to_num(c) for c in cols], names


@dataclass
class _DesignBase:
    """Design rows of every period of a panel, built once and cut at each target.

    Every feature is causal (logs, lags, forward fill), so row n of a target's design only
    depends on data before that target, with two exceptions rebuilt per target: regions
    not positive before it (their log needs a shift) and signals not positive before it.
    """

    end: int
    X: np.ndarray  # (R, T, p) zero where the row is unusable
    g: np.ndarray  # (R, T) growth, 0 where unusable
    g_raw: np.ndarray  # (R, T) growth, NaN where unknown
    valid: np.ndarray  # (R, T)
    ly: np.ndarray  # (R, T) log y, unshifted
    ly_last: np.ndarray  # (R, T) forward-filled log y
    prefix_min: np.ndarray  # (R, T) smallest known y before each period (inf when none)
    names: list[str]
    n_hist: int
    lead: int  # first period (index) with a usable row in any region
    gaps: np.ndarray | None = None  # (K, R, T) level gap per signal (level_gap), else None


GAP_HALF_LIFE = 8.0  # periods: the recency-weighted mean a level gap is measured against
GAP_POOLING = 10.0  # gap terms are pulled toward the pooled fit this many times harder


def level_gaps(ly: np.ndarray, xf: np.ndarray) -> np.ndarray:
    """Per signal, how far the series ran ahead of it: (K, R, T), finite.

    Row t holds log y_{t-1} - log x_{t-1} (both known before t) minus its recency-weighted
    mean over the region's periods up to t - 1 (half-life GAP_HALF_LIFE): positive when the
    series stands higher against its driver than it usually does, which tends to revert
    (an error-correction term, as in Grunfeld's investment ~ lagged value and capital).
    Causal by construction. Zero where unknown (a signal or a series not positive).
    """
    with np.errstate(all="ignore"):  # logs of values not positive are dropped below
        gap = lag(ly[None] - np.log(xf.transpose(1, 0, 2)), 1)
    ok = np.isfinite(gap)
    gap = np.where(ok, gap, 0.0)
    out = np.zeros_like(gap)
    num = np.zeros(gap.shape[:2])
    den = np.zeros(gap.shape[:2])
    decay = 0.5 ** (1.0 / GAP_HALF_LIFE)
    for t in range(gap.shape[2]):
        num *= decay
        num += gap[:, :, t]
        den *= decay
        den += ok[:, :, t]
        with np.errstate(all="ignore"):
            out[:, :, t] = np.where(ok[:, :, t], gap[:, :, t] - num / den, 0.0)
    return out


def _design_base(
    panel: Panel,
    end: int,
    momentum: bool,
    reversion: bool,
    features: SignalFeatures,
    level_gap: bool = False,
) -> _DesignBase:
    key = _base_key(momentum, reversion, level_gap)
    hit = features.memo.get(key)
    if hit is not None and hit.end >= end:
        return hit
    end = max(end, panel.end + 1)  # the suggestion's target too, so backtest and fit share it
    sig = features.arrays(end)
    y = panel.y_until(end)[:, : end - panel.start]
    n_t = y.shape[1]
    ly, g, cols, names = _history_columns(
        y, np.zeros(y.shape[0]), panel.seasons, momentum, reversion
    )
    valid = np.isfinite(g)
    # Stored feature-major (R, p, T) and seen as (R, T, p): each column is a contiguous row,
    # which is the layout the fit's weighted products read fastest.
    gaps = level_gaps(ly, sig.xf[:, :, :n_t]) if level_gap else None
    extra = [] if gaps is None else list(gaps)
    xt = np.zeros((y.shape[0], len(cols) + sig.log_change.shape[0] + len(extra), n_t))
    for i, c in enumerate([*cols, *sig.log_change[:, :, :n_t], *extra]):
        np.copyto(xt[:, i], c, where=valid)
    X = xt.transpose(0, 2, 1)
    known = np.where(np.isfinite(y), y, np.inf)
    before = np.concatenate([np.full((y.shape[0], 1), np.inf), known[:, :-1]], axis=1)
    base = _DesignBase(
        end=end,
        X=X,
        g=np.where(valid, g, 0.0),
        g_raw=g,
        valid=valid,
        ly=ly,
        ly_last=ffill(ly),
        prefix_min=np.minimum.accumulate(before, axis=1),
        names=names,
        n_hist=len(cols),
        lead=int(np.argmax(valid.any(axis=0))) if valid.any() else n_t,
        gaps=gaps,
    )
    features.memo[key] = base
    return base


def _base_key(momentum: bool, reversion: bool, level_gap: bool) -> tuple:
    # The design base's key in SignalFeatures.memo (shared by every setting's fit cache).
    return ("design", momentum, reversion, level_gap)


def build_design(
    panel: Panel,
    target: int,
    half_life: float,
    momentum: bool = True,
    reversion: bool = True,
    features: SignalFeatures | None = None,
    level_gap: bool = False,
) -> Design:
    """Features for every period before `target` (training) and for `target` itself.

    Data at or after the target are masked first (capacity plans for the target excepted),
    so nothing from the target period or later can reach the forecast. The rows come from
    the panel-wide design base (views, no copy) unless a region or signal needs rebuilding.
    """
    if target <= panel.start:
        raise ValueError("target period is before any data")
    if features is None or features.panel is not panel:
        features = SignalFeatures(panel)
    # Signals: causal forward fill, then year-over-year change (log when positive); shared
    # by every target of this panel and cut at this one.
    changes, units = signal_changes(panel, target, features)
    base = _design_base(panel, target + 1, momentum, reversion, features, level_gap)
    ti = target - panel.start
    s = panel.seasons
    n_rows = base.X.shape[0]
    nh = base.n_hist
    shifted = np.flatnonzero(base.prefix_min[:, ti] <= 0)  # regions not positive
    # Periods before the first usable row of any region carry no weight: left out, so the
    # fit's products and robust rounds skip them (4 of 40 quarters when seasonal). Rebuilt
    # regions may have rows there, so designs with any keep every period.
    lead = 0 if len(shifted) else min(base.lead, ti - 1)
    X, g, valid = base.X[:, lead:ti], base.g[:, lead:ti], base.valid[:, lead:ti]
    # The prediction row, whether or not the target's own response is known.
    x_new = np.empty((n_rows, base.X.shape[2]))
    for i, c in enumerate(_history_row(base, ti, s)):
        x_new[:, i] = c
    n_sig = len(changes)
    gap_cols = list(range(nh + n_sig, nh + 2 * n_sig)) if base.gaps is not None else []
    for j, c in enumerate(changes):
        x_new[:, nh + j] = c[:, ti]
    for j, col in enumerate(gap_cols):
        x_new[:, col] = base.gaps[j][:, ti]
    log_base = _log_base(base.ly, base.ly_last, ti, s)
    offset = np.zeros(n_rows)
    patch = [j for j, u in enumerate(units) if np.isfinite(u)]  # signals not positive
    if patch or len(shifted):
        X, g, valid = _copy_design(X), g.copy(), valid.copy()
        for j in patch:
            np.copyto(X[:, :, nh + j], np.where(valid, changes[j][:, lead:ti], 0.0))
            if gap_cols:  # no log gap to a signal that is not positive: the term is off
                X[:, :, gap_cols[j]] = 0.0
                x_new[:, gap_cols[j]] = 0.0
    if len(shifted):
        y = panel.y_until(target + 1)[shifted, : ti + 1].copy()
        y[:, ti] = np.nan
        offset[shifted] = _offset(y)
        ly, g_s, cols, _ = _history_columns(y, offset[shifted], s, momentum, reversion)
        ok = np.isfinite(g_s[:, :ti])
        # A series that needs a shift has no log gap to its signals: those terms are off.
        off = [np.zeros_like(c[shifted]) for c in changes] if gap_cols else []
        sub = np.stack([*cols, *(c[shifted] for c in changes), *off], axis=-1)
        X[shifted] = np.where(ok[..., None], sub[:, :ti], 0.0)
        x_new[shifted] = sub[:, ti]
        g[shifted] = np.where(ok, g_s[:, :ti], 0.0)
        valid[shifted] = ok
        log_base[shifted] = _log_base(ly, ffill(ly), ti, s)
    age = (ti - 1) - np.arange(lead, ti)
    w = np.where(valid, 0.5 ** (age / float(half_life))[None, :], 0.0)
    gap_names = [f"{n}:gap" for n in panel.signal_names] if gap_cols else []
    return Design(
        X=X,
        g=g,
        w=w,
        x_new=x_new,
        log_base=log_base,
        base=np.exp(log_base) - offset,
        offset=offset,
        change_new=x_new[:, nh : nh + n_sig].copy(),
        change_unit=np.array(units, dtype=float),
        names=[*base.names, *panel.signal_names, *gap_names],
        # A gap term belongs to its signal's dimension: the analyst's scale covers both.
        dims=[HISTORY] * nh + list(panel.signal_dims) * (2 if gap_cols else 1),
        signal_cols=list(range(nh, nh + n_sig)),
        gap_cols=gap_cols,
        gap_new=x_new[:, gap_cols].copy() if gap_cols else None,
        base_rows=not patch and not len(shifted),
    )


def _copy_design(X: np.ndarray) -> np.ndarray:
    """A copy of a design (R, N, p) in the base's feature-major memory layout."""
    return X.transpose(0, 2, 1).copy().transpose(0, 2, 1)


def _history_row(base: _DesignBase, ti: int, s: int) -> list[np.ndarray]:
    """History columns of the prediction row at ti: intercept and the growths before it."""
    n = base.g_raw.shape[0]
    out = [np.ones(n)]
    if "momentum" in base.names:
        out.append(np.nan_to_num(base.g_raw[:, ti - 1]) if ti >= 1 else np.zeros(n))
    if "year_ago_growth" in base.names:
        out.append(np.nan_to_num(base.g_raw[:, ti - s]) if ti - s >= 0 else np.zeros(n))
    return out


def _log_base(ly: np.ndarray, ly_last: np.ndarray, ti: int, s: int) -> np.ndarray:
    # Base for the target: same season last year; the last known value when that is missing.
    n = ly.shape[0]
    lb = ly[:, ti - s] if ti - s >= 0 else np.full(n, np.nan)
    last = ly_last[:, ti - 1] if ti >= 1 else np.full(n, np.nan)
    return np.where(np.isfinite(lb), lb, last)


@dataclass
class Fit:
    """Coefficients and uncertainty of the batched weighted ridge fit."""

    coef: np.ndarray  # (R, p)
    coef_pooled: np.ndarray  # (p,)
    factor: SpdStack  # Cholesky factors of XᵀWX + prior (the matrices whose inverse is a_inv)
    sigma2: np.ndarray  # (R,) residual variance on the log scale
    dof: np.ndarray  # (R,) residual degrees of freedom
    n_eff: np.ndarray  # (R,)
    w: np.ndarray  # (R, N) final observation weights (recency x robustness)

    @property
    def a_inv(self) -> np.ndarray:
        """(XᵀWX + prior)⁻¹ per region, (R, p, p): built on request only (a forecast's
        variance needs a quadratic form, Fit.quad, which the factor gives directly)."""
        return self.factor.inverse()

    def quad(self, x: np.ndarray) -> np.ndarray:
        """xᵀ a_inv x per region for rows x (R, p)."""
        return self.factor.quad(x)


class _PackedLower:
    """The lower triangles of a (p, p, R) stack, row by row as (p(p+1)/2, R): what a kept
    factor needs (entries low[i, j], j <= i), at half the memory of the full stack."""

    def __init__(self, low: np.ndarray) -> None:
        p = low.shape[0]
        self.shape = low.shape
        self.rows = np.empty((p * (p + 1) // 2, low.shape[2]))
        for i in range(p):
            self.rows[i * (i + 1) // 2 : (i + 1) * (i + 2) // 2] = low[i, : i + 1]

    def __getitem__(self, ij: tuple[int, int]) -> np.ndarray:
        i, j = ij
        return self.rows[i * (i + 1) // 2 + j]

    def full(self) -> np.ndarray:
        """The (p, p, R) stack, zero above the diagonal."""
        p = self.shape[0]
        out = np.zeros(self.shape)
        for i in range(p):
            out[i, : i + 1] = self.rows[i * (i + 1) // 2 : (i + 1) * (i + 2) // 2]
        return out


class SpdStack:
    """Cholesky factors of a stack of symmetric positive definite matrices.

    Given and stored entry-major, (p, p, R), so each step is one numpy call over all R
    matrices rather than one LAPACK call per matrix (several times faster for 10,000 small
    matrices). A matrix whose factorisation breaks down is handled by LAPACK instead (`bad`).
    """

    def __init__(self, a: np.ndarray, work: dict | None = None) -> None:
        self.a = a
        self.work = work
        self.prior: np.ndarray | None = None  # the shared ridge added to each XᵀWX (_solve)
        p = a.shape[0]
        # With `work`, the factor is the caller's buffer: valid until the next stack built
        # with the same buffers (a fit keeps only its last round's stack).
        low = _buffer(work, "spd_low", a.shape)  # only the lower triangle is written or read
        ok = np.ones(a.shape[2], dtype=bool)
        # Sums are taken in place one term at a time: (j, R) temporaries per step cost more
        # in allocation and page faults than the arithmetic (here and in the solves).
        tmp = np.empty((p, a.shape[2]))
        for j in range(p):
            piv = a[j, j].copy()
            for k in range(j):
                piv -= np.multiply(low[j, k], low[j, k], out=tmp[0])
            ok &= piv > 0
            d = np.sqrt(np.where(piv > 0, piv, 1.0))
            low[j, j] = d
            if j + 1 < p:
                col = low[j + 1 :, j]
                col[...] = a[j + 1 :, j]
                for k in range(j):
                    col -= np.multiply(low[j + 1 :, k], low[j, k], out=tmp[: p - j - 1])
                col /= d
        self.low = low
        self.bad = np.flatnonzero(~ok)

    def _bad_matrices(self) -> np.ndarray:
        return np.ascontiguousarray(self.a[:, :, self.bad].transpose(2, 0, 1))

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """x with m x = rhs, rhs (R, p): forward then back substitution."""
        low = self.low
        p = low.shape[0]
        b = rhs.T
        z = np.empty(b.shape)
        tmp = np.empty(b.shape[1])
        for i in range(p):
            z[i] = b[i]
            for j in range(i):
                z[i] -= np.multiply(low[i, j], z[j], out=tmp)
            z[i] /= low[i, i]
        x = z  # back substitution in place: row i is final before rows above it read it
        for i in reversed(range(p)):
            for j in range(i + 1, p):
                x[i] -= np.multiply(low[j, i], x[j], out=tmp)
            x[i] /= low[i, i]
        out = np.ascontiguousarray(x.T)
        if len(self.bad):
            out[self.bad] = np.linalg.solve(self._bad_matrices(), rhs[self.bad, :, None])[..., 0]
        return out

    def detach(self) -> SpdStack:
        """A copy that owns its factor (this one may live in reused buffers)."""
        out = SpdStack.__new__(SpdStack)
        out.work = None
        out.low = _PackedLower(self.low)  # half the memory of (p, p, R): no upper triangle
        out.bad = self.bad
        out.a = self.a.copy() if len(self.bad) else self.a[:, :, :0]
        return out

    def _forward(
        self, rhs: np.ndarray, lower: bool = False, work: dict | None = None
    ) -> np.ndarray:
        """L⁻¹ rhs per matrix: rhs (p, k, R), or (p, k) shared by every matrix.

        lower: rhs is a shared lower-triangular (p, p), so L⁻¹ rhs is too: row i is
        written up to column i only (the rest of the result is not set).
        """
        low = self.low
        p, r = low.shape[0], low.shape[2]
        n_k = rhs.shape[1]
        z = _buffer(work, "forward", (p, n_k, r))
        tmp = np.empty((n_k, r))
        # Accumulated in place, one earlier row at a time: an (i, k, R) temporary per row
        # cost more in page faults than the arithmetic.
        for i in range(p):
            k = i + 1 if lower else n_k
            top = z[i, :k]
            top[...] = rhs[i, :k] if rhs.ndim == 3 else rhs[i, :k, None]
            for j in range(i):
                kj = min(j + 1, k) if lower else k  # row j of a lower result ends at j
                top[:kj] -= np.multiply(z[j, :kj], low[i, j], out=tmp[:kj])
            top /= low[i, i]
        return z

    def quad(self, x: np.ndarray) -> np.ndarray:
        """xᵀ m⁻¹ x for every matrix, x (R, p): |L⁻¹x|², no inverse formed."""
        out = (self._forward(x.T[:, None, :]) ** 2).sum((0, 1))
        if len(self.bad):
            xb = x[self.bad]
            sol = np.linalg.solve(self._bad_matrices(), xb[:, :, None])[..., 0]
            out[self.bad] = (xb * sol).sum(1)
        return out

    def trace_inv(self, m: np.ndarray, work: dict | None = None) -> np.ndarray:
        """trace(mᵢ⁻¹ m) for a symmetric positive semi-definite m (p, p) shared by all:
        |L⁻¹C|² (Frobenius) with m = CCᵀ, no inverse formed. work: reused buffers."""
        try:
            root, lower = np.linalg.cholesky(m), True
        except np.linalg.LinAlgError:
            lam, vec = np.linalg.eigh(m)
            root, lower = vec * np.sqrt(np.maximum(lam, 0.0)), False
        z = self._forward(root, lower, work)
        out = np.zeros(z.shape[2])
        for i in range(z.shape[0]):
            row = z[i, : i + 1] if lower else z[i]
            out += np.einsum("kr,kr->r", row, row)
        if len(self.bad):
            out[self.bad] = np.einsum("rpq,qp->r", np.linalg.inv(self._bad_matrices()), m)
        return out

    def inverse(self) -> np.ndarray:
        """m⁻¹ for every matrix, (R, p, p)."""
        low = self.low.full() if isinstance(self.low, _PackedLower) else self.low
        p = low.shape[0]
        inv = _buffer(self.work, "spd_inv", low.shape)  # L⁻¹, lower triangular, row by row
        inv.fill(0.0)
        for i in range(p):
            inv[i, i] = 1.0 / low[i, i]
            if i:
                inv[i, :i] = (low[i, :i, None] * inv[:i, :i]).sum(0) * -inv[i, i]
        # (L⁻¹)ᵀ L⁻¹, entry by entry into a (R, p, p) array (L⁻¹ is lower triangular, so
        # entry (a, b) sums rows k >= max(a, b)): no strided transposing copy of the result.
        out = np.empty((low.shape[2], p, p))
        for a in range(p):
            for b in range(a + 1):
                v = (inv[a:, a] * inv[a:, b]).sum(0)
                out[:, a, b] = v
                out[:, b, a] = v
        if len(self.bad):
            out[self.bad] = np.linalg.inv(self._bad_matrices())
        return out


CHUNK = 128  # regions per block of the weighted products (X·w of a block fits in L2 cache)


def _products(d: Design, w: np.ndarray, work: dict | None) -> tuple[np.ndarray, np.ndarray]:
    """Batched XᵀWX, entry-major (p, p, R), and XᵀWy (R, p).

    XᵀWX is written into a buffer of `work`: valid until the next call with it. Regions go
    by blocks of CHUNK so a block's X·w stays in cache from the product that writes it to
    the matmuls that read it (the whole X·w is 20 MB at 10,000 regions: memory traffic,
    not arithmetic, set the cost). Each region's sums are the same as in one stacked product.
    """
    r, n, p = d.X.shape
    xt = d.X.transpose(0, 2, 1)  # (R, p, N), periods contiguous (the design base's layout)
    k = min(r, CHUNK)
    xw = _buffer(work, "xw", (k, p, n))
    part_a = _buffer(work, "xtwx_part", (k, p, p))
    a = _buffer(work, "xtwx", (p, p, r))
    b = np.empty((r, p))
    for lo in range(0, r, CHUNK):
        hi = min(lo + CHUNK, r)
        part = xw[: hi - lo]
        np.multiply(xt[lo:hi], w[lo:hi, None, :], out=part)
        np.matmul(part, d.X[lo:hi], out=part_a[: hi - lo])
        a[:, :, lo:hi] = part_a[: hi - lo].transpose(1, 2, 0)
        np.matmul(part, d.g[lo:hi, :, None], out=b[lo:hi, :, None])
    return a, b


def _huber(d: Design, coef: np.ndarray, work: dict | None = None, keep: bool = True) -> np.ndarray:
    """The design's weights times Huber weights of the residuals of the fit `coef`.

    A one-off spike should not set next year's growth. The scale is the MAD, which the
    spike itself cannot inflate (the RMS let one spike in ten rows raise the cut-off past
    it: Grunfeld WAPE 0.977 -> 0.919 x seasonal naive).
    """
    r, n, _ = d.X.shape
    resid = _buffer(work, "resid", (r, 1, n))
    np.matmul(coef[:, None, :], d.X.transpose(0, 2, 1), out=resid)
    resid = resid[:, 0, :]
    np.subtract(d.g, resid, out=resid)
    # d.w * min(1, 1.5 / max(|r| / scale, 1e-12)), in place: four (R, N) arrays fewer. The
    # weights are a buffer of `work` unless kept (the last round's go into the Fit).
    u = np.abs(resid, out=np.empty((r, n)) if keep else _buffer(work, "huber", (r, n)))
    sd = mad_scale(u, d.w, absolute=True, work=work)
    u /= sd[:, None]
    np.maximum(u, 1e-12, out=u)
    np.divide(1.5, u, out=u)
    np.minimum(u, 1.0, out=u)
    return np.multiply(d.w, u, out=u)


def _solve(
    a: np.ndarray,
    b: np.ndarray,
    w: np.ndarray,
    pooling: float,
    work: dict | None = None,
    harder: list[int] | None = None,
) -> tuple[np.ndarray, np.ndarray, SpdStack]:
    """Per-region coefficients shrunk toward the pooled fit, from XᵀWX (p, p, R) and XᵀWy.

    harder: columns pulled GAP_POOLING times harder toward the pooled fit (the level gaps).
    """
    p = a.shape[0]
    a_pool = a.sum(axis=2)
    w_tot = max(float(w.sum()), 1e-12)
    scale = max(float(np.trace(a_pool)) / p / w_tot, 1e-12)
    # A tiny ridge only guards against exactly singular designs (e.g. a constant signal).
    jitter = 1e-10 * scale * np.eye(p)
    coef_pool = np.linalg.solve(a_pool + jitter * w_tot, b.sum(axis=0))
    prior = pooling * a_pool / w_tot + jitter
    if harder:
        # How fast a series reverts to its driver is a property of the business more than
        # of one region, and a region's few years identify it poorly: pooled harder.
        # D·prior·D with D diagonal keeps the prior symmetric positive definite.
        dvec = np.ones(p)
        dvec[harder] = np.sqrt(GAP_POOLING)
        prior = prior * dvec[:, None] * dvec[None, :]
    lhs = SpdStack(np.add(a, prior[:, :, None], out=_buffer(work, "lhs", a.shape)), work)
    lhs.prior = prior
    return lhs.solve(b + (prior @ coef_pool)[None]), coef_pool, lhs


def _buffer(work: dict | None, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """An uninitialised array of `shape`, reusing the caller's buffer of that name."""
    if work is None:
        return np.empty(shape)
    size = int(np.prod(shape))
    flat = work.get(name)
    if flat is None or flat.size < size:
        flat = work[name] = np.empty(size)
    return flat[:size].reshape(shape)


def mad_scale(
    resid: np.ndarray, w: np.ndarray, absolute: bool = False, work: dict | None = None
) -> np.ndarray:
    """Per row, 1.4826 x the median absolute residual over usable cells (w > 0).

    absolute: resid holds absolute values already. work: reused buffers (see _buffer).
    """
    use = w > 0
    a = _buffer(work, "mad", resid.shape)
    a.fill(np.inf)
    np.copyto(a, resid if absolute else np.abs(resid), where=use)
    a.sort(axis=1)
    n = use.sum(1)
    rows = np.arange(a.shape[0])
    lo = a[rows, np.maximum(n - 1, 0) // 2]
    hi = a[rows, np.minimum(n // 2, a.shape[1] - 1)]
    mad = 1.4826 * 0.5 * (lo + hi)
    # No usable row, or an exact fit: any positive scale gives every row full weight.
    return np.where((n > 0) & (mad > 1e-6), mad, 1e-6)


def fit_design(
    d: Design,
    pooling: float,
    robust: bool = True,
    work: dict | None = None,
    first: tuple[np.ndarray, np.ndarray] | None = None,
) -> Fit:
    """Weighted ridge-to-pooled regression for every region at once.

    work: buffers kept by the caller across fits (models.baseline.FitCache): a fresh 20 MB
    array per round costs as much CPU in page faults as the products written into it.
    first: XᵀWX (p, p, R) and XᵀWy with the design's own weights d.w, when the caller has them.
    """
    # Robust: one Huber re-weighting of the plain fit. A second one changed no panel's
    # WAPE or coverage by more than 0.0001 and cost a third of the fit (bench/RESULTS.md).
    n_iter = 2 if robust else 1
    w = d.w
    a, b = first if first is not None else _products(d, w, work)
    for it in range(n_iter):
        coef, coef_pool, lhs = _solve(a, b, w, pooling, work, d.gap_cols)
        if it < n_iter - 1:
            w = _huber(d, coef, work, keep=it == n_iter - 2)
            a, b = _products(d, w, work)
    resid = _buffer(work, "resid", (w.shape[0], 1, w.shape[1]))
    np.matmul(coef[:, None, :], d.X.transpose(0, 2, 1), out=resid)
    resid = np.subtract(d.g, resid[:, 0, :], out=resid[:, 0, :])
    factor = lhs.detach()
    sw = w.sum(1)
    sq = _buffer(work, "huber", w.shape)  # (R, N) scratch: squares, summed per region
    n_eff = np.where(sw > 0, sw**2 / np.maximum(np.multiply(w, w, out=sq).sum(1), 1e-300), 0.0)
    # trace((XᵀWX + prior)⁻¹ XᵀWX) = p - trace((XᵀWX + prior)⁻¹ prior): the prior is the
    # same for every region, so one shared square root and a forward pass give it.
    df_model = a.shape[0] - factor.trace_inv(lhs.prior, work)
    dof = np.maximum(n_eff - df_model, 1.0)
    np.multiply(resid, resid, out=sq)
    wss = np.multiply(sq, w, out=sq).sum(1)  # weighted sum of squared residuals
    s2 = wss / np.maximum(sw, 1e-12) * n_eff / dof
    # Shrink each region's variance toward the pooled one, as for the coefficients.
    pooled = float(wss.sum() / max(float(sw.sum()), 1e-12))
    nu = max(pooling, 1.0)
    s2 = (n_eff * s2 + nu * pooled) / (n_eff + nu)
    s2 = np.where(np.isfinite(s2), s2, pooled)
    return Fit(coef, coef_pool, factor, s2, dof + nu, n_eff, w)


def scale_vector(dims: list[str], scales: dict[str, float] | None) -> np.ndarray:
    """Per-column multiplier: 1 for history terms, the analyst's scale for each dimension.

    Scales multiply a dimension's fitted effect after the fit; they are not WLS weights.
    """
    scales = scales or {}
    for dim, w in scales.items():
        if dim not in DIMENSIONS or not 0.0 <= float(w) <= 2.0:
            raise ValueError(f"scale {dim}={w}: dimensions are {DIMENSIONS}, scales 0..2")
    return np.array([1.0 if d == HISTORY else float(scales.get(d, 1.0)) for d in dims])


POOLING_GRID = (0.0, 2.0, 4.0, 8.0, 12.0, 20.0, 35.0, 60.0)


def select_pooling(
    panel: Panel,
    target: int,
    half_life: float,
    robust: bool = True,
    momentum: bool = True,
    reversion: bool = True,
    origins: int = 4,
    grid: tuple[float, ...] = POOLING_GRID,
    level_gap: bool = False,
) -> float:
    """Pooling strength with the lowest one-step WAPE over the `origins` periods before target.

    Only data before the target are used, so choosing it adds no look-ahead.
    """
    designs = []
    features = shared_features(panel)  # shared by the origins below (and other settings)
    for o in range(target - origins, target):
        if o - panel.start <= panel.seasons + 1:
            continue
        d = build_design(panel, o, half_life, momentum, reversion, features, level_gap)
        actual = panel.y[:, o - panel.start]
        designs.append((d, actual))
    if not designs:
        return 12.0
    best, best_err = grid[0], np.inf
    work: dict[str, np.ndarray] = {}
    for pooling in grid:
        err = tot = 0.0
        for d, actual in designs:
            fc = forecast(d, fit_design(d, pooling, robust, work), None)["suggestion"]
            ok = np.isfinite(fc) & np.isfinite(actual)
            err += float(np.abs(fc[ok] - actual[ok]).sum())
            tot += float(np.abs(actual[ok]).sum())
        wape = err / tot if tot else np.inf
        if wape < best_err - 1e-12:
            best, best_err = pooling, wape
    return float(best)


def center(d: Design, f: Fit, scales: dict[str, float] | None) -> tuple[np.ndarray, ...]:
    """Log-scale forecast mu and its standard error sd (parameter + residual) per region."""
    v = scale_vector(d.dims, scales)
    mu = d.log_base + (d.x_new * f.coef * v).sum(1)
    xt = d.x_new * v
    var = f.sigma2 * (1.0 + f.quad(xt))
    return mu, np.sqrt(np.maximum(var, 0))


def forecast(
    d: Design,
    f: Fit,
    scales: dict[str, float] | None,
    level: float = 0.8,
    cal: tuple[float, float] | None = None,
    blend: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict:
    """Point forecast, interval and exact additive contributions for the target period.

    cal: lower and upper quantiles of scaled one-step errors (models.calibrate); None
    keeps the parametric Student-t interval. blend: (lam, other) per region, the forecast
    becomes lam x this model + (1 - lam) x other (a history-only forecast, so its share
    counts as own history and every signal's part scales by lam).
    """
    v = scale_vector(d.dims, scales)
    eta = d.x_new * f.coef * v  # (R, p) log-scale effect of each column
    hist_cols = [i for i, dm in enumerate(d.dims) if dm == HISTORY]
    eta_hist = eta[:, hist_cols].sum(1)
    m = np.exp(d.log_base + eta_hist)  # shifted scale, history only
    history = m - d.offset
    k = len(d.signal_cols)
    sig = eta[:, d.signal_cols + d.gap_cols]  # each signal's change, then its level gap
    total = sig.sum(1)
    # Logarithmic-mean split: each signal gets its share of the multiplicative change,
    # signs follow the log effects and the parts add up to the whole.
    with np.errstate(all="ignore"):
        factor = np.where(np.abs(total) > 1e-12, np.expm1(total) / total, 1.0)
    sig_contrib = m[:, None] * sig * factor[:, None]
    # A signal's effect is its change's part plus its level gap's part (when fitted).
    gap_contrib = None
    if d.gap_cols:
        gap_contrib = sig_contrib[:, k:]
        sig_contrib = sig_contrib[:, :k] + gap_contrib
    dims_sig = [d.dims[i] for i in d.signal_cols]
    contrib = {HISTORY: history}
    for dim in DIMENSIONS:
        idx = [j for j, dm in enumerate(dims_sig) if dm == dim]
        contrib[dim] = sig_contrib[:, idx].sum(1) if idx else np.zeros_like(history)
    mu = d.log_base + eta.sum(1)
    if blend is not None:
        lam, other = blend
        lam = np.where(np.isfinite(other), lam, 1.0)
        other = np.nan_to_num(other)
        sig_contrib = sig_contrib * lam[:, None]
        if gap_contrib is not None:
            gap_contrib = gap_contrib * lam[:, None]
        contrib = {c: v_ * lam for c, v_ in contrib.items()}
        contrib[HISTORY] = contrib[HISTORY] + (1.0 - lam) * other
    suggestion = contrib[HISTORY] + contrib["market"] + contrib["pipeline"] + contrib["capacity"]
    if blend is not None:
        with np.errstate(all="ignore"):
            mu_b = np.log(suggestion + d.offset)
        mu = np.where(np.isfinite(mu_b), mu_b, mu)
    xt = d.x_new * v
    var = f.sigma2 * (1.0 + f.quad(xt))
    sd = np.sqrt(np.maximum(var, 0))
    if cal is None:
        # Imported here: scipy.stats takes 0.6 s to import, and every server, CLI run and
        # worker imports this module while few of them fit an uncalibrated interval.
        from scipy import stats

        q = stats.t.ppf(0.5 + level / 2, df=f.dof)
        q_lo, q_hi = -q, q
    else:
        # The range always holds the suggestion itself, even when past errors lean one way.
        q_lo, q_hi = min(cal[0], 0.0), max(cal[1], 0.0)
    # Clipping only stops overflow for degenerate fits (fewer rows than features).
    lower = np.exp(np.clip(mu + q_lo * sd, -700, 700)) - d.offset
    upper = np.exp(np.clip(mu + q_hi * sd, -700, 700)) - d.offset
    return {
        "suggestion": suggestion,
        "lower80": lower,
        "upper80": upper,
        "contrib": contrib,
        "signal_contrib": sig_contrib,
        "gap_contrib": gap_contrib,  # (R, K) the level gaps' share of signal_contrib, or None
        "sd_log": sd,
    }


class FitCache:
    """Fits of one panel by target ordinal and settings, shared by fit, suggest and backtest."""

    def __init__(self, panel: Panel) -> None:
        self.panel = panel
        # Shared by every cache of this panel (the panel itself is shared, read-only).
        self.features = shared_features(panel)
        self.items: dict[tuple, tuple[Design, Fit]] = {}
        self.work: dict[str, np.ndarray] = {}  # buffers every fit of this panel reuses
        # Per design settings: (target, XᵀWX, XᵀWy) of the first round at the last target.
        self._gram: dict[tuple, tuple[int, np.ndarray, np.ndarray]] = {}
        self._ets: EtsPaths | None = None
        self._ets_at: dict[int, np.ndarray] = {}
        # center() of each calibration origin for the latest analyst scales: consecutive
        # targets share all but one of their origins.
        self._centers: tuple[tuple, dict] = ((), {})

    def get(self, target: int, model: BaselineModel) -> tuple[Design, Fit]:
        """Design and fit for `target` (data before it only) with the model's settings."""
        key = (target, *self._key(model))
        hit = self.items.get(key)
        if hit is None:
            d = build_design(
                self.panel,
                target,
                model.half_life,
                model.momentum,
                model.reversion,
                self.features,
                model.level_gap,
            )
            pooling = model.pooling_at(self.panel, target)
            first = self._first_products(d, target, model)
            hit = (d, fit_design(d, pooling, model.robust, self.work, first))
            self.items[key] = hit
        return hit

    def has(self, target: int, model: BaselineModel) -> bool:
        """True when the fit for `target` with the model's settings is held."""
        return (target, *self._key(model)) in self.items

    def _first_products(
        self, d: Design, target: int, model: BaselineModel
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The first round's XᵀWX and XᵀWy at `target`, carried from an earlier target.

        A target's recency weights are the previous target's times 0.5^(1 / half_life),
        plus the newest period at weight 1, so consecutive targets (the backtest origins
        and their calibration windows) need one period's outer products instead of a
        product over every period. None when the design has rebuilt rows.
        """
        if not d.base_rows:
            return None
        key = (model.half_life, model.momentum, model.reversion, model.level_gap)
        state = self._gram.get(key)
        if state is None or state[0] > target:
            a, b = _products(d, d.w, None)  # fresh arrays, kept beyond the next fit
        else:
            t0, a, b = state  # arrays of this cache only: updated in place
            base = self.features.memo[_base_key(model.momentum, model.reversion, model.level_gap)]
            decay = 0.5 ** (1.0 / float(model.half_life))
            lo, hi = t0 - self.panel.start, target - self.panel.start
            # The new periods' rows, period-major (k, p, R): one pass over the base.
            rows = np.ascontiguousarray(base.X[:, lo:hi].transpose(1, 2, 0))
            outer = _buffer(self.work, "outer", a.shape)
            for j in range(hi - lo):
                x, g = rows[j], base.g[:, lo + j]  # zero where the row is unusable
                a *= decay
                a += np.multiply(x[:, None, :], x[None, :, :], out=outer)
                b *= decay
                b += g[:, None] * x.T
        self._gram[key] = (target, a, b)
        return a, b

    @staticmethod
    def _key(model: BaselineModel) -> tuple:
        return (
            model.half_life,
            model.pooling,
            model.robust,
            model.momentum,
            model.reversion,
            model.level_gap,
        )

    def ets(self, target: int) -> np.ndarray:
        """Batched damped-trend exponential smoothing forecast for `target` (causal)."""
        if self._ets is None or self._ets.periods <= target - self.panel.start:
            # The paths depend on the panel only: shared with every other setting's cache.
            paths = self.features.memo.get("ets")
            if paths is None or paths.periods <= target - self.panel.start:
                paths = ets_paths(self.panel, max(target + 1, self.panel.end + 1))
                self.features.memo["ets"] = paths
            self._ets = paths
            self._ets_at = {}
        if target not in self._ets_at:
            self._ets_at[target] = ets_forecast(self._ets, target)
        return self._ets_at[target]

    def _center(self, o: int, model: BaselineModel, scales: dict[str, float] | None):
        d_o, f_o = self.get(o, model)
        key = (self._key(model), tuple(scale_vector(d_o.dims, scales)))
        if self._centers[0] != key:
            self._centers = (key, {})
        hit = self._centers[1].get(o)
        if hit is None:
            hit = self._centers[1][o] = center(d_o, f_o, scales)
        return d_o, hit

    def forecast_at(
        self, target: int, model: BaselineModel, scales: dict[str, float] | None
    ) -> dict:
        """Forecast for `target`: combination weights and calibrated interval come from
        one-step errors at the origins before it (forecast() output plus `interval`)."""
        d, f = self.get(target, model)
        window = calibrate.window_origins(self.panel.start, self.panel.seasons, target)
        past = []
        for o in window:
            d_o, (mu, sd) = self._center(o, model, scales)
            actual = self.panel.y[:, o - self.panel.start]
            other = self.ets(o) if model.combine else None
            past.append((o, mu, sd, d_o.offset, actual, other))
        blend = None
        combined = False
        if model.combine and past:
            lam = combination_weights(past)
            if model.combine != "auto" or _blend_helps(past, lam):
                blend, combined = (lam, self.ets(target)), True
        errors = []
        for o, mu, sd, off, actual, other in past:
            if combined:
                lam_o = np.where(np.isfinite(other), blend[0], 1.0)
                fc = lam_o * (np.exp(mu) - off) + (1 - lam_o) * np.nan_to_num(other)
                with np.errstate(all="ignore"):
                    mu = np.where(fc + off > 0, np.log(np.maximum(fc + off, 1e-300)), mu)
            errors.append(calibrate.scaled_errors(o, actual, mu, sd, off))
        q = calibrate.quantiles(errors, target, model.level)
        out = forecast(d, f, scales, model.level, q[:2] if q else None, blend)
        out["interval"] = {
            "method": "calibrated" if q else "parametric",
            "errors": q[2] if q else 0,
            "origins": [self.panel.label(o) for o in window],
            "combined": combined,
        }
        return out


def combination_weights(past: list[tuple]) -> np.ndarray:
    """Per region, the model's share against exponential smoothing: inverse relative
    squared one-step error, each region's error shrunk toward the all-region mean."""
    rel_m, rel_e = [], []
    for _o, mu, _sd, off, actual, other in past:
        with np.errstate(all="ignore"):
            scale = np.abs(actual)
            rel_m.append((np.exp(mu) - off - actual) / scale)
            rel_e.append((other - actual) / scale)
    em, ee = np.array(rel_m) ** 2, np.array(rel_e) ** 2
    ok = np.isfinite(em) & np.isfinite(ee)
    n = ok.sum(0)
    with np.errstate(all="ignore"):
        msm = np.where(ok, em, 0).sum(0) / np.maximum(n, 1)
        mse = np.where(ok, ee, 0).sum(0) / np.maximum(n, 1)
        pm, pe = (
            float(em[ok].mean()) if ok.any() else 1.0,
            float(ee[ok].mean()) if ok.any() else 1.0,
        )
        k = float(SHRINK_ERRORS)
        msm = (n * msm + k * pm) / (n + k)
        mse = (n * mse + k * pe) / (n + k)
        lam = mse / (msm + mse)
    return np.where(np.isfinite(lam), lam, 1.0)


def _blend_helps(past: list[tuple], lam: np.ndarray) -> bool:
    # The combination is used only when it beat the model alone over the same origins.
    err_m = err_b = 0.0
    for _o, mu, _sd, off, actual, other in past:
        fm = np.exp(mu) - off
        lam_o = np.where(np.isfinite(other), lam, 1.0)
        fb = lam_o * fm + (1 - lam_o) * np.nan_to_num(other)
        ok = np.isfinite(actual) & np.isfinite(fm) & np.isfinite(fb)
        err_m += float(np.abs(fm[ok] - actual[ok]).sum())
        err_b += float(np.abs(fb[ok] - actual[ok]).sum())
    return err_b < BLEND_MARGIN * err_m


@dataclass(frozen=True)
class ReasonInputs:
    """What a region's reason says, as numbers: own history, then each signal's effect."""

    suggestion: np.ndarray  # (R,)
    history: np.ndarray  # (R,) the own-history part of the suggestion
    signals: list[str]  # K signal names
    change: np.ndarray  # (R, K) year-over-year change per signal
    contrib: np.ndarray  # (R, K) effect on the suggestion per signal
    unit: np.ndarray | None  # (K,) NaN for a log change, else the unit of a level change
    # With level gaps: (R, K) each signal's log gap to its usual level against the series,
    # and the part of contrib that comes from it (None without level gaps).
    gap: np.ndarray | None = None
    gap_contrib: np.ndarray | None = None


SHRINK_ERRORS = 8  # pseudo-origins of all-region error each region's error is shrunk toward
BLEND_MARGIN = 0.95  # the combination must beat the model alone by 5% over the window


class BaselineModel:
    """Per-region dynamic baseline with recency weights, pooling and analyst dimension scales.

    half_life: periods after which an observation's weight halves.
    pooling: prior strength toward the all-region fit, in effective observations
        (0 = independent regions, large = one common model), or "auto" to pick it by
        one-step error over the 4 periods before the target (chosen value in `pooling_`).
    scales: the analyst's scale per dimension (market, pipeline, capacity), 0..2, default 1:
        it multiplies the dimension's fitted effect after the fit (not a regression weight).
    weights: the former name of scales, still accepted.
    level_gap: also fit, per signal, how far the series ran ahead of it (log level gap
        against its recency-weighted mean, see level_gaps), so a series that outran its
        driver is expected to come back toward it. Off by default; the nested backtest's
        tuning origins choose it per panel (models.backtest.CANDIDATES).
    """

    def __init__(
        self,
        half_life: float = 8.0,
        pooling: float | str = 12.0,
        scales: dict[str, float] | None = None,
        robust: bool = True,
        momentum: bool = True,
        reversion: bool = True,
        level: float = 0.8,
        freq: str | None = None,
        combine: bool | str = "auto",
        weights: dict[str, float] | None = None,
        level_gap: bool = False,
    ) -> None:
        if scales is not None and weights is not None:
            raise ValueError("give scales (weights is its former name), not both")
        self.half_life = half_life
        self.pooling = pooling
        self.scales = scales if scales is not None else weights
        self.robust = robust
        self.momentum = momentum
        self.reversion = reversion
        self.level = level
        self.freq = freq
        self.combine = combine
        self.level_gap = level_gap

    def get_params(self) -> dict:
        """Settings as a dict (scikit-learn convention)."""
        return {
            "half_life": self.half_life,
            "pooling": self.pooling,
            "scales": dict(self.scales) if self.scales else None,
            "robust": self.robust,
            "momentum": self.momentum,
            "reversion": self.reversion,
            "level": self.level,
            "freq": self.freq,
            "combine": self.combine,
            "level_gap": self.level_gap,
        }

    def fit(
        self,
        history: pd.DataFrame,
        signals: pd.DataFrame | None = None,
        target_period: str | int | None = None,
        panel: Panel | None = None,
    ) -> BaselineModel:
        """Fit on everything before target_period (default: the period after the last one)."""
        freq = self.freq or (panel.freq if panel is not None else infer_freq(history))
        if panel is None:
            panel = build_panel(history, signals, freq)
        if target_period is None:
            known = np.where(np.isfinite(panel.y).any(axis=0))[0]
            target = panel.start + int(known.max()) + 1
        else:
            target = to_ordinal(target_period, freq)
        self.freq_ = freq
        self.panel_ = panel
        self.target_ordinal_ = target
        self.target_period_ = panel.label(target)
        self.regions_ = list(panel.regions)
        cache = getattr(self, "_cache", None)
        if cache is None or cache.panel is not panel:
            self._cache = FitCache(panel)
        # One-step errors at the origins before the target calibrate the interval. Fitted
        # oldest first: each fit carries its products on to the next (FitCache).
        self.cal_origins_ = calibrate.window_origins(panel.start, panel.seasons, target)
        for o in self.cal_origins_:
            self._cache.get(o, self)
        self.design_, self.fit_ = self._cache.get(target, self)
        self.pooling_ = self.pooling_at(panel, target)
        self.feature_names_ = list(self.design_.names)
        self.feature_dims_ = list(self.design_.dims)
        self.coef_ = self.fit_.coef
        self.coef_pooled_ = self.fit_.coef_pooled
        self.sigma_ = np.sqrt(self.fit_.sigma2)
        return self

    def pooling_at(self, panel: Panel, target: int) -> float:
        """The pooling strength used for a fit at `target` (chosen there when "auto")."""
        if self.pooling == "auto":
            return select_pooling(
                panel,
                target,
                self.half_life,
                self.robust,
                self.momentum,
                self.reversion,
                level_gap=self.level_gap,
            )
        return float(self.pooling)

    def with_scales(self, scales: dict[str, float] | None) -> BaselineModel:
        """This fitted model with other analyst scales, sharing its fits (scales need none).

        The copy and this model share one fit cache: use them from one thread at a time.
        """
        scale_vector([], scales)  # validated here, before any forecast
        other = copy.copy(self)
        other.scales = scales
        return other

    @property
    def weights(self) -> dict[str, float] | None:
        """Former name of `scales`, kept for callers written before the rename."""
        return self.scales

    def _forecast(self, scales: dict[str, float] | None) -> dict:
        out = self._cache.forecast_at(self.target_ordinal_, self, scales)
        self.interval_ = out["interval"]
        return out

    def predict(self, scales: dict[str, float] | None = None) -> pd.DataFrame:
        """One row per region: suggestion, 80% interval and contributions (numbers only).

        scales overrides the analyst's dimension scales without refitting. Plain-language reasons
        are built from explain() by calibration.modeling.reasons (models/ holds no UI text).
        """
        return self.explain(scales)[0]

    def explain(self, scales: dict[str, float] | None = None) -> tuple[pd.DataFrame, ReasonInputs]:
        """predict()'s table and the numbers a reason is written from, from one forecast."""
        scales = self.scales if scales is None else scales
        d = self.design_
        out = self._forecast(scales)
        df = pd.DataFrame(
            {
                "region": self.regions_,
                "period": self.target_period_,
                "suggestion": out["suggestion"],
                "lower80": out["lower80"],
                "upper80": out["upper80"],
                "base": d.base,
                **{c: out["contrib"][c] for c in COMPONENTS},
            }
        )
        parts = ReasonInputs(
            suggestion=out["suggestion"],
            history=out["contrib"][HISTORY],
            signals=[d.names[i] for i in d.signal_cols],
            change=d.change_new,
            contrib=out["signal_contrib"],
            unit=d.change_unit,
            gap=d.gap_new,
            gap_contrib=out["gap_contrib"],
        )
        return df, parts

    suggest = predict

    def signal_table(self, scales: dict[str, float] | None = None, out: dict | None = None):
        """Long table: region, signal, dimension, change (year over year), contribution."""
        d = self.design_
        if out is None:
            out = self._forecast(self.scales if scales is None else scales)
        names = [d.names[i] for i in d.signal_cols]
        dims = [d.dims[i] for i in d.signal_cols]
        r = len(self.regions_)
        k = len(names)
        return pd.DataFrame(
            {
                "region": np.repeat(self.regions_, k),
                "signal": np.tile(np.array(names, dtype=object), r),
                "dimension": np.tile(np.array(dims, dtype=object), r),
                "change": d.change_new.reshape(-1),
                "contribution": out["signal_contrib"].reshape(-1),
            }
        )
