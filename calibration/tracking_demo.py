"""Demo step: the demo actuals, and tracking evaluated on every tracked cycle."""

from __future__ import annotations

import logging

import duckdb

from calibration import auth, demo, importer, settings
from calibration import tracking_service as ts

log = logging.getLogger("calibrate")

ACTUALS_FILES = ("actuals_2025Q4.csv", "actuals_2026Q1.csv")
METRIC = "new_customers"
def seed_tracking(cur: duckdb.DuckDBPyConnection) -> None:
    """tracking: demo actuals imported, tracked cycles evaluated as of the last actual day"""
    for name in ACTUALS_FILES:
        path = settings.demo_dir() / name
        if path.is_file():
            result = importer.import_file(cur, auth.SYSTEM, "actuals", path)
            log.info("tracking demo: %s", result.summary())
    for cycle_id in _cycle_ids(cur):
        try:
            cycle = ts.lookup_cycle(cur, cycle_id)
        except LookupError:
            continue
        result = ts.evaluate(cur, auth.SYSTEM, cycle)
        log.info(
            "tracking demo: cycle %s as of %s: %d events, %d notifications",
            cycle_id,
            result.as_of,
            result.recorded,
            result.notifications,
        )


def _cycle_ids(cur: duckdb.DuckDBPyConnection) -> list[int]:
    """Ids of every cycle (none while the negotiation domain is absent)."""
    try:
        from calibration import negotiation
    except ImportError:
        return []
    return [int(c["id"]) for c in negotiation.list_cycles(cur)]


# Tracking runs after every step that creates cycles (the completed 2025Q4 cycle comes
# from the letters step).
seed_tracking.demo_order = 100  # type: ignore[attr-defined]
if seed_tracking not in demo.EXTRA_STEPS:
    demo.EXTRA_STEPS.append(seed_tracking)
