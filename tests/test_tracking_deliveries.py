"""Recording support delivery: the Tracking form's N changes are one service call and one
transaction (all or nothing, one seal), not N writes in N transactions."""

from __future__ import annotations

import pytest

from calibration.tracking import service as ts
from tests.tracking_fixtures import EXEC, LEAD_EAST, load_scenario

ITEM = "One more account executive"


def count(cur, sql: str) -> int:
    """A single count from the database."""
    return cur.execute(sql).fetchall()[0][0]


def test_deliveries_are_all_or_nothing(cur):
    cycle = load_scenario(cur)
    changes = [("east", ITEM, False), ("east", "x" * 501, True)]
    with pytest.raises(ValueError):
        ts.record_deliveries(cur, EXEC, cycle.cycle_id, changes, "hiring")
    # The first, valid change was not kept when the second was refused.
    assert count(cur, "SELECT count(*) FROM commitment_events") == 0


def test_deliveries_are_one_sealed_transaction(cur):
    cycle = load_scenario(cur)
    seals = count(cur, "SELECT count(*) FROM events WHERE kind = 'seal'")
    changes = [("east", ITEM, False), ("east", "Marketing budget", True)]
    assert ts.record_deliveries(cur, EXEC, cycle.cycle_id, changes, "hiring") == 2
    assert count(cur, "SELECT count(*) FROM commitment_events") == 2
    assert count(cur, "SELECT count(*) FROM events WHERE kind = 'seal'") == seals + 1
    with pytest.raises(PermissionError):
        ts.record_deliveries(cur, LEAD_EAST, cycle.cycle_id, changes, "")
    assert ts.record_deliveries(cur, EXEC, cycle.cycle_id, [], "") == 0
