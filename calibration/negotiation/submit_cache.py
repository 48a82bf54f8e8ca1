"""What a proposal's checks need, kept per process by the newest event it is valid for.

A submit checks the cycle (status, threshold, published run), the region's suggestion and the
region's newest decision. Those change only with events, so they are kept per database file
and cycle, tagged with the event (id, hash) they are valid as of. This process's own appends
(events.appended_since: each append knows its new head) bring an entry forward without
reading the database: a region's decision updates its row; anything for the whole cycle
(status, publish, seals) drops the entry, and the next submit reads the cycle again, in one
transaction, once for a burst.

So a warm submit reads one thing before the append lock (which database file its cursor is
on). What it checked is the state as of its tag; events.append_seen's group commit reads the
events since that tag under the lock, refuses the shortcut when one of them concerns the
region or the whole cycle (an append by another process shows there) or when the tag's hash
is not the log's (a restore), and then checks again from the database. The cache can be
late, never wrong.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import duckdb

from calibration import events
from calibration.store import negotiation as q
from calibration.store import transaction

# Events that change a region's negotiation state; comments and attachments do not, so a
# comment never makes somebody's proposal stale.
# hr_override (an executive lifting the HR gate with a reason) is a decision too.
DECISION_KINDS = ("proposal", "review", "response", "counter_accepted", "hr_override")
# Databases kept at once (a test process opens a fresh file per test).
_FILES = 8


@dataclass
class _Entry:
    """One cycle as of event (as_of, as_of_hash): the cycle, its current run's suggestions
    by region, and per region (newest decision id, newest proposal id)."""

    as_of: int
    as_of_hash: str
    cycle: dict
    suggestions: dict[str, dict]
    decisions: dict[str, tuple[int, int | None]]


class Facts(NamedTuple):
    """What a submit checks, as of event (seen, seen_hash), and the database file."""

    cycle: dict
    suggestion: dict | None
    last_decision: int
    last_proposal: int | None
    seen: int
    seen_hash: str
    path: str


# Loads (cycle dict, suggestions by region) inside the caller's transaction.
Loader = Callable[[duckdb.DuckDBPyConnection, int], tuple[dict, dict[str, dict]]]

_CACHE: dict[str, dict[int, _Entry]] = {}
_LOCK = threading.Lock()
# Held while a cycle is read on a miss, so a burst reads it once.
_LOAD_LOCK = threading.Lock()


def _apply(entry: _Entry, rows: list[tuple[int, int, str | None, str, str]], cycle_id: int) -> bool:
    """Bring entry forward over rows (id, cycle_id, region, kind, hash), oldest first;
    False when one of them changes the cycle as a whole (the entry must be read again)."""
    for eid, c, region, kind, h in rows:
        if c == cycle_id:
            if region is None:
                return False
            if kind in DECISION_KINDS:
                _, proposal = entry.decisions.get(region, (0, None))
                entry.decisions[region] = (eid, eid if kind == "proposal" else proposal)
        entry.as_of, entry.as_of_hash = eid, h
    return True


def _entry(path: str, cycle_id: int) -> _Entry | None:
    """The cached entry, brought forward over this process's own appends (under _LOCK)."""
    entry = _CACHE.get(path, {}).get(cycle_id)
    if entry is None:
        return None
    rows = events.appended_since(path, entry.as_of, entry.as_of_hash)
    if rows is None or not _apply(entry, rows, cycle_id):
        del _CACHE[path][cycle_id]
        return None
    return entry


def _install(path: str, cycle_id: int, entry: _Entry) -> None:
    """Keep a freshly read entry unless a newer one is there (under _LOCK)."""
    rows = events.appended_since(path, entry.as_of, entry.as_of_hash)
    if rows is None or not _apply(entry, rows, cycle_id):
        return
    cycles = _CACHE.pop(path, {})
    _CACHE[path] = cycles  # the newest file used goes last; the oldest is dropped first
    while len(_CACHE) > _FILES:
        _CACHE.pop(next(iter(_CACHE)))
    old = cycles.get(cycle_id)
    if old is None or old.as_of <= entry.as_of:
        cycles[cycle_id] = entry


def _name(path: str | None) -> str | None:
    """A database file's name as events names it (so its record of appends is found)."""
    return str(Path(path)) if path else None


def _load(cur: duckdb.DuckDBPyConnection, cycle_id: int, load: Loader) -> _Entry:
    """Read a cycle's entry in one transaction (a miss)."""
    with transaction(cur):
        head, head_hash = q.last_event(cur)
        cycle, suggestions = load(cur, cycle_id)
        decisions = q.decision_heads(cur, cycle_id, DECISION_KINDS)
    return _Entry(head, head_hash, cycle, suggestions, decisions)


def _mine(path: str, cycle_id: int, region: str) -> _Entry | None:
    """A copy of the cached entry with only region's decisions (under _LOCK: other submits
    bring the shared entry forward)."""
    entry = _entry(path, cycle_id)
    if entry is None:
        return None
    decision = entry.decisions.get(region, (0, None))
    return _Entry(entry.as_of, entry.as_of_hash, entry.cycle, entry.suggestions, {region: decision})


def facts(cur: duckdb.DuckDBPyConnection, cycle_id: int, region: str, load: Loader) -> Facts | None:
    """What a proposal for region checks, as of the newest event this process knows of.

    One statement (which database file this cursor is on) when the cycle is cached; a miss
    reads the cycle in one transaction, once for a burst of submits. None for a database
    without a file (nothing to key a cache by: the caller reads it itself). load raises what
    a missing cycle raises.
    """
    cycle_id = int(cycle_id)
    path = _name(q.database_path(cur))
    if path is None:
        return None
    with _LOCK:
        mine = _mine(path, cycle_id, region)
    if mine is None:
        # One submit reads the cycle; a burst's others wait for it and use its entry.
        with _LOAD_LOCK:
            with _LOCK:
                mine = _mine(path, cycle_id, region)
            if mine is None:
                fresh = _load(cur, cycle_id, load)
                with _LOCK:
                    _install(path, cycle_id, fresh)
                    mine = _Entry(
                        fresh.as_of,
                        fresh.as_of_hash,
                        fresh.cycle,
                        fresh.suggestions,
                        {region: fresh.decisions.get(region, (0, None))},
                    )
    last, proposal = mine.decisions[region]
    return Facts(
        dict(mine.cycle),
        mine.suggestions.get(region),
        last,
        proposal,
        mine.as_of,
        mine.as_of_hash,
        path,
    )


def warm(cur: duckdb.DuckDBPyConnection, cycle_id: int, load: Loader) -> None:
    """Read a cycle into the cache now (after it opens or gets a new run), so the first
    burst of submits does not wait for it."""
    path = _name(q.database_path(cur))
    if path is None:
        return
    with _LOAD_LOCK:
        fresh = _load(cur, int(cycle_id), load)
        with _LOCK:
            _install(path, int(cycle_id), fresh)
