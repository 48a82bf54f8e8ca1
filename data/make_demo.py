"""Build the demo data set in data/demo/ (deterministic, fixed seed).

The story follows the seeds: a B2B SaaS company wants 1,200 new customers in 2026Q1,
while the regions' natural sum sits near 980. East had a one-off policy-driven spike in
2024Q4 (about 210, with a tail into 2025Q1), so "last year +15%" says ~240 for East,
but East's search interest fell 12% into 2026Q1 and the model says ~220. Southwest's
search interest rose 18%, so the model raises it to ~160.

Signals truly drive new customers: market and pipeline signals with a one-quarter lag,
capacity (AE headcount, marketing budget) in the same quarter.

Run: python data/make_demo.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from calibration.periods import Period, from_ordinal  # noqa: E402

OUT = ROOT / "data" / "demo"
SEED = 20260101

REGIONS = [
    # id, English, Chinese, natural 2026Q1 target, yearly trend, search yoy into 2026Q1
    ("east", "East", "华东", 220.0, 0.10, 0.88),
    ("south", "South", "华南", 205.0, 0.11, 1.03),
    ("north", "North", "华北", 180.0, 0.07, 0.97),
    ("southwest", "Southwest", "西南", 160.0, 0.15, 1.18),
    ("central", "Central", "华中", 125.0, 0.09, 1.05),
    ("northeast", "Northeast", "东北", 90.0, 0.03, 0.95),
]
START = Period("Q", 2020, 1)
N_HIST = 24  # 2020Q1 .. 2025Q4
TARGET = Period("Q", 2026, 1)
SEASON = np.array([-0.20, 0.0, 0.03, 0.17])  # Q1 weak (Chinese New Year), Q4 strong
BETA = {  # log-elasticity of new customers to each signal
    "search_interest": 0.6,
    "trade_show_leads": 0.12,
    "mql_count": 0.35,
    "mql_conversion": 0.3,
    "headcount_ae": 0.55,
    "marketing_budget": 0.12,
}
DIMENSION = {
    "search_interest": "market",
    "trade_show_leads": "market",
    "mql_count": "pipeline",
    "mql_conversion": "pipeline",
    "headcount_ae": "capacity",
    "marketing_budget": "capacity",
}


def _signals(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Signal levels, shape (regions, N_HIST + 1), the last column being 2026Q1."""
    r, n = len(REGIONS), N_HIST + 1
    t = np.arange(n)
    q = t % 4

    def walk(sd: float, drift: float) -> np.ndarray:
        steps = rng.normal(drift, sd, (r, n))
        steps[:, 0] = 0
        return np.cumsum(steps, axis=1)

    search = np.log(rng.uniform(70, 130, r))[:, None] + walk(0.035, 0.008)
    search += np.array([-0.05, 0.0, 0.0, 0.02])[q]
    # Force the year-over-year move into 2026Q1, seen in 2025Q4 (the last known quarter).
    last, prev = N_HIST - 1, N_HIST - 5
    for i, reg in enumerate(REGIONS):
        need = np.log(reg[5]) - (search[i, last] - search[i, prev])
        search[i, last - 2 : last + 1] += need * np.array([1 / 3, 2 / 3, 1.0])
        search[i, last + 1 :] += need
    leads = np.log(rng.uniform(40, 160, r))[:, None] + walk(0.08, 0.01)
    leads += np.array([-0.4, 0.15, -0.1, 0.25])[q]
    mql = np.log(rng.uniform(500, 1200, r))[:, None] + walk(0.05, 0.02)
    mql += np.array([-0.1, 0.02, 0.0, 0.08])[q]
    conv = rng.uniform(-1.9, -1.4, r)[:, None] + walk(0.06, 0.0)
    head = np.zeros((r, n))
    head[:, 0] = rng.integers(8, 20, r)
    for j in range(1, n):
        step = rng.choice([-1, 0, 0, 1, 1, 2], r)
        head[:, j] = np.maximum(5, head[:, j - 1] + np.where(rng.random(r) < 0.5, step, 0))
    budget = np.log(rng.uniform(60, 200, r))[:, None] + walk(0.06, 0.02)
    budget += np.array([-0.15, 0.0, 0.0, 0.15])[q]
    return {
        "search_interest": np.round(np.exp(search), 1),
        "trade_show_leads": np.round(np.exp(leads)),
        "mql_count": np.round(np.exp(mql)),
        "mql_conversion": np.round(1 / (1 + np.exp(-conv)), 4),
        "headcount_ae": head,
        "marketing_budget": np.round(np.exp(budget), 1),
    }


def _log_effects(sig: dict[str, np.ndarray]) -> np.ndarray:
    """Sum of signal effects on log new customers, (regions, N_HIST + 1)."""
    total = np.zeros_like(sig["search_interest"])
    for name, beta in BETA.items():
        lv = np.log(sig[name])
        lv = lv - lv.mean(axis=1, keepdims=True)
        if DIMENSION[name] != "capacity":
            lv = np.concatenate([lv[:, :1], lv[:, :-1]], axis=1)  # last quarter's value acts
        total += beta * lv
    return total


def _frames(counts: np.ndarray, sig: dict[str, np.ndarray], rng: np.random.Generator):
    labels = [from_ordinal("Q", START.ordinal + j).label for j in range(N_HIST + 1)]
    ids = [reg[0] for reg in REGIONS]
    rows = []
    revenue = np.zeros_like(counts)
    for i in range(len(ids)):
        # Subscription revenue (10k CNY): customers won over the last 8 quarters pay on.
        base = rng.uniform(2.6, 3.4)
        for j in range(N_HIST):
            won = counts[i, max(0, j - 7) : j + 1].sum() + counts[i, 0] * max(0, 7 - j)
            revenue[i, j] = round(base * won * rng.lognormal(0, 0.02), 1)
    for i, rid in enumerate(ids):
        for j in range(N_HIST):
            rows.append((rid, labels[j], "new_customers", float(counts[i, j])))
            rows.append((rid, labels[j], "revenue", float(revenue[i, j])))
    history = pd.DataFrame(rows, columns=["region", "period", "metric", "value"])
    srows = []
    for name, arr in sig.items():
        last = N_HIST + 1 if DIMENSION[name] == "capacity" else N_HIST
        for i, rid in enumerate(ids):
            for j in range(last):
                srows.append((rid, labels[j], name, float(arr[i, j]), DIMENSION[name]))
    signals = pd.DataFrame(srows, columns=["region", "period", "signal", "value", "dimension"])
    return history, signals


def _model_suggestions(history: pd.DataFrame, signals: pd.DataFrame) -> pd.Series:
    from calibration.periods import parse_series
    from models.baseline import BaselineModel

    h = history[history.metric == "new_customers"].copy()
    h["ordinal"] = parse_series(h["period"])["ordinal"].astype(int)
    s = signals.copy()
    s["ordinal"] = parse_series(s["period"])["ordinal"].astype(int)
    df = BaselineModel().fit(h, s, TARGET.label).predict()
    return df.set_index("region")["suggestion"]


def build() -> dict[str, pd.DataFrame]:
    """All demo tables, keyed by file stem."""
    rng = np.random.default_rng(SEED)
    sig = _signals(rng)
    n = N_HIST + 1
    t = np.arange(n)
    trend = np.array([reg[4] for reg in REGIONS])[:, None] / 4 * t
    season = SEASON[t % 4][None, :] + rng.normal(0, 0.03, (len(REGIONS), 4))[:, t % 4]
    noise = rng.normal(0, 0.05, (len(REGIONS), n))
    logy = trend + season + _log_effects(sig) + noise
    ids = [reg[0] for reg in REGIONS]
    east = ids.index("east")
    target = np.array([reg[3] for reg in REGIONS])
    scale = target / np.exp(logy[:, -1])
    spike = {2024 * 4 + 3: 210.0, 2025 * 4: 205.0}  # East's policy window
    for _ in range(8):
        counts = np.round(np.exp(logy) * scale[:, None])
        for o, v in spike.items():
            counts[east, o - START.ordinal] = v
        counts = counts[:, :N_HIST]
        history, signals = _frames(counts, sig, np.random.default_rng(SEED + 2))
        got = _model_suggestions(history, signals).reindex(ids).to_numpy()
        scale *= target / got
    regions = pd.DataFrame(
        {
            "region": ids,
            "name": [reg[1] for reg in REGIONS],
            "name_zh": [reg[2] for reg in REGIONS],
            "parent": "",
            "lead": [f"lead_{rid}" for rid in ids],
        }
    )
    q4 = history[(history.metric == "new_customers") & (history.period == "2025Q4")]
    sugg = _model_suggestions(history, signals)
    return {
        "regions": regions,
        "history": history,
        "signals": signals,
        "actuals_2025Q4": _actuals_q4(q4, rng),
        "actuals_2026Q1": _actuals_q1(sugg, rng),
    }


def _day_weights(days: pd.DatetimeIndex) -> np.ndarray:
    """Within-quarter selling profile: weekdays, quarter-end push, holidays."""
    w = np.where(days.day_of_week < 5, 1.0, 0.2)
    end = days.max()
    w = w * np.where((end - days).days < 14, 1.8, 1.0)  # quarter-end push
    md = days.strftime("%m-%d")
    national_day = (md >= "10-01") & (md <= "10-07")
    new_year = md == "01-01"
    # Chinese New Year 2026 falls on 17 February; the holiday runs 15-23 February.
    cny = (days >= "2026-02-15") & (days <= "2026-02-23")
    pre_cny = (days >= "2026-02-09") & (days < "2026-02-15")
    w = np.where(national_day | new_year, 0.08, w)
    w = np.where(cny, 0.05, w)
    w = np.where(pre_cny, w * 0.7, w)
    return w


def _actuals_q4(q4: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    days = pd.date_range("2025-10-01", "2025-12-31", freq="D")
    p = _day_weights(days)
    p = p / p.sum()
    rows = []
    for row in q4.itertuples(index=False):
        counts = rng.multinomial(int(row.value), p)  # sums exactly to the quarter
        rows += [
            (row.region, d.date().isoformat(), "new_customers", int(c))
            for d, c in zip(days, counts, strict=True)
        ]
    return pd.DataFrame(rows, columns=["region", "date", "metric", "value"])


def _actuals_q1(sugg: pd.Series, rng: np.random.Generator) -> pd.DataFrame:
    quarter = pd.date_range("2026-01-01", "2026-03-31", freq="D")
    p_all = _day_weights(quarter)
    p_all = p_all / p_all.sum()
    days = quarter[quarter <= "2026-02-25"]
    p = p_all[: len(days)]
    week = np.arange(len(days)) // 7
    rows = []
    for region, s in sugg.items():
        # Pace relative to the model suggestion; agreed targets end ~20% above it.
        pace = np.full(len(days), 1.08)
        if region == "north":  # on track early, then slips: amber, then red
            pace = np.where(week < 3, 1.0, np.where(week < 5, 0.78, 0.5))
        elif region == "south":  # bad start, then recovers
            pace = np.where(week < 3, 0.55, 1.45)
        counts = rng.poisson(float(s) * p * pace * rng.lognormal(0, 0.1, len(days)))
        rows += [
            (region, d.date().isoformat(), "new_customers", int(c))
            for d, c in zip(days, counts, strict=True)
        ]
    return pd.DataFrame(rows, columns=["region", "date", "metric", "value"])


def main() -> None:
    """Write every demo CSV to data/demo/."""
    OUT.mkdir(parents=True, exist_ok=True)
    for name, df in build().items():
        df.to_csv(OUT / f"{name}.csv", index=False, encoding="utf-8")
    print(f"wrote demo data to {OUT}")


if __name__ == "__main__":
    main()
