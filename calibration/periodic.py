"""A daemon thread that runs one step now and then while the server runs (the delivery
worker, the housekeeper): first after a wait, then at a fixed interval, until stopped."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("calibrate")


class Periodic:
    """Runs step() on a daemon thread `first` seconds after start, then every `every`."""

    def __init__(self, name: str, first: float, every: float) -> None:
        self.first, self.every = first, every
        self.passes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def step(self) -> None:
        """One pass (subclasses say what)."""
        raise NotImplementedError

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to stop and wait for it (at most timeout seconds)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        """Whether the thread is running."""
        return self._thread.is_alive()

    def _loop(self) -> None:
        wait = self.first
        while not self._stop.wait(wait):
            try:
                self.step()
            except Exception:  # noqa: BLE001 - a background pass must never stop the server
                log.exception("%s: pass failed", self._thread.name)
            self.passes += 1
            wait = self.every
