"""Service-level burst: 500 leads submit at the same moment; none lost, chain intact.

Reuses the benchmark's burst (bench/bench_submit.py) so test and measurement cannot drift.
"""

from __future__ import annotations

import pytest

from bench.bench_submit import _burst

pytestmark = pytest.mark.slow


def test_burst_of_500_submissions_loses_nothing() -> None:
    result = _burst(500)
    assert result["failed"] == 0
    assert result["stored"] == 500
    # 5 before the burst: the accounts' seal, the cycle's creation and draft status, the
    # published run, the opening.
    assert result["chain"] and result["events"] == 5 + 500
    # Values 80..109 against 100: 80..84 are flagged, and HR is told of each one.
    assert result["notes"] == 85
