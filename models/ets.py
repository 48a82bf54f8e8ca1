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
    """One-step predictions of every grid point, and their cumulative squared errors."""

    start: int
    pred: np.ndarray  # (G, R, T) prediction of period t from data before t
    sse: np.ndarray  # (G, R, T) squared one-step errors of periods before t, summed


def ets_paths(panel: Panel, end: int) -> EtsPaths:
    """Run every grid point over the panel up to ordinal end - 1 (one pass, all regions)."""
    ext = panel.extended(end)
    n_t = end - ext.start
    y = ffill(ext.y[:, :n_t])  # a missing period repeats the last value (causal)
    r = y.shape[0]
    m = ext.seasons
    known = np.isfinite(y)
    first = np.where(known.any(1), np.argmax(known, axis=1), n_t)
    init_at = first + max(m, 2)  # one year (two periods when annual) to start the states
    grid = np.array(GRID if m > 1 else [(a, b, 0.0, p) for a, b, _, p in GRID[::2]])
    alpha, beta, gamma, phi = (grid[:, i][:, None] for i in range(4))
    g_n = len(grid)
    lvl = np.full((g_n, r), np.nan)
    trd = np.zeros((g_n, r))
    sea = np.zeros((g_n, r, m))
    pred = np.full((g_n, r, n_t), np.nan)
    sq = np.zeros((g_n, r, n_t))
    rows = np.arange(r)
    for t in range(n_t):
        start_now = init_at == t
        if start_now.any():
            idx = rows[start_now]
            span = np.arange(max(m, 2))
            block = y[idx[:, None], first[idx][:, None] + span]  # (k, span)
            l0 = block.mean(1)
            b0 = (block[:, -1] - block[:, 0]) / max(len(span) - 1, 1) if m == 1 else 0.0
            lvl[:, idx] = l0
            trd[:, idx] = b0
            if m > 1:
                phase = (first[idx][:, None] + span) % m
                s0 = np.zeros((len(idx), m))
                s0[np.arange(len(idx))[:, None], phase] = block - l0[:, None]
                sea[:, idx, :] = s0
        si = t % m
        p = lvl + phi * trd + sea[:, :, si]
        pred[:, :, t] = p
        e = y[:, t][None, :] - p
        ok = np.isfinite(e)
        e = np.where(ok, e, 0.0)
        sq[:, :, t] = e**2
        live = np.isfinite(lvl)
        new_l = lvl + phi * trd + alpha * e
        trd = np.where(live, phi * trd + alpha * beta * e, trd)
        sea[:, :, si] = np.where(live, sea[:, :, si] + gamma * (1 - alpha) * e, sea[:, :, si])
        lvl = np.where(live, new_l, lvl)
    # sse[..., t] sums errors of periods before t only.
    sse = np.concatenate([np.zeros((g_n, r, 1)), np.cumsum(sq, axis=2)[:, :, :-1]], axis=2)
    return EtsPaths(ext.start, pred, sse)


def ets_forecast(paths: EtsPaths, target: int) -> np.ndarray:
    """Per region, the prediction for `target` of the grid point best before `target`."""
    ti = target - paths.start
    best = np.argmin(paths.sse[:, :, ti], axis=0)
    return paths.pred[best, np.arange(paths.pred.shape[1]), ti]
