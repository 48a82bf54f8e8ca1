"""Small deterministic data sets for tests (independent of the shipped demo)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from calibration.events import copy_database

ROOT = Path(__file__).resolve().parent.parent

REGIONS = [("east", "East", "华东"), ("south", "South", "华南"), ("north", "North", "华北")]


def quarters(start: int = 2020, end: int = 2025) -> list[str]:
    """Quarter labels from start Q1 to end Q4."""
    return [f"{y}Q{q}" for y in range(start, end + 1) for q in range(1, 5)]


def write_small_demo(folder: Path) -> Path:
    """Write regions/history/signals CSVs of three regions into folder; return it."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    pd.DataFrame(
        [(r, en, zh, "", f"lead_{r}") for r, en, zh in REGIONS],
        columns=["region", "name", "name_zh", "parent", "lead"],
    ).to_csv(folder / "regions.csv", index=False)
    hist, sig = [], []
    for i, (r, _, _) in enumerate(REGIONS):
        for k, p in enumerate(quarters()):
            season = [0.85, 1.0, 1.05, 1.15][k % 4]
            base = (100 + 20 * i) * (1 + 0.02 * k) * season
            hist.append((r, p, "new_customers", round(base + rng.normal(0, 4))))
            hist.append((r, p, "revenue", round(base * 12.5 + rng.normal(0, 30), 1)))
            sig.append((r, p, "search_interest", round(50 + k + rng.normal(0, 2), 2), "market"))
            sig.append((r, p, "mql_count", round(base * 3 + rng.normal(0, 9)), "pipeline"))
            sig.append((r, p, "headcount_ae", 10 + i + k // 6, "capacity"))
        sig.append((r, "2026Q1", "headcount_ae", 10 + i + 4, "capacity"))
    pd.DataFrame(hist, columns=["region", "period", "metric", "value"]).to_csv(
        folder / "history.csv", index=False
    )
    pd.DataFrame(sig, columns=["region", "period", "signal", "value", "dimension"]).to_csv(
        folder / "signals.csv", index=False
    )
    return folder


def snapshot(cur) -> dict[str, list]:
    """Every row of every table, sorted, for 'nothing changed' assertions."""
    names = [
        r[0]
        for r in cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    ]
    return {n: sorted(map(repr, cur.execute(f'SELECT * FROM "{n}"').fetchall())) for n in names}


def copy_demo(template: Path, target: Path) -> Path:
    """A private copy of a seeded database file at target."""
    # The audit key and checkpoints live beside the database file and travel with it.
    return copy_database(template, target)
