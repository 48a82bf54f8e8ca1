"""Signal features shared by every target period of one panel, computed once per panel.

A fit, a suggestion and each backtest origin all need the same year-over-year signal
changes, only cut at different periods. Forward fill and differences are causal, so the
changes over the whole panel, cut at a target, equal those built from the panel masked at
that target. The one exception, a signal not positive in every known period up to the
target, is rebuilt from the masked data, exactly as before.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np

from models.panel import Panel, ffill, lag


@dataclass
class _SignalArrays:
    end: int  # ordinal one past the last period covered
    xf: np.ndarray  # (R, K, T) forward-filled signal levels
    prefix_min: np.ndarray  # (K, T) smallest known level up to and including each period
    log_change: np.ndarray  # (K, R, T) change of log levels (valid where all positive)


class SignalFeatures:
    """Signal changes of one panel, computed once and kept here, never on the panel.

    A Panel may be shared by every session (the Lab's cache_resource), so it is only read;
    whoever fits many targets (models.baseline.FitCache) owns one of these.
    """

    def __init__(self, panel: Panel) -> None:
        # Weak: the shared registry below must not keep a panel alive. Whoever uses these
        # features holds the panel itself.
        self._panel = weakref.ref(panel)
        self._arrays: _SignalArrays | None = None
        # Other panel-wide arrays built once by their users (models.baseline's design base).
        self.memo: dict = {}

    @property
    def panel(self) -> Panel | None:
        """The panel these features describe (None once it is gone)."""
        return self._panel()

    def arrays(self, end: int) -> _SignalArrays:
        """Arrays covering ordinals up to end - 1, computed on first need or when too short."""
        if self._arrays is None or self._arrays.end < end:
            self._arrays = _compute(self.panel, end)
        return self._arrays


_SHARED: dict[int, SignalFeatures] = {}
_SHARED_LOCK = threading.Lock()


def shared_features(panel: Panel) -> SignalFeatures:
    """The one SignalFeatures of `panel`, shared by every fit cache of it.

    Features, design bases and smoothing paths do not depend on the half-life or pooling,
    so the Model Lab's fit for a new setting reuses them (about 0.2 s at 10,000 stores).
    Entries go when their panel is collected. What is kept is only ever replaced whole,
    never changed in place, so threads may share it.
    """
    key = id(panel)
    with _SHARED_LOCK:
        hit = _SHARED.get(key)
        if hit is None or hit.panel is not panel:
            hit = _SHARED[key] = SignalFeatures(panel)
            weakref.finalize(panel, _SHARED.pop, key, None)
        return hit


def level_scale(v: np.ndarray) -> float:
    """NaN when a signal's changes are log changes (all known values positive), else the
    unit its level changes are measured in (mean absolute known value)."""
    known = v[np.isfinite(v)]
    if known.size and known.min() > 0:
        return float("nan")
    scale = float(np.mean(np.abs(known))) if known.size else 1.0
    return scale if scale > 0 else 1.0


def signal_change(v: np.ndarray, capacity: bool, seasons: int) -> np.ndarray:
    """Year-over-year change of one forward-filled signal (R, T): log when all positive."""
    scale = level_scale(v)
    lv = np.log(v) if np.isnan(scale) else v / scale
    # Capacity is a plan: the target period's own value is known. Others lag one period.
    step = 0 if capacity else 1
    c = lag(lv, step) - lag(lv, step + seasons)
    return np.nan_to_num(c, nan=0.0, posinf=0.0, neginf=0.0)


def _compute(panel: Panel, end: int) -> _SignalArrays:
    # Cover the period after the last one too, so a suggestion reuses the backtest's work.
    ext = panel.extended(max(end, panel.end + 1))
    xf = ffill(ext.x)
    k = xf.shape[1]
    log_change = np.zeros((k, *ext.y.shape))
    with np.errstate(all="ignore"):  # logs of non-positive signals are computed, never used
        prefix_min = np.minimum.accumulate(
            np.where(np.isfinite(xf), xf, np.inf).min(axis=0, initial=np.inf), axis=-1
        )
        for j, dim in enumerate(ext.signal_dims):
            lv = np.log(xf[:, j, :])
            step = 0 if dim == "capacity" else 1
            c = lag(lv, step) - lag(lv, step + ext.seasons)
            log_change[j] = np.nan_to_num(c, nan=0.0, posinf=0.0, neginf=0.0)
    return _SignalArrays(ext.end, xf, prefix_min, log_change)


def signal_changes(
    panel: Panel, target: int, features: SignalFeatures | None = None
) -> tuple[list[np.ndarray], list[float]]:
    """Per signal, its change for periods panel.start..target (R, ti + 1), masked at target,
    and its level_scale() (NaN for log changes) so a reason can show the change in units.

    Market and pipeline values of the target period are unknown at prediction time;
    capacity plans for it are known. Equal to signal_change() on the masked, filled panel.
    features: the panel's SignalFeatures when the caller fits several targets (else built).
    """
    ti = target - panel.start
    if ti < 1:
        raise ValueError("target period must come after the panel's first period")
    if features is None or features.panel is not panel:
        features = SignalFeatures(panel)
    cache = features.arrays(target + 1)
    out = []
    scales: list[float] = []
    for j, dim in enumerate(panel.signal_dims):
        cap = dim == "capacity"
        # Smallest known level the masked panel holds (its target column repeats ti - 1).
        low = cache.prefix_min[j, ti if cap else ti - 1]
        if np.isfinite(low) and low > 0:
            out.append(cache.log_change[j, :, : ti + 1])
            scales.append(float("nan"))
            continue
        v = cache.xf[:, j, : ti + 1].copy()
        if not cap:
            v[:, ti] = v[:, ti - 1]
        out.append(signal_change(v, cap, panel.seasons))
        scales.append(level_scale(v))
    return out, scales
