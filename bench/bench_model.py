"""Speed of the batched baseline vs a per-region statsmodels WLS loop."""

from __future__ import annotations

import os
import platform
import statistics
import time
import warnings

import numpy as np

from models.backtest import backtest
from models.baseline import BaselineModel, build_design
from models.panel import build_panel
from models.synthetic import make_panel

N_REGIONS, N_PERIODS, N_SIGNALS, ORIGINS = 2000, 40, 6, 8


def fast_once(history, signals) -> tuple[float, float]:
    """Fit + suggest + 8-origin backtest (model and naive methods), batched numpy.

    Returns (wall seconds, CPU seconds); the machine is shared, so both are reported.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    model = BaselineModel()
    model.fit(history, signals).predict()
    backtest(origins=ORIGINS, model=model, panel=model.panel_)  # reuse the fitted panel
    return time.perf_counter() - t0, time.process_time() - c0


def statsmodels_once(history, signals) -> tuple[float, float]:
    """The same fits (9 targets x every region) with statsmodels WLS and its prediction interval."""
    import statsmodels.api as sm

    t0, c0 = time.perf_counter(), time.process_time()
    panel = build_panel(history, signals, "Q")
    last = panel.end - 1
    targets = [last + 1, *range(last - ORIGINS + 1, last + 1)]
    for target in targets:
        d = build_design(panel, target, 8.0)
        for r in range(d.X.shape[0]):
            keep = d.w[r] > 0
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = sm.WLS(d.g[r, keep], d.X[r, keep], weights=d.w[r, keep]).fit()
                pred = res.get_prediction(d.x_new[r : r + 1]).summary_frame(alpha=0.2)
            float(np.exp(d.log_base[r] + pred["mean"].iloc[0]))
    return time.perf_counter() - t0, time.process_time() - c0


def run(fast_runs: int = 5, slow_runs: int = 2) -> str:
    """Markdown section with median timings and the speed-up."""
    history, signals = make_panel(N_REGIONS, N_PERIODS, N_SIGNALS, noise=0.05, seed=1)
    fast_once(history, signals)  # warm-up: imports, caches
    fast = [fast_once(history, signals) for _ in range(fast_runs)]
    slow = [statsmodels_once(history, signals) for _ in range(slow_runs)]
    f = statistics.median(w for w, _ in fast)
    s = statistics.median(w for w, _ in slow)
    fc = statistics.median(c for _, c in fast)
    sc = statistics.median(c for _, c in slow)
    load = os.getloadavg()[0]
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return "\n".join(
        [
            "## Baseline speed (`bench/bench_model.py`)",
            "",
            "Command: `python -m bench.bench_model` (also run by `python -m bench`).",
            f"Machine: {cpu}, nproc {os.cpu_count()}, Python {platform.python_version()}; "
            f"date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average "
            f"{load:.1f} at the end (shared machine: CPU time is the steadier figure).",
            f"Workload: {N_REGIONS:,} regions x {N_PERIODS} quarters x {N_SIGNALS} signals "
            f"(synthetic); fit + suggest for the next quarter + {ORIGINS}-origin backtest "
            "(9 fits per region in all).",
            "",
            "| implementation | runs | median wall s | median CPU s | all runs wall s |",
            "|---|---|---|---|---|",
            f"| batched numpy (einsum + batched solve; robust, pooled; plus naive methods) "
            f"| {fast_runs} | {f:.2f} | {fc:.2f} | {', '.join(f'{x:.2f}' for x, _ in fast)} |",
            f"| statsmodels WLS loop (plain WLS + prediction interval per region and target) "
            f"| {slow_runs} | {s:.2f} | {sc:.2f} | {', '.join(f'{x:.2f}' for x, _ in slow)} |",
            "",
            f"Speed-up {s / f:.0f}x wall, {sc / fc:.0f}x CPU (goal >= 20x: "
            f"{'met' if s / f >= 20 else 'MISSED'}); batched under 3 s wall: "
            f"{'met' if f < 3 else 'MISSED'}.",
            "",
        ]
    )


if __name__ == "__main__":
    print(run())
