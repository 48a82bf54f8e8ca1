"""Benchmark of the tracking core: 200 regions x 90 days, plus warning quality on synthetic data.

Run `python -m bench.bench_tracking` (prints the section) or with `--append` to add it to
bench/RESULTS.md.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from calibration.tracking import path as tr

REGIONS = 200
PERIOD = "2026Q1"
AS_OF = "2026-02-15"
REPEATS = 15


def _data(seed: int = 0) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Targets, two years of daily history, and full-period actuals at known true rates."""
    rng = np.random.default_rng(seed)
    regions = [f"R{i:03d}" for i in range(REGIONS)]
    targets = pd.Series(rng.uniform(200, 3000, REGIONS), index=regions)
    days = pd.date_range("2024-01-01", "2025-12-31", freq="D")
    # Back-loaded quarters (last month x1.6) and quiet weekends, as sales data tend to be.
    shape = np.where((days.month - 1) % 3 == 2, 1.6, 1.0) * np.where(days.day_of_week >= 5, 0.3, 1)
    base = targets.to_numpy()[:, None] / 90 * shape[None, :]
    history = pd.DataFrame(
        {
            "region": np.repeat(regions, len(days)),
            "date": np.tile(days, REGIONS),
            "value": rng.poisson(base).ravel(),
        }
    )
    path = tr.planned_path(targets, PERIOD, history)
    plan = path.groupby("region")["planned_cum"].diff().fillna(path["planned_cum"]).to_numpy()
    # A third each: behind (0.8), on the path (1.0), ahead (1.1); overdispersed daily counts.
    rate = np.repeat([0.8, 1.0, 1.1], -(-REGIONS // 3))[:REGIONS]
    lam = plan * np.repeat(rate, 90) * rng.gamma(4.0, 0.25, len(plan))
    actuals = path[["region", "date"]].assign(value=rng.poisson(lam))
    return targets, history, actuals, rate


def _ms(fn: Callable[[], object], repeats: int = REPEATS) -> tuple[float, float, float]:
    """Best and median wall time and best CPU time in milliseconds (after a warm-up call).

    On a shared machine the wall time includes waiting for a core; the CPU time of this
    process is the cost of the code itself (the work is single-threaded).
    """
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return 1000 * min(wall), 1000 * float(np.median(wall)), 1000 * min(cpu)


def run() -> str:
    """Time the public functions and measure interval coverage and warning lead; Markdown."""
    targets, history, actuals, rate = _data()
    path = tr.planned_path(targets, PERIOD, history)
    to_date = actuals[actuals["date"] <= AS_OF]
    cum = to_date.assign(value=to_date.groupby("region")["value"].cumsum())
    timings = {
        "planned_path, even (no history)": _ms(lambda: tr.planned_path(targets, PERIOD)),
        f"planned_path, {len(history):,} history rows (8 quarters)": _ms(
            lambda: tr.planned_path(targets, PERIOD, history), 5
        ),
        "to_daily(cumulative=True), 9,200 rows": _ms(lambda: tr.to_daily(cum, cumulative=True)),
        "snapshot (project + status + warning) as of day 46": _ms(
            lambda: tr.snapshot(path, to_date, AS_OF)
        ),
        "escalations as of day 46": _ms(lambda: tr.escalations(path, to_date, AS_OF)),
        "weekly_status as of day 46": _ms(lambda: tr.weekly_status(path, to_date, AS_OF)),
        "projection_series, all 90 days": _ms(lambda: tr.projection_series(path, actuals)),
        "warning_backtest, all 90 days": _ms(lambda: tr.warning_backtest(path, actuals)),
    }
    # Quality on the same synthetic period: does the 80% interval hold 80%?
    series = tr.projection_series(path, actuals)
    final = actuals.groupby("region")["value"].sum()
    series["final"] = series["region"].map(final)
    cover = []
    for d in (15, 30, 45, 60, 75):
        s = series[series["days_elapsed"] == d]
        inside = ((s["final"] >= s["lower80"]) & (s["final"] <= s["upper80"])).mean()
        width = ((s["upper80"] - s["lower80"]) / s["target"]).median()
        cover.append(f"| {d} | {inside:.0%} | {width:.1%} |")
    quality = []
    for rule, confirm in (("upper", 1), ("upper", 3), ("projected", 1)):
        bt = tr.warning_backtest(path, actuals, tr.WarningSettings(rule, confirm_days=confirm))
        sm = tr.backtest_summary(bt)
        behind = bt[rate == 0.8]
        quality.append(
            f"| {rule}, confirm {confirm} d | {sm['missed_warned']}/{sm['missed']} | "
            f"{sm['median_lead_days']:.0f} | "
            f"{int(behind['lead_days'].min())} | {sm['false_alarms']}/{sm['made']} |"
        )
    lines = [
        "## Tracking core (calibration/tracking/path.py)",
        "",
        f"{REGIONS} regions x 90 days ({PERIOD}), best and median of {REPEATS} runs; "
        f"Python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start, "
        f"{time.strftime('%Y-%m-%d', time.gmtime())}.",
        "",
        "| operation | wall ms, best | wall ms, median | CPU ms, best |",
        "|---|---:|---:|---:|",
        *(f"| {k} | {lo:.1f} | {med:.1f} | {c:.1f} |" for k, (lo, med, c) in timings.items()),
        "",
        "Synthetic actuals: a third of the regions at 0.8x, 1.0x and 1.1x the path, "
        "gamma-Poisson daily counts (CV about 0.5 a day), profile from 2 years of history.",
        "",
        "| day | final inside 80% interval | median width / target |",
        "|---:|---:|---:|",
        *cover,
        "",
        "| warning rule | missed & warned | median lead (days) | min lead, 0.8x regions "
        "| false alarms (made it) |",
        "|---|---:|---:|---:|---:|",
        *quality,
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    section = run()
    print(section)
    if "--append" in sys.argv:
        results = Path(__file__).parent / "RESULTS.md"
        with results.open("a", encoding="utf-8") as fh:
            fh.write(("\n" if results.exists() and results.stat().st_size else "") + section)
