"""Queries of the live board's cache: a cycle's events within an id range."""

from __future__ import annotations

import duckdb
import pandas as pd

from calibration.store.negotiation import EVENT_COLUMNS

_EVENT_SQL = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)


def cycle_events_between(
    cur: duckdb.DuckDBPyConnection, cycle_id: int, after: int, upto: int
) -> pd.DataFrame:
    """A cycle's events with after < id <= upto, oldest first (cycle_events' columns).

    Bounded above so that a cached board holds exactly the events of the version it was
    read at, even when a proposal lands between the version query and this one.
    """
    return cur.execute(
        f"SELECT {_EVENT_SQL} FROM events WHERE cycle_id = ? AND id > ? AND id <= ? ORDER BY id",
        [int(cycle_id), int(after), int(upto)],
    ).df()
