"""Service behind the live board page: one read-only snapshot of a cycle."""

from __future__ import annotations

import duckdb

from calibration import negotiation
from calibration.auth import User
from calibration.store import data as dq

BOARD_ROLES = ("executive", "analyst", "admin")


def default_cycle(cur: duckdb.DuckDBPyConnection) -> int | None:
    """The newest open cycle, else the newest cycle, else None (when the sidebar has none)."""
    cycles = negotiation.list_cycles(cur)
    for cycle in cycles:
        if cycle["status"] == "open":
            return int(cycle["id"])
    return int(cycles[0]["id"]) if cycles else None


def snapshot(cur: duckdb.DuckDBPyConnection, viewer: User, cycle_id: int) -> dict:
    """cycle, state, regions, history, signals of a cycle for the board (HQ roles only)."""
    if viewer.role not in BOARD_ROLES:
        raise PermissionError(f"{viewer.username} may not open the board")
    cycle = negotiation.get_cycle(cur, cycle_id)
    return {
        "cycle": cycle,
        "state": negotiation.cycle_state(cur, cycle_id, viewer),
        "regions": dq.list_regions(cur),
        "history": dq.load_history(cur, cycle["metric"]),
        "signals": dq.load_signals(cur),
    }
