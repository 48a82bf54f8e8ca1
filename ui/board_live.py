"""The live board's liveness: the tick, the toasts of changes, and the projector layout."""

from __future__ import annotations

import time
from datetime import datetime

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from calibration import settings
from calibration.board import service as board_service
from calibration.board import table as board
from calibration.board.view import fmt
from ui import context as ctx
from ui.text import plain
from ui.timings import timed

# Projector layout for 1280×720: no sidebar or header, the title row holds the clock and the
# exit, large type, a dark counts line, and toasts in the title row's band above the headline
# (never over the table). Streamlit has no setting for any of it; a literal, since pages pass
# nothing but constant markup to st.html.
PROJECTOR_CSS = """<style>
section[data-testid='stSidebar'], [data-testid='stSidebarCollapsedControl'],
header[data-testid='stHeader'] {display:none}
[data-testid='stMainBlockContainer'] {max-width:100%; padding:0.6rem 2.2rem 1rem}
[data-testid='stMainBlockContainer'] [data-testid='stVerticalBlock'] {gap:0.55rem}
[data-testid='stMetricValue'] {font-size:3.4rem; line-height:1.05}
[data-testid='stMetricLabel'] p {font-size:1.4rem}
[data-testid='stMetricDelta'] {font-size:1.25rem}
[data-testid='stCaptionContainer'] {opacity:1}
[data-testid='stCaptionContainer'] p {font-size:1.3rem; color:#1b1f24}
h1 {font-size:2.1rem !important; padding:0.35rem 0 !important}
[data-testid='stToastContainer'] {top:0.2rem !important; bottom:auto !important;
  right:1rem !important; max-height:3.6rem; overflow:hidden}
[data-testid='stToast'] {font-size:1.45rem; min-width:26rem; padding:0.3rem 0.9rem;
  box-shadow:0 4px 18px rgba(0,0,0,0.25)}
[data-testid='stToast'] p {font-size:1.45rem}
</style>"""


def presenting() -> bool:
    """Whether this screen is in presentation mode (a plain key: its toggle is hidden then)."""
    return bool(st.session_state.get("board_big", False))


def _set_presenting(on: bool) -> None:
    st.session_state["board_big"] = on


def _copy_toggle(widget: str, key: str) -> None:
    st.session_state[key] = st.session_state[widget]


def controls() -> bool:
    """The presentation and pause toggles of the normal layout; returns paused.

    Their values live in plain keys (board_big, board_paused): presentation mode hides
    the toggles, and a widget not drawn in a run loses its state.
    """
    c_big, c_pause, _ = st.columns([2, 2, 3])
    c_big.toggle(
        ctx.tr("board.presentation"),
        value=presenting(),
        key="board_big_toggle",
        on_change=_copy_toggle,
        args=("board_big_toggle", "board_big"),
    )
    c_pause.toggle(
        ctx.tr("board.pause"),
        value=paused(),
        key="board_paused_toggle",
        help=ctx.tr("board.pause_help"),
        on_change=_copy_toggle,
        args=("board_paused_toggle", "board_paused"),
    )
    return paused()


def paused() -> bool:
    """Whether live updates are held on this screen."""
    return bool(st.session_state.get("board_paused", False))


def presentation_bar(title: str) -> DeltaGenerator:
    """The projector's title row: title, a slot for the clock, one small exit control."""
    st.html(PROJECTOR_CSS)
    c_title, c_clock, c_exit = st.columns([5, 6, 2], vertical_alignment="center")
    c_title.title(title)
    c_exit.button(
        ctx.tr("board.exit_presentation"),
        icon=":material/close_fullscreen:",
        key="board_exit_presentation",
        on_click=_set_presenting,
        args=(False,),
        type="tertiary",
    )
    return c_clock


def tick_rerun() -> bool:
    """Whether the live tick (not the person) started this run (read once per run)."""
    return st.session_state.pop("board_tick_rerun", False)


def changes(cycle_id: int, state: pd.DataFrame, table: pd.DataFrame) -> set[str]:
    """Regions changed in the last few seconds; a toast for each change seen just now."""
    memo = st.session_state.setdefault("board_seen", {})
    lit = st.session_state.setdefault("board_lit", {})
    now = time.time()
    before = memo.get(cycle_id)
    # The board's cache hands every screen the same state object until a change.
    fresh = set() if before is state else board.changes_since(before, state)
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
    shown_for = settings.board_highlight_seconds()
    return {r for r, at in lit.items() if now - at < shown_for}


def live(
    cycle_id: int,
    shown_version: tuple,
    lit: set[str],
    paused: bool,
    slot: DeltaGenerator,
    short: bool = False,
) -> None:
    """Start the tick: one small query; the page reruns only when the board has changed.

    short: the projector's one-line clock (the title row has no room for the full sentence).
    """
    seconds = settings.board_refresh_seconds()
    tz = settings.company_tz()

    @st.fragment(run_every=None if paused else seconds)
    def tick() -> None:
        if ctx.session_expired():
            st.rerun(scope="app")  # the app run signs the idle session out; no more ticks
        with timed("board.tick"):
            now_version = board_service.version(ctx.cursor(), cycle_id)
            lit_at = st.session_state.get("board_lit", {})
            shown_for = settings.board_highlight_seconds()
            faded = any(time.time() - lit_at.get(r, 0) >= shown_for for r in lit)
        if now_version != shown_version or faded:
            st.session_state["board_tick_rerun"] = True
            st.rerun(scope="app")
        # The company's zone, named beside the time: a meeting room reads its own clock.
        clock = datetime.now(tz).strftime("%H:%M:%S")
        zone = str(tz)
        if paused:
            st.caption(":material/pause_circle: " + ctx.tr("board.paused", time=clock, zone=zone))
        else:
            st.caption(
                ":green[:material/radio_button_checked:] "
                + ctx.tr(
                    "board.live_short" if short else "board.live",
                    seconds=f"{seconds:g}",
                    time=clock,
                    zone=zone,
                )
            )

    with slot:
        tick()
