"""Demo step: the demo actuals, and tracking evaluated on every tracked cycle."""

from __future__ import annotations

import logging

import duckdb

from calibration import settings
from calibration.accounts import auth
from calibration.data import importer
from calibration.demo import workshop as demo
from calibration.tracking import service as ts

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
    for result in ts.evaluate_all(cur, auth.SYSTEM):
        log.info(
            "tracking demo: evaluated as of %s: %d events, %d notifications",
            result.as_of,
            result.recorded,
            result.notifications,
        )


# Tracking runs after every step that creates cycles (the completed 2025Q4 cycle comes
# from the letters step).
seed_tracking.demo_order = 100  # type: ignore[attr-defined]
if seed_tracking not in demo.EXTRA_STEPS:
    demo.EXTRA_STEPS.append(seed_tracking)
