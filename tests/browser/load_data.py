"""A generated workshop of N regions and N lead accounts, for the load test and benchmarks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from calibration.accounts import auth
from calibration.data import importer
from calibration.store import connect
from tests.browser.steps import seed_cycle
from tests.factories import quarters

PASSWORD = "calibrate-load"


def region_ids(n: int) -> list[str]:
    """r01, r02, ... (sortable, so the board's order is the lead's order)."""
    return [f"r{i:02d}" for i in range(1, n + 1)]


def write_dataset(folder: Path, n: int) -> Path:
    """regions/history/signals CSVs of n regions (the importer's data contracts)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(30)
    ids = region_ids(n)
    pd.DataFrame(
        {
            "region": ids,
            "name": [f"Region {r[1:]}" for r in ids],
            "name_zh": [f"区域{r[1:]}" for r in ids],
            "lead": [f"lead_{r}" for r in ids],
        }
    ).to_csv(folder / "regions.csv", index=False)
    hist, sig = [], []
    for i, r in enumerate(ids):
        for k, p in enumerate(quarters()):
            base = (60 + 3 * i) * (1 + 0.02 * k) * [0.85, 1.0, 1.05, 1.15][k % 4]
            hist.append((r, p, "new_customers", round(base + rng.normal(0, 3))))
            sig.append((r, p, "search_interest", round(50 + k + rng.normal(0, 2), 2), "market"))
            sig.append((r, p, "mql_count", round(base * 3 + rng.normal(0, 9)), "pipeline"))
            sig.append((r, p, "headcount_ae", 5 + i % 4 + k // 6, "capacity"))
        sig.append((r, "2026Q1", "headcount_ae", 5 + i % 4 + 4, "capacity"))
    pd.DataFrame(hist, columns=["region", "period", "metric", "value"]).to_csv(
        folder / "history.csv", index=False
    )
    pd.DataFrame(sig, columns=["region", "period", "signal", "value", "dimension"]).to_csv(
        folder / "signals.csv", index=False
    )
    return folder


def seed_workshop(db: Path, folder: Path, n: int) -> tuple[int, dict[str, float]]:
    """Import the data set, add exec, analyst and n leads, open a cycle with a published run.

    Returns (cycle id, suggestion per region). Runs in-process before any server starts.
    """
    write_dataset(folder, n)
    con = connect(db)
    try:
        cur = con.cursor()
        for kind in ("regions", "history", "signals"):
            importer.import_file(cur, auth.SYSTEM, kind, folder / f"{kind}.csv")
        auth.add_user(cur, auth.SYSTEM, "exec", "executive", PASSWORD, None, "Executive")
        auth.add_user(cur, auth.SYSTEM, "analyst", "analyst", PASSWORD, None, "Analyst")
        for r in region_ids(n):
            auth.add_user(cur, auth.SYSTEM, f"lead_{r}", "lead", PASSWORD, [r], f"Lead {r}")
    finally:
        con.close()
    return seed_cycle(db, "2026Q1 load test", 60.0 * n * 1.2)
