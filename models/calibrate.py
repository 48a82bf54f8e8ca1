"""80% intervals calibrated on the model's own one-step rolling-origin errors.

For a target T the model is also fitted at the `window` origins before T (each on data
before that origin only). Their one-step errors on the log scale, divided by the model's
own standard error at that origin, are pooled across all regions and weighted by recency;
the interval at T is the forecast plus the weighted 10% and 90% quantiles of those scaled
errors times T's standard error (split-conformal with a normalised score). Every error
comes from an origin before T, so the interval adds no look-ahead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WINDOW = 8  # origins of one-step errors behind each interval
HALF_LIFE = 4.0  # origins after which an error's weight halves
MIN_ERRORS = 20  # fewer scaled errors than this: keep the parametric interval
FINITE_SAMPLE = 0.25  # widening of each tail, in (effective) observations


@dataclass
class Scaled:
    """Scaled one-step errors of every region at one origin (NaN where no actual)."""

    origin: int
    z: np.ndarray  # (R,)


def scaled_errors(
    origin: int, actual: np.ndarray, mu: np.ndarray, sd: np.ndarray, offset: np.ndarray
) -> Scaled:
    """(log(actual + c) - mu) / sd per region; NaN where the error is undefined."""
    with np.errstate(all="ignore"):
        z = (np.log(actual + offset) - mu) / sd
    return Scaled(origin, np.where(np.isfinite(z) & (sd > 0), z, np.nan))


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Quantiles of a weighted sample (inverse of the weighted empirical distribution)."""
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cw = np.cumsum(w)
    cw = cw / cw[-1]
    idx = np.searchsorted(cw, np.clip(q, 0.0, 1.0), side="left")
    return v[np.minimum(idx, len(v) - 1)]


def quantiles(
    errors: list[Scaled], target: int, level: float = 0.8, half_life: float = HALF_LIFE
) -> tuple[float, float, int] | None:
    """Lower and upper scaled-error quantiles for `target` and the number of errors used.

    Only errors from origins before `target` count. None when there are too few.
    """
    z_parts, w_parts = [], []
    for e in errors:
        if e.origin >= target:
            continue
        ok = np.isfinite(e.z)
        z_parts.append(e.z[ok])
        w_parts.append(np.full(int(ok.sum()), 0.5 ** ((target - 1 - e.origin) / half_life)))
    if not z_parts:
        return None
    z, w = np.concatenate(z_parts), np.concatenate(w_parts)
    if z.size < MIN_ERRORS:
        return None
    # Finite-sample correction of split conformal, with the effective sample size of the
    # recency weights: a slightly wider quantile than the plain one.
    n_eff = w.sum() ** 2 / (w**2).sum()
    tail = max((1.0 - level) / 2 - FINITE_SAMPLE / n_eff, 0.0)
    lo, hi = weighted_quantile(z, w, np.array([tail, 1.0 - tail]))
    return float(lo), float(hi), int(z.size)


def window_origins(start: int, seasons: int, target: int, window: int = WINDOW) -> list[int]:
    """Origins whose one-step errors calibrate the interval at `target` (enough history)."""
    return [o for o in range(target - window, target) if o - start > seasons + 1]
