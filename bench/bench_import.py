"""Benchmark: import of 1,000,000 history rows from CSV into a fresh database."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import timed
from calibration.accounts.auth import SYSTEM
from calibration.data import importer
from calibration.store import connect

ROWS = 1_000_000


def make_file(folder: Path, rows: int = ROWS) -> Path:
    """A history CSV of `rows` rows: 2,500 regions × 20 metrics × 20 quarters."""
    regions = 2_500
    metrics = 20
    periods = rows // (regions * metrics)
    rng = np.random.default_rng(1)
    r = np.repeat(np.arange(regions), metrics * periods)
    m = np.tile(np.repeat(np.arange(metrics), periods), regions)
    p = np.tile(np.arange(periods), regions * metrics)
    labels = np.array([f"{2020 + i // 4}Q{i % 4 + 1}" for i in range(periods)])
    frame = pd.DataFrame(
        {
            "region": np.char.add("region_", r.astype(str)),
            "period": labels[p],
            "metric": np.char.add("metric_", m.astype(str)),
            "value": rng.gamma(5, 20, size=len(r)).round(2),
        }
    )
    path = folder / "history_1m.csv"
    frame.to_csv(path, index=False)
    return path


def run() -> str:
    """Time the import; return a Markdown section."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = make_file(folder)
        size_mb = path.stat().st_size / 1e6
        counter = iter(range(100))

        def once() -> None:
            con = connect(folder / f"b{next(counter)}.duckdb")
            result = importer.import_file(con.cursor(), SYSTEM, "history", path)
            assert result.inserted == ROWS, result.summary()
            con.close()

        median, times = timed(once, runs=3)
    return (
        "## Import: 1,000,000 history rows\n\n"
        f"CSV of {size_mb:.0f} MB (2,500 regions × 20 metrics × 20 quarters), validated and "
        "upserted into a fresh database in one transaction.\n\n"
        "| median (s) | runs (s) | goal |\n|---:|---|---|\n"
        f"| {median:.2f} | {', '.join(f'{t:.2f}' for t in times)} | < 10 s |\n"
    )


if __name__ == "__main__":
    print(run())
