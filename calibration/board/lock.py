"""The executive's lock from the board: the agreed values frozen, then the letters issued
and tracking started from that day (the lock is where they begin, never a page visit)."""

from __future__ import annotations

import duckdb

from calibration.accounts.auth import User
from calibration.letters import service as letters
from calibration.negotiation import service as negotiation
from calibration.tracking import service as tracking


def lock_cycle(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    cycle_id: int,
    expected_last_event: int | None = None,
) -> dict[str, float]:
    """Lock an open cycle once every region is agreed, issue its letters, start tracking."""
    agreed = negotiation.lock_cycle(cur, actor, cycle_id, expected_last_event)
    letters.issue_letters(cur, actor, cycle_id)
    try:
        # Actuals may already be in: escalations start from the lock, not from a page visit.
        tracking.evaluate(cur, actor, cycle_id)
    except LookupError:
        pass  # the cycle's metric has no tracking data yet; the first import evaluates
    return agreed
