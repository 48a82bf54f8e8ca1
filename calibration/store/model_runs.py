"""Queries for saved model runs (append-only: a run is never updated or deleted)."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from calibration.store.core import next_id, registered

REGION_COLUMNS = (
    "region",
    "suggestion",
    "lower80",
    "upper80",
    "base",
    "history",
    "market",
    "pipeline",
    "capacity",
    "reason_en",
    "reason_zh",
)
SIGNAL_COLUMNS = ("region", "signal", "dimension", "change", "contribution")


def insert_run(
    cur: duckdb.DuckDBPyConnection,
    metric: str,
    period: str,
    ordinal: int,
    params_json: str,
    backtest_json: str | None,
    created_by: str,
    created_at: datetime,
    regions: pd.DataFrame,
    signals: pd.DataFrame,
) -> int:
    """Insert a run with its per-region and per-signal rows; returns the new run_id."""
    run_id = next_id(cur, "model_runs_seq")
    cur.execute(
        "INSERT INTO model_runs (run_id, metric, period, ordinal, params, backtest, created_by,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, metric, period, int(ordinal), params_json, backtest_json, created_by, created_at],
    )
    reg = regions.loc[:, list(REGION_COLUMNS)].copy()
    reg.insert(0, "run_id", run_id)
    with registered(cur, "incoming_run_regions", reg):
        cur.execute(
            "INSERT INTO model_run_regions (run_id, " + ", ".join(REGION_COLUMNS) + ")"
            " SELECT run_id, " + ", ".join(REGION_COLUMNS) + " FROM incoming_run_regions"
        )
    if len(signals):
        sig = signals.loc[:, list(SIGNAL_COLUMNS)].copy()
        sig.insert(0, "run_id", run_id)
        with registered(cur, "incoming_run_signals", sig):
            cur.execute(
                "INSERT INTO model_run_signals (run_id, " + ", ".join(SIGNAL_COLUMNS) + ")"
                " SELECT run_id, " + ", ".join(SIGNAL_COLUMNS) + " FROM incoming_run_signals"
            )
    return run_id


def list_runs(
    cur: duckdb.DuckDBPyConnection, metric: str | None = None, period: str | None = None
) -> pd.DataFrame:
    """Runs, newest first, optionally for one metric and/or period."""
    return cur.execute(
        "SELECT run_id, metric, period, ordinal, params, backtest, created_by, created_at"
        " FROM model_runs WHERE (? IS NULL OR metric = ?) AND (? IS NULL OR period = ?)"
        " ORDER BY run_id DESC",
        [metric, metric, period, period],
    ).df()


def get_run(cur: duckdb.DuckDBPyConnection, run_id: int) -> dict | None:
    """The run row as a dict, or None."""
    df = cur.execute(
        "SELECT run_id, metric, period, ordinal, params, backtest, created_by, created_at"
        " FROM model_runs WHERE run_id = ?",
        [int(run_id)],
    ).df()
    return df.iloc[0].to_dict() if len(df) else None


def run_regions(cur: duckdb.DuckDBPyConnection, run_id: int) -> pd.DataFrame:
    """Per-region results of a run."""
    return cur.execute(
        "SELECT " + ", ".join(REGION_COLUMNS) + " FROM model_run_regions WHERE run_id = ?"
        " ORDER BY region",
        [int(run_id)],
    ).df()


def run_signals(cur: duckdb.DuckDBPyConnection, run_id: int) -> pd.DataFrame:
    """Per-region, per-signal contributions of a run."""
    return cur.execute(
        "SELECT " + ", ".join(SIGNAL_COLUMNS) + " FROM model_run_signals WHERE run_id = ?"
        " ORDER BY region, signal",
        [int(run_id)],
    ).df()
