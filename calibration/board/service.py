"""Service behind the live board page: one read-only snapshot of a cycle."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd

from calibration import access
from calibration.accounts.auth import User
from calibration.letters import service as letters
from calibration.negotiation import service as negotiation
from calibration.store import data as dq
from calibration.store import negotiation as nq


def default_cycle(cur: duckdb.DuckDBPyConnection) -> int | None:
    """The newest open cycle, else the newest cycle, else None (when the sidebar has none)."""
    cycles = negotiation.list_cycles(cur)
    for cycle in cycles:
        if cycle["status"] == "open":
            return int(cycle["id"])
    return int(cycles[0]["id"]) if cycles else None


def cycle_metrics(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """Metrics a new cycle can be set on (those with imported data), by name."""
    return dq.list_metrics(cur)["metric"].tolist()


def version(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> tuple[int, ...]:
    """A value that changes whenever the cycle's board would change (one small query)."""
    return nq.cycle_version(cur, cycle_id)


def signed_count(cur: duckdb.DuckDBPyConnection, cycle: dict) -> int:
    """Regions whose consensus letter both sides signed (0 before the cycle is locked)."""
    if cycle["status"] not in letters.LETTER_STATUSES:
        return 0
    # Read as an analyst, who may see every letter (reading letters never writes).
    reader = User("board", "Live board", "analyst")
    return sum(1 for x in letters.cycle_letters(cur, reader, cycle["id"]) if x.status == "signed")


def inputs(cur: duckdb.DuckDBPyConnection, metric: str) -> dict:
    """regions, history and signals behind a board: they change only with an import."""
    return {
        "regions": dq.list_regions(cur),
        "history": dq.load_history(cur, metric),
        "signals": dq.load_signals(cur),
    }


def snapshot(
    cur: duckdb.DuckDBPyConnection,
    viewer: User,
    cycle_id: int,
    load_inputs: Callable[[str], dict] | None = None,
) -> dict:
    """cycle, state, regions, history, signals, signed of a cycle (HQ roles only).

    load_inputs(metric) replaces inputs() when the caller keeps them between changes.
    """
    access.require(viewer, "board.read")
    cycle = negotiation.get_cycle(cur, cycle_id)
    return {
        "cycle": cycle,
        "state": negotiation.cycle_state(cur, cycle_id, viewer),
        **board_inputs(cur, cycle, load_inputs),
        "signed": signed_count(cur, cycle),
    }


def board_inputs(
    cur: duckdb.DuckDBPyConnection, cycle: dict, load_inputs: Callable[[str], dict] | None = None
) -> dict:
    """regions, history and signals as a cycle's board shows them (a locked cycle's regions
    as they were at the lock); load_inputs(metric) replaces inputs() when given."""
    data = load_inputs(cycle["metric"]) if load_inputs else inputs(cur, cycle["metric"])
    frozen = nq.frozen_region_frame(cur, cycle["id"])
    if not frozen.empty:
        # A locked cycle shows its regions as they were at the lock (issue 12).
        live = data["regions"]
        data = {
            **data,
            "regions": pd.concat(
                [frozen, live[~live["region"].isin(frozen["region"])]], ignore_index=True
            ).sort_values("region", ignore_index=True),
        }
    return data
