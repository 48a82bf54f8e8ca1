"""The live board's process-wide cache: a cycle's snapshot and view at its newest version.

A proposal changes one row, not the board. The first screen to ask for a new version builds
it from the previous one plus the events since (only the rows those events touch are
derived again); every other open board gets the same objects back. A change the rows
cannot absorb (a new status, a new run, an import, a signature) builds the board afresh.

No Streamlit here: ui/cache.py holds one BoardCache per database. What it returns is shared
between sessions and threads, so callers treat the frames as read-only.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from calibration import access
from calibration.access import Scope
from calibration.accounts.auth import User
from calibration.board import service
from calibration.board import table as board
from calibration.board import view as bview
from calibration.negotiation import service as negotiation
from calibration.store import board as bq

# Events that change no region's state: the board stays as it was (only its version moves).
NO_STATE_KINDS = ("comment", "attachment")
# Versions kept per cycle: a screen that read the version a moment before the newest one
# still finds its board.
KEEP = 4


@dataclass
class Board:
    """One cycle's board at one version: what every screen of that version shares."""

    version: tuple
    snap: dict
    rows: dict[str, dict]
    points: pd.DataFrame
    views: dict[str, dict] = field(default_factory=dict)
    # Region names and parents by language: they change only with an import.
    labels: dict[str, tuple[dict, dict]] = field(default_factory=dict)


class BoardCache:
    """Boards by cycle and version, each built from the previous version when it can be."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cycle_locks: dict[int, threading.Lock] = {}
        self._boards: dict[int, list[Board]] = {}
        # How each board came to be ("full", "incremental", "same"); tests and the bench read it.
        self.builds: Counter[str] = Counter()

    def board(
        self,
        cur: duckdb.DuckDBPyConnection,
        viewer: User,
        cycle_id: int,
        version: tuple,
        load_inputs: Callable[[str], dict] | None = None,
    ) -> Board:
        """The board of cycle_id at version (built once, whoever asks first)."""
        access.require(viewer, "board.read")
        version = tuple(version)
        with self._lock:
            lock = self._cycle_locks.setdefault(cycle_id, threading.Lock())
        # One builder per cycle: the other screens wait for it and reuse what it built.
        with lock:
            kept = self._boards.get(cycle_id, [])
            for b in kept:
                if b.version == version:
                    return b
            base = _base(kept, version)
            built = _step(cur, base, version) if base is not None else None
            if built is None:
                built = _full(cur, cycle_id, version, load_inputs)
                self.builds["full"] += 1
            else:
                self.builds["incremental" if built.snap is not base.snap else "same"] += 1
            self._boards[cycle_id] = sorted([*kept, built], key=lambda b: b.version)[-KEEP:]
            return built

    def view(
        self,
        cur: duckdb.DuckDBPyConnection,
        viewer: User,
        cycle_id: int,
        version: tuple,
        lang: str,
        load_inputs: Callable[[str], dict] | None = None,
    ) -> dict:
        """cycle, state, table, headline and rollup (view.build's dict) for viewer in lang."""
        b = self.board(cur, viewer, cycle_id, version, load_inputs)
        mine = _for_viewer(viewer, b.snap)
        if mine is not b.snap:
            # A viewer who may not see every region gets a board of their own (not shared).
            return bview.build(mine, lang)
        with self._cycle_locks[cycle_id]:
            if lang not in b.views:
                b.views[lang] = _view(b, lang, None, None)
            return b.views[lang]

    def snapshot(
        self,
        cur: duckdb.DuckDBPyConnection,
        viewer: User,
        cycle_id: int,
        version: tuple,
        load_inputs: Callable[[str], dict] | None = None,
    ) -> dict:
        """The snapshot (service.snapshot's dict) of cycle_id at version, filtered for viewer."""
        return _for_viewer(viewer, self.board(cur, viewer, cycle_id, version, load_inputs).snap)


def _for_viewer(viewer: User, snap: dict) -> dict:
    """snap itself when viewer sees every region, else a copy with only their regions."""
    seen = _visible(viewer, snap["state"])
    return snap if seen.all() else {**snap, "state": snap["state"][seen].reset_index(drop=True)}


def _visible(viewer: User, state: pd.DataFrame) -> np.ndarray:
    # cycle_state's filter for a viewer (a lead their regions, HR the flagged ones).
    return np.array(
        [
            access.can(viewer, "proposal.read", Scope(r, bool(f)))
            for r, f in zip(state["region"], state["flagged"], strict=True)
        ],
        dtype=bool,
    )


def _base(kept: list[Board], version: tuple) -> Board | None:
    """The newest kept board older than version with the same data and signatures."""
    older = [b for b in kept if b.version[1:] == version[1:] and b.version[0] < version[0]]
    return older[-1] if older else None


def state_frame(rows: dict[str, dict]) -> pd.DataFrame:
    """State rows as cycle_state's frame (same columns, order and types)."""
    frame = pd.DataFrame(list(rows.values()), columns=list(negotiation.STATE_COLUMNS))
    return frame.sort_values("region").reset_index(drop=True)


def _full(
    cur: duckdb.DuckDBPyConnection,
    cycle_id: int,
    version: tuple,
    load_inputs: Callable[[str], dict] | None,
) -> Board:
    """The board read afresh: the cycle, its inputs, every event up to the version."""
    cycle = negotiation.get_cycle(cur, cycle_id)
    data = service.board_inputs(cur, cycle, load_inputs)
    rows = negotiation.suggestion_rows(cur, cycle)
    negotiation.fold_decisions(rows, bq.cycle_events_between(cur, cycle_id, 0, version[0]))
    negotiation.finish_rows(rows)
    snap = {
        "cycle": cycle,
        "state": state_frame(rows),
        **data,
        "signed": service.signed_count(cur, cycle),
    }
    points = board.history_points(data["history"], cycle["period"])
    return Board(version, snap, rows, points)


def _step(cur: duckdb.DuckDBPyConnection, base: Board, version: tuple) -> Board | None:
    """base moved on to version by the events since; None when they need a fresh read."""
    events = bq.cycle_events_between(cur, base.snap["cycle"]["id"], base.version[0], version[0])
    kinds = set(events["kind"])
    if not kinds <= {*negotiation.DECISION_KINDS, *NO_STATE_KINDS}:
        return None
    decisions = events[events["kind"].isin(negotiation.DECISION_KINDS)]
    touched = set(decisions["region"])
    if not touched:
        # Comments only: the same board under the new version.
        return Board(version, base.snap, base.rows, base.points, base.views, base.labels)
    if not touched <= base.rows.keys():
        return None  # a region the board has no row for yet: rare, read it all again
    rows = dict(base.rows)
    for region in touched:
        # Copies: the previous version's rows stay as they were for whoever still holds them.
        rows[region] = dict(base.rows[region])
    negotiation.fold_decisions(rows, decisions)
    snap = {**base.snap, "state": state_frame(rows)}
    step = Board(version, snap, rows, base.points, labels=base.labels)
    for lang, old in base.views.items():
        step.views[lang] = _view(step, lang, old, touched)
    return step


def _view(b: Board, lang: str, old: dict | None, touched: set[str] | None) -> dict:
    """view.build's dict; with old, only the touched regions' table rows are derived again."""
    snap, cycle, state = b.snap, b.snap["cycle"], b.snap["state"]
    if state.empty:
        return {"state": state, "cycle": cycle}

    if lang not in b.labels:
        b.labels[lang] = board.region_labels(snap["regions"], lang)

    def rows_of(part: pd.DataFrame) -> pd.DataFrame:
        return board.board_table(
            part,
            snap["regions"],
            snap["history"],
            cycle["period"],
            lang,
            points=b.points,
            labels=b.labels[lang],
        )

    if old is None or touched is None:
        table = rows_of(state)
    else:
        before = old["table"]
        fresh = rows_of(state[state["region"].isin(touched)])
        kept = before[~before["region"].isin(touched)]
        # The table's order depends on names and parents only, which no decision changes.
        place = {r: i for i, r in enumerate(before["region"])}
        merged = pd.concat([kept, fresh], ignore_index=True)
        order = np.argsort([place[r] for r in merged["region"]], kind="stable")
        table = merged.iloc[order].reset_index(drop=True)
    return {
        "cycle": cycle,
        "state": state,
        "table": table,
        "headline": board.headline(state, cycle["company_target"], snap["signed"]),
        "rollup": board.rollup(table),
    }
