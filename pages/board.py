"""Live board: proposals beside the model, the gap to the target, what-if allocations, links."""

from __future__ import annotations

import streamlit as st

from calibration.access import can
from calibration.board import service as board_service
from ui import board_live, board_respond, board_table, board_whatif, cache, cycle_setup
from ui import context as ctx
from ui.join_link import links_tab
from ui.timings import timed

user = ctx.require_user("board")
# Whether the live tick (not the person) started this run: forms then keep what they were
# drawn with (see board_respond.seen).
tick = board_live.tick_rerun()
# The sidebar's choice; the newest open cycle when there is none (a rerun in AppTest drops
# the sidebar's widget state).
cycle_id = ctx.current_cycle() or board_service.default_cycle(ctx.cursor())
is_exec = can(user, "cycle.respond")

# Presentation mode (the projector): set-up controls hidden, the clock in the title row.
big = board_live.presenting() and cycle_id is not None
if big:
    clock = board_live.presentation_bar(ctx.tr("board.title"))
else:
    st.title(ctx.tr("board.title"))
cycle_setup.flash()
# Every screen's tick reads only this; the board itself is rebuilt when it changes.
version = None if cycle_id is None else board_service.version(ctx.cursor(), cycle_id)
if is_exec and not big:
    data_version = None if version is None else version[2:]
    cycle_setup.new_cycle_form(user, expanded=cycle_id is None, data_version=data_version)
if cycle_id is None:
    st.info(ctx.tr("board.no_cycle"))
    st.stop()
if not big:
    board_live.controls()
    clock = st.container()
paused = board_live.paused()

with timed("board.render"):
    view = cache.board_view(cache.board_db(), cycle_id, version, ctx.lang(), user)
    cycle, state = view["cycle"], view["state"]
    lit = board_live.changes(cycle_id, state, view["table"]) if not state.empty else set()
    board_live.live(cycle_id, version, lit, paused, clock, short=big)
    if is_exec and cycle["status"] == "draft":
        cycle_setup.draft_panel(user, cycle)
    if state.empty:
        st.info(ctx.tr("board.no_regions"))
        st.stop()
    board_table.render(view, lit, cycle_id, version, big, user)

tabs = [ctx.tr("board.tab_whatif"), ctx.tr("board.tab_respond")]
if is_exec:
    tabs.append(ctx.tr("board.tab_join"))
# Stateful tabs: a change arriving from another browser reruns the page, and the
# executive must stay on the tab they were using.
tab_whatif, tab_respond, *tab_join = st.tabs(tabs, key="board_action_tab", on_change="rerun")
if tab_whatif.open:
    with tab_whatif:
        board_whatif.tab(user, view, version, big, is_exec and cycle["status"] == "open")
if tab_respond.open:
    with tab_respond:
        board_respond.tab(user, view, is_exec, tick)
if tab_join and tab_join[0].open:
    with tab_join[0]:
        links_tab(user, cycle_id)
