"""The server's background sender: a thread that runs a delivery pass every N seconds.

server.py hands `lifespan` to st.App: the thread starts with the server and stops with it.
It is not started when no channel is configured, when CALIBRATE_NOTIFY_INTERVAL is 0 or
when the database is opened read-only. It uses the process's one connection
(store.shared_connection), with a cursor per pass.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import duckdb

from calibration import settings
from calibration.notify import config, service
from calibration.periodic import Periodic
from calibration.store import shared_connection

log = logging.getLogger("calibrate.notify")

Connect = Callable[[], duckdb.DuckDBPyConnection]


def default_connection() -> duckdb.DuckDBPyConnection:
    """The process-wide connection to the configured database."""
    return shared_connection(settings.db_path())


class Worker(Periodic):
    """Runs service.run_pass every `interval` seconds on a daemon thread until stopped."""

    def __init__(self, connect: Connect, interval: float) -> None:
        super().__init__("calibrate-notify", interval, interval)
        self.connect = connect

    def step(self) -> None:
        """One delivery pass. Settings are read each pass, so a changed environment needs no
        restart of the loop (only of the process, which is how env changes arrive)."""
        result = service.run_pass(self.connect(), config.company())
        if result.queued or result.sent or result.errors:
            log.info("notify pass: %s", result.summary())


def make_worker(connect: Connect | None = None) -> Worker | None:
    """A worker if delivery is configured and switched on, else None."""
    interval = settings.notify_interval()
    if interval <= 0 or settings.read_only() or not config.company().configured:
        return None
    return Worker(connect or default_connection, interval)


def lifespan(connect: Connect | None = None) -> Callable[[Any], Any]:
    """An st.App lifespan that runs the delivery worker while the server runs."""

    @asynccontextmanager
    async def _lifespan(app: Any) -> AsyncIterator[dict[str, Any]]:
        worker = make_worker(connect)
        if worker is not None:
            worker.start()
            log.info("notify worker started (every %s s)", worker.every)
        try:
            yield {"notify_worker": worker}
        finally:
            if worker is not None:
                # Joined off the event loop: a send in flight may take up to the timeout.
                await asyncio.to_thread(worker.stop, settings.notify_timeout() + 5)

    return _lifespan
