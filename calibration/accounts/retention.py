"""How long Calibrate keeps access records (API calls, sign-in attempts, sessions, drafts,
finished deliveries): CALIBRATE_RETENTION_DAYS, pruned by the server once a day and by
`python -m calibration prune`. Decisions, notifications and the audit chain are kept."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import duckdb

from calibration import settings
from calibration.periodic import Periodic
from calibration.store import retention as q
from calibration.store.core import utcnow

log = logging.getLogger("calibrate")

TABLES = q.TABLES
# The server's first pass waits a little (start-up is busy), then one a day.
FIRST_PASS_SECONDS = 60.0
PASS_SECONDS = 24 * 3600.0


def cut_off(days: int, now: datetime | None = None) -> datetime:
    """The moment before which access records are forgotten."""
    return (now or utcnow()) - timedelta(days=days)


def prune(
    cur: duckdb.DuckDBPyConnection, days: int, now: datetime | None = None, dry_run: bool = False
) -> dict[str, int]:
    """Forget access records older than days (or only count them); rows per table."""
    if days < 1:
        raise ValueError("keep access records for at least one day")
    before = cut_off(days, now)
    return q.count_old(cur, before) if dry_run else q.prune(cur, before)


class Housekeeper(Periodic):
    """Prunes once FIRST_PASS_SECONDS after the start, then every PASS_SECONDS, on a daemon
    thread, while retention is on and the database is writable."""

    def __init__(
        self,
        connect: Callable[[], duckdb.DuckDBPyConnection],
        first: float = FIRST_PASS_SECONDS,
        every: float = PASS_SECONDS,
    ) -> None:
        super().__init__("calibrate-retention", first, every)
        self.connect = connect

    def step(self) -> None:
        """One pass."""
        self.run_once()

    def run_once(self) -> dict[str, int] | None:
        """One pass (None when retention is off or the database read-only)."""
        days = settings.retention_days()
        if days <= 0 or settings.read_only():
            return None
        cur = self.connect().cursor()
        try:
            counts = prune(cur, days)
        finally:
            cur.close()
        if any(counts.values()):
            log.info("retention: forgot records older than %s days: %s", days, counts)
        return counts


def lifespan(
    connect: Callable[[], duckdb.DuckDBPyConnection],
    inner: Callable[[Any], Any] | None = None,
) -> Callable[[Any], Any]:
    """An st.App lifespan that runs the housekeeper (around inner, another lifespan)."""

    @asynccontextmanager
    async def _lifespan(app: Any) -> AsyncIterator[dict[str, Any]]:
        keeper = Housekeeper(connect)
        keeper.start()
        try:
            if inner is None:
                yield {"housekeeper": keeper}
            else:
                async with inner(app) as state:
                    yield {**(state or {}), "housekeeper": keeper}
        finally:
            await asyncio.to_thread(keeper.stop, 5)

    return _lifespan
