"""Demo step: the demo actuals, and tracking evaluated on every tracked cycle."""

from __future__ import annotations

import logging

import duckdb

from calibration import settings
from calibration.accounts import auth
from calibration.data import importer
from calibration.letters import demo as letters_demo
from calibration.negotiation import service as neg
from calibration.tracking import service as ts

log = logging.getLogger("calibrate")

ACTUALS_FILES = ("actuals_2025Q4.csv", "actuals_2026Q1.csv")
METRIC = "new_customers"


def seed_tracking(cur: duckdb.DuckDBPyConnection) -> None:
    """tracking: demo actuals imported, tracked cycles evaluated as of the last actual day"""
    _support_delivery(cur)
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


def _support_delivery(cur: duckdb.DuckDBPyConnection) -> None:
    # The letters step's closed quarter: one promised item was delivered, one was not.
    executive = auth.load_user(cur, "exec")
    closed = [
        c
        for c in neg.list_cycles(cur)
        if (c["metric"], str(c["period"]), c["status"])
        == (letters_demo.METRIC, letters_demo.PERIOD, "closed")
    ]
    if executive is None or not closed:
        return
    cid = int(closed[0]["id"])
    items = letters_demo.PROPOSALS["lead_east"][3]
    ts.set_commitment_status(
        cur,
        executive,
        cid,
        "east",
        items[0]["description"],
        True,
        "Started 1 October. 10月1日到岗。",
    )
    ts.set_commitment_status(
        cur,
        executive,
        cid,
        "east",
        items[1]["description"],
        False,
        "Only one of the two trade shows was funded. 仅批准了一场展会。",
    )
