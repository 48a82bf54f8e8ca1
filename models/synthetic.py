"""Synthetic panels for tests and benchmarks, where signals truly drive the target."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.periods import from_ordinal

SIGNAL_SPECS = (
    ("search_interest", "market", 1.0),
    ("trade_show_leads", "market", 0.4),
    ("mql_count", "pipeline", 0.6),
    ("mql_conversion", "pipeline", 0.5),
    ("headcount_ae", "capacity", 0.5),
    ("marketing_budget", "capacity", 0.2),
)


def make_panel(
    n_regions: int = 6,
    n_periods: int = 24,
    n_signals: int = 6,
    noise: float = 0.05,
    seed: int = 0,
    start: str = "2016Q1",
    freq: str = "Q",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """History (region, period, ordinal, season, value) and signals in long form.

    log y = level + trend + season + effects of signals (market/pipeline lagged one
    period, capacity same period) + noise.
    """
    from models.periods import parse_period

    rng = np.random.default_rng(seed)
    p0 = parse_period(start)
    assert p0 is not None and p0.freq == freq
    ords = p0.ordinal + np.arange(n_periods)
    s = {"Q": 4, "M": 12, "A": 1}[freq]
    specs = [SIGNAL_SPECS[i % len(SIGNAL_SPECS)] for i in range(n_signals)]
    regions = [f"r{i:04d}" for i in range(n_regions)]
    level = rng.normal(5.0, 0.5, n_regions)
    trend = rng.normal(0.02, 0.01, n_regions)
    season = rng.normal(0, 0.15, (n_regions, s)) if s > 1 else np.zeros((n_regions, 1))
    season -= season.mean(1, keepdims=True)
    t = np.arange(n_periods)
    # Signals: log random walks around a region level.
    logx = np.cumsum(rng.normal(0, 0.08, (n_regions, n_signals, n_periods)), axis=2)
    logy = level[:, None] + trend[:, None] * t + season[:, (ords % s)]
    for k, (_, dim, beta) in enumerate(specs):
        if dim == "capacity":
            logy = logy + beta * logx[:, k, :]
        else:
            lagged = np.concatenate([logx[:, k, :1], logx[:, k, :-1]], axis=1)
            logy = logy + beta * lagged
    logy = logy + rng.normal(0, noise, logy.shape)
    y = np.exp(logy)
    hist = pd.DataFrame(
        {
            "region": np.repeat(regions, n_periods),
            "ordinal": np.tile(ords, n_regions),
            "value": y.reshape(-1),
        }
    )
    labels = {o: from_ordinal(freq, int(o)).label for o in ords}
    hist["period"] = hist["ordinal"].map(labels)
    hist["season"] = hist["ordinal"] % s
    base = {"search_interest": 100.0, "mql_conversion": 0.2}
    rows = []
    for k, (name, dim, _) in enumerate(specs):
        nm = name if k < len(SIGNAL_SPECS) else f"{name}_{k}"
        lvl = base.get(name, 50.0)
        vals = lvl * np.exp(logx[:, k, :])
        rows.append(
            pd.DataFrame(
                {
                    "region": np.repeat(regions, n_periods),
                    "signal": nm,
                    "ordinal": np.tile(ords, n_regions),
                    "dimension": dim,
                    "value": vals.reshape(-1),
                }
            )
        )
    sig = pd.concat(rows, ignore_index=True)
    sig["period"] = sig["ordinal"].map(labels)
    return hist, sig


def make_reverting_panel(
    n_regions: int = 20,
    n_periods: int = 30,
    speed: float = 0.5,
    noise: float = 0.05,
    seed: int = 0,
    start: int = 1990,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Annual history and one market signal where the series reverts to its driver.

    log y_t = log y_{t-1} + speed x (c + log x_{t-1} - log y_{t-1}) + noise, with x a log
    random walk and c a region's own ratio: a series that ran ahead of its driver comes
    back (error correction), which year-over-year changes alone do not describe.
    """
    rng = np.random.default_rng(seed)
    regions = [f"r{i:04d}" for i in range(n_regions)]
    ords = start + np.arange(n_periods)
    logx = 6.0 + np.cumsum(rng.normal(0.02, 0.1, (n_regions, n_periods)), axis=1)
    ratio = rng.normal(-2.0, 0.5, n_regions)
    logy = np.empty((n_regions, n_periods))
    logy[:, 0] = logx[:, 0] + ratio + rng.normal(0, 0.3, n_regions)
    for t in range(1, n_periods):
        pull = ratio + logx[:, t - 1] - logy[:, t - 1]
        logy[:, t] = logy[:, t - 1] + speed * pull + rng.normal(0, noise, n_regions)
    labels = [from_ordinal("A", int(o)).label for o in ords]

    def long(values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "region": np.repeat(regions, n_periods),
                "ordinal": np.tile(ords, n_regions),
                "period": np.tile(labels, n_regions),
                "value": values.reshape(-1),
            }
        )

    hist = long(np.exp(logy)).assign(season=0)
    sig = long(np.exp(logx)).assign(signal="market_size", dimension="market")
    return hist, sig
