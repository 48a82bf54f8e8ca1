"""Model Lab interaction time: one AppTest rerun of the page per analyst change (demo data)."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

RUNS = 5


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
            row("market scale to a new value (refit + backtest)", new),
            row("scale back to a value seen before (cached)", cached),
            row("half-life to a new value (refit + backtest)", new_hl),
            row("another region in the detail charts", region),
            "",
        ]
    )


if __name__ == "__main__":
    print(run())
