"""Model Lab interaction time: one AppTest rerun of the page per analyst change (demo data)."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

RUNS = 5
STORES = 10_000  # the store-scale part: synthetic stores, 40 quarters, 6 signals


def _session():
    from streamlit.testing.v1 import AppTest

    from tests.apptest_helpers import login

    at = login("analyst")
    at.switch_page("pages/model_lab.py")
    at.run()
    assert not at.exception, at.exception
    assert isinstance(at, AppTest)
    return at


def _time(at, change) -> float:
    change(at)
    t0 = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - t0
    assert not at.exception, at.exception
    return elapsed


def run() -> str:
    """Markdown section: median server time of new and cached settings and a region switch."""
    from calibration.demo import workshop as demo
    from calibration.store import connect

    folder = Path(tempfile.mkdtemp(prefix="bench-lab-"))
    db = folder / "lab.duckdb"
    con = connect(db)
    demo.init_database(con.cursor())
    con.close()
    os.environ["CALIBRATE_DB"] = str(db)
    at = _session()

    new, cached, region = [], [], []
    values = [0.5, 0.7, 0.9, 1.1, 1.3, 1.5, 1.7]
    for i in range(RUNS):
        w = values[i]
        new.append(_time(at, lambda a, w=w: a.slider(key="lab_w_market").set_value(w)))
        # Back to a setting seen before: served from the cache.
        cached.append(_time(at, lambda a: a.slider(key="lab_w_market").set_value(1.0)))
        cached.append(_time(at, lambda a, w=w: a.slider(key="lab_w_market").set_value(w)))
    half_lives = [6.0, 10.0, 12.0, 14.0, 16.0]
    new_hl = [
        _time(at, lambda a, h=h: a.slider(key="lab_half_life").set_value(h)) for h in half_lives
    ]
    # Through session state: the select shows region names, its value is the region id.
    for rid in ("east", "north", "south", "southwest", "central"):
        region.append(_time(at, lambda a, r=rid: a.session_state.__setitem__("lab_focus", r)))

    def row(name: str, times: list[float]) -> str:
        ms = [t * 1000 for t in times]
        return (
            f"| {name} | {len(ms)} | {statistics.median(ms):.0f} | {max(ms):.0f} | "
            f"{'met' if statistics.median(ms) < 300 else 'MISSED'} |"
        )

    return "\n".join(
        [
            "## Model Lab interaction (`bench/bench_model_lab.py`)",
            "",
            "Command: `python -m bench bench_model_lab`. Demo data (6 regions, 2 metrics), one "
            "Streamlit AppTest rerun of the whole app (router, sidebar, Model Lab) per change; "
            "the time is the server's script run, which is what the analyst waits for before "
            "the browser draws. Goal: under 300 ms.",
            "",
            "| interaction | runs | median ms | max ms | < 300 ms |",
            "|---|---|---|---|---|",
            row("market scale to a new value (suggestion + backtest on the kept fits)", new),
            row("scale back to a value seen before (cached)", cached),
            row("half-life to a new value (refit + backtest)", new_hl),
            row("another region in the detail charts", region),
            "",
            *store_scale(),
        ]
    )


def _timed(f) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    f()
    return time.perf_counter() - t0, time.process_time() - c0


def store_scale() -> list[str]:
    """Lines of the store-scale part: the service calls the Lab makes per new setting.

    What ui/cache.py runs for the Model Lab at 10,000 stores: a fit setting (half-life,
    pooling) fits once (fitted_model), then the suggestion without reasons, the reasons
    of one parent's 250 stores, and the backtest on the same fits; a new scale reuses them.
    """
    import numpy as np

    from calibration.modeling import service
    from models.panel import build_panel
    from models.synthetic import make_panel

    load0 = os.getloadavg()[0]
    h, s = make_panel(STORES, 40, 6, noise=0.05, seed=1)
    panel = build_panel(h, s, "Q")
    period = panel.label(panel.end)
    shown = np.arange(250)

    def suggestion(model, scales) -> None:
        service.suggest(None, "m", period, scales=scales, fitted=model, reasons_for=shown[:0])
        service.suggest(None, "m", period, scales=scales, fitted=model, reasons_for=shown)

    def backtest(model, scales) -> None:
        service.run_backtest(None, "m", scales=scales, fitted=model, records=False)

    def answer(model, scales) -> None:
        suggestion(model, scales)
        backtest(model, scales)

    answer(service.fitted_model(panel, period), None)  # warm-up: imports, first allocations
    fit_new, fit_bt, scale_new = [], [], []
    for hl in (6.0, 10.0, 12.0):
        box = {}

        def new_fit(hl=hl, box=box) -> None:
            box["m"] = service.fitted_model(panel, period, half_life=hl)
            suggestion(box["m"], None)

        fit_new.append(_timed(new_fit))
        fit_bt.append(_timed(lambda m=box["m"]: backtest(m, None)))
        for market in (0.6, 1.4):
            scale_new.append(_timed(lambda m=box["m"], x=market: answer(m, {"market": x})))

    def line(name: str, runs: list[tuple[float, float]]) -> str:
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        return (
            f"| {name} | {len(runs)} | {wall:.2f} | {cpu:.2f} | {'met' if cpu < 1 else 'MISSED'} |"
        )

    return [
        f"Store scale ({STORES:,} synthetic stores x 40 quarters x 6 signals; the service "
        "calls of `ui/cache.py`'s Lab section, without Streamlit): suggestion without "
        "reasons, the reasons of one parent's 250 stores, and the 8-origin backtest (at "
        "store scale a new half-life's backtest runs when the analyst presses Run backtest). "
        "A fit setting is fitted once and shared (cache_resource) by every scale. Load average "
        f"{load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end. Goal: under 1 s of "
        "server time.",
        "",
        "| new setting | runs | median wall s | median CPU s | < 1 s CPU |",
        "|---|---|---|---|---|",
        line("half-life: suggestion (9 fits) and one parent's reasons", fit_new),
        line("half-life: its backtest, on demand (8 more fits)", fit_bt),
        line("market scale: suggestion and backtest (the setting's fits reused)", scale_new),
        "",
    ]


if __name__ == "__main__":
    print(run())
