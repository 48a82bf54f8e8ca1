"""Batched damped-trend exponential smoothing for every region at once (numpy, causal).

Additive Holt-Winters with a damped trend, run once over the whole panel for a small grid
of smoothing parameters. The one-step prediction at period t uses only data before t, and
each region's parameters at a target are the grid point with the least squared one-step
error before that target, so every forecast is causal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.panel import Panel, ffill

# (alpha, beta, gamma, phi): level, trend, season smoothing and trend damping.
GRID = tuple((a, b, g, 0.9) for a in (0.1, 0.3, 0.6) for b in (0.0, 0.1) for g in (0.05, 0.25))


@dataclass
class EtsPaths:
    """Per period, the prediction of the grid point with the least squared one-step error
    over the periods before it (chosen during the pass: no (T, G, R) arrays are kept)."""

    start: int
    best: np.ndarray  # (T, R) prediction of period t from data before t

    @property
    def periods(self) -> int:
        """Number of periods covered (ordinals start .. start + periods - 1)."""
        return self.best.shape[0]


def ets_paths(panel: Panel, end: int) -> EtsPaths:
    """Run every grid point over the panel up to ordinal end - 1 (one pass, all regions)."""
    n_t = end - panel.start
    # A missing period repeats the last value (causal); period-major so each step reads
    # and writes contiguous rows.
    y = np.ascontiguousarray(ffill(panel.y_until(end)[:, :n_t]).T)
    r = y.shape[1]
    m = panel.seasons
    known = np.isfinite(y)
    first = np.where(known.any(0), np.argmax(known, axis=0), n_t)
    init_at = first + max(m, 2)  # one year (two periods when annual) to start the states
    grid = np.array(GRID if m > 1 else [(a, b, 0.0, p) for a, b, _, p in GRID[::2]])
    alpha, beta, gamma, phi = (grid[:, i][:, None] for i in range(4))
    a_b, g_a = alpha * beta, gamma * (1 - alpha)
    g_n = len(grid)
    lvl = np.full((g_n, r), np.nan)
    trd = np.zeros((g_n, r))
    sea = np.zeros((m, g_n, r))
    best = np.full((n_t, r), np.nan)
    sse = np.zeros((g_n, r))  # squared one-step errors of the periods before t, summed
    cols = np.arange(r)
    span = np.arange(max(m, 2))
    for t in range(n_t):
        idx = np.flatnonzero(init_at == t)
        if len(idx):
            block = y[first[idx][None, :] + span[:, None], idx[None, :]]  # (span, k)
            l0 = block.mean(0)
            lvl[:, idx] = l0
            trd[:, idx] = (block[-1] - block[0]) / max(len(span) - 1, 1) if m == 1 else 0.0
            if m > 1:
                phase = (first[idx][None, :] + span[:, None]) % m
                s0 = np.zeros((m, len(idx)))
                s0[phase, np.arange(len(idx))[None, :]] = block - l0[None, :]
                sea[:, :, idx] = s0[:, None, :]
        si = t % m
        lp = lvl + phi * trd
        p = lp + sea[si]
        best[t] = p[np.argmin(sse, axis=0), cols]  # chosen on errors before t only
        # Before a region starts its level is NaN: its error counts as 0, which leaves
        # its trend and seasons as they are and its level NaN.
        e = np.nan_to_num(y[t][None, :] - p, nan=0.0, posinf=0.0, neginf=0.0)
        sse += e * e
        lvl = lp + alpha * e
        trd = phi * trd + a_b * e
        sea[si] += g_a * e
    return EtsPaths(panel.start, best)


def ets_forecast(paths: EtsPaths, target: int) -> np.ndarray:
    """Per region, the prediction for `target` of the grid point best before `target`."""
    return paths.best[target - paths.start].copy()
