"""The live board's liveness: the tick, the toasts of changes, and the projector layout."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from calibration import settings
from calibration.board import service as board_service
from calibration.board import table as board
from calibration.board.view import fmt
from ui import context as ctx
from ui.text import plain
from ui.timings import timed

HIGHLIGHT_SECONDS = 15


def controls() -> tuple[bool, bool]:
    """The presentation and pause toggles: (big, paused); big restyles the page at once."""
    c_big, c_pause, _ = st.columns([2, 2, 3])
    big = c_big.toggle(ctx.tr("board.presentation"), key="board_big")
    paused = c_pause.toggle(
        ctx.tr("board.pause"), key="board_paused", help=ctx.tr("board.pause_help")
    )
    if big:
        # Projector layout: no sidebar, full width, large type (Streamlit has no setting for it).
        # A literal: pages never pass anything but constant markup to st.html.
        st.html(
            """<style>
section[data-testid='stSidebar'], [data-testid='stSidebarCollapsedControl'] {display:none}
[data-testid='stMainBlockContainer'] {max-width:100%; padding:1.5rem 2.5rem}
[data-testid='stMetricValue'] {font-size:4rem; line-height:1.1}
[data-testid='stMetricLabel'] p {font-size:1.5rem}
[data-testid='stMetricDelta'] {font-size:1.3rem}
[data-testid='stCaptionContainer'] p {font-size:1.2rem}
h1 {font-size:2.4rem !important}
</style>"""
        )
    return big, paused


def tick_rerun() -> bool:
    """Whether the live tick (not the person) started this run (read once per run)."""
    return st.session_state.pop("board_tick_rerun", False)


def changes(cycle_id: int, state: pd.DataFrame, table: pd.DataFrame) -> set[str]:
    """Regions changed in the last few seconds; a toast for each change seen just now."""
    memo = st.session_state.setdefault("board_seen", {})
    lit = st.session_state.setdefault("board_lit", {})
    now = time.time()
    fresh = board.changes_since(memo.get(cycle_id), state)
    if fresh:
        rows = table.set_index("region")
        for region in sorted(fresh):
            lit[region] = now
            if region in rows.index:
                row = rows.loc[region]
                st.toast(
                    ctx.tr(
                        "board.toast_change",
                        region=plain(row["name"]),
                        status=row["status_label"],
                        value=fmt(row["current"]),
                    ),
                    icon=":material/notifications:",
                )
    memo[cycle_id] = state
    return {r for r, at in lit.items() if now - at < HIGHLIGHT_SECONDS}


def live(cycle_id: int, shown_version: tuple, lit: set[str], paused: bool) -> None:
    """Start the tick: one small query; the page reruns only when the board has changed."""
    seconds = settings.board_refresh_seconds()

    @st.fragment(run_every=None if paused else seconds)
    def tick() -> None:
        if ctx.session_expired():
            st.rerun(scope="app")  # the app run signs the idle session out; no more ticks
        with timed("board.tick"):
            now_version = board_service.version(ctx.cursor(), cycle_id)
            lit_at = st.session_state.get("board_lit", {})
            faded = any(time.time() - lit_at.get(r, 0) >= HIGHLIGHT_SECONDS for r in lit)
        if now_version != shown_version or faded:
            st.session_state["board_tick_rerun"] = True
            st.rerun(scope="app")
        clock = time.strftime("%H:%M:%S", time.gmtime())
        if paused:
            st.caption(":material/pause_circle: " + ctx.tr("board.paused", time=clock))
        else:
            st.caption(
                ":green[:material/radio_button_checked:] "
                + ctx.tr("board.live", seconds=f"{seconds:g}", time=clock)
            )

    tick()
