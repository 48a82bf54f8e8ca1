"""What a proposal's checks need, kept per process by the newest event id it is valid for.

A submit checks the cycle (status, threshold, published run), the region's suggestion and the
region's newest decision. Those change only with events, so they are kept per database and
cycle, tagged with the event (id, hash) they are valid as of. Before a submit:

- this process's own appends since (events.appended_since) bring the entry forward without
  reading the database: a region's decision updates its row, anything for the whole cycle
  (status, publish, seals) drops the entry;
- one statement reads the events since that concern the submit (its cycle as a whole or
  its region; another process's appends show there) and checks the tag's hash, so a log
  that is not the one the entry was read from (a restore) is never trusted.

A miss (first use, a publish, a status change) reads the cycle in one transaction. What a
submit then checks is the state as of `seen`, and events.append_seen refuses the append
when anything for the region or the cycle came after `seen`: the cache can be late, never
wrong.
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
    """What a submit checks, as of event `seen`, and the database file it was read from."""

    cycle: dict
    suggestion: dict | None
    last_decision: int
    last_proposal: int | None
    seen: int
    path: str


# Loads (cycle dict, suggestions by region) inside the caller's transaction.
Loader = Callable[[duckdb.DuckDBPyConnection, int], tuple[dict, dict[str, dict]]]

_CACHE: dict[str, dict[int, _Entry]] = {}
_LOCK = threading.Lock()
# Held while a cycle is read on a miss, so a burst reads it once.
_LOAD_LOCK = threading.Lock()
# The file the last submit used: its entry is looked up before the one statement that says
# which file this cursor's database is (a process serves one database).
_last_path: list[str | None] = [None]


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


def _facts(entry: _Entry, region: str, path: str) -> Facts:
    last, proposal = entry.decisions.get(region, (0, None))
    return Facts(
        dict(entry.cycle), entry.suggestions.get(region), last, proposal, entry.as_of, path
    )


def _name(path: str | None) -> str | None:
    """A database file's name as events names it (so its record of appends is found)."""
    return str(Path(path)) if path else None


def _load(cur: duckdb.DuckDBPyConnection, cycle_id: int, load: Loader) -> tuple[str | None, _Entry]:
    """Read a cycle's entry in one transaction (a miss)."""
    with transaction(cur):
        path = _name(q.database_path(cur))
        head, head_hash = q.last_event(cur)
        cycle, suggestions = load(cur, cycle_id)
        decisions = q.decision_heads(cur, cycle_id, DECISION_KINDS)
    return path, _Entry(head, head_hash, cycle, suggestions, decisions)


def _mine(path: str | None, cycle_id: int, region: str) -> _Entry | None:
    """A copy of the cached entry with only region's decisions (under _LOCK: other submits
    bring the shared entry forward)."""
    entry = _entry(path, cycle_id) if path else None
    if entry is None:
        return None
    decision = entry.decisions.get(region, (0, None))
    return _Entry(entry.as_of, entry.as_of_hash, entry.cycle, entry.suggestions, {region: decision})


def facts(cur: duckdb.DuckDBPyConnection, cycle_id: int, region: str, load: Loader) -> Facts | None:
    """What a proposal for region checks, as of the newest event that concerns it.

    None for a database without a file (nothing to key a cache by: the caller reads it
    itself). load raises what a missing cycle raises.
    """
    cycle_id = int(cycle_id)
    for _ in range(3):
        guess = _last_path[0]
        with _LOCK:
            mine = _mine(guess, cycle_id, region)
        if mine is None:
            # One submit reads the cycle; a burst's others wait for it and use its entry.
            with _LOAD_LOCK:
                with _LOCK:
                    mine = _mine(guess, cycle_id, region)
                if mine is None:
                    path, fresh = _load(cur, cycle_id, load)
                    if path is None:
                        return None
                    _last_path[0] = path
                    with _LOCK:
                        _install(path, cycle_id, fresh)
                        return _facts(fresh, region, path)
        raw, rows = q.events_concerning(cur, mine.as_of, cycle_id, region)
        path = _name(raw)
        if path != guess:
            # Another database than the last submit's: look its own entry up.
            _last_path[0] = path
            if path is None:
                return None
            continue
        if not rows or rows[0][0] != mine.as_of or rows[0][4] != mine.as_of_hash:
            # The entry's event is gone or differs: not the log it was read from.
            with _LOCK:
                _CACHE.get(path, {}).pop(cycle_id, None)
            continue
        if not _apply(mine, rows[1:], cycle_id):
            # The cycle changed as a whole (status, publish) since the entry: read it again.
            with _LOCK:
                _CACHE.get(path, {}).pop(cycle_id, None)
            continue
        return _facts(mine, region, path)
    # Every try met a change to the cycle: read it directly.
    path, fresh = _load(cur, cycle_id, load)
    return None if path is None else _facts(fresh, region, path)
