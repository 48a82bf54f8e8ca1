"""Opt-in server-side timings (CALIBRATE_TIMINGS=FILE): one line per timed block, for load tests."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_LOCK = threading.Lock()


@contextmanager
def timed(name: str) -> Iterator[None]:
    """Append "name<TAB>wall seconds<TAB>thread CPU seconds" to CALIBRATE_TIMINGS if set."""
    path = os.environ.get("CALIBRATE_TIMINGS")
    if not path:
        yield
        return
    t0, c0 = time.perf_counter(), time.thread_time()
    try:
        yield
    finally:
        line = f"{name}\t{time.perf_counter() - t0:.6f}\t{time.thread_time() - c0:.6f}\n"
        with _LOCK, open(path, "a", encoding="utf-8") as fh:
            fh.write(line)
