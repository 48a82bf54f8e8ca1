"""Every st.cache_* of the app in one place; each key names what the value depends on
(cycle, data version, settings), so a change elsewhere can never serve a stale value."""

from __future__ import annotations

# ---------------------------------------------------------------------------- board
# Keyed on the database and the cycle's version (board.service.version): one read per change,
# shared by every screen. Every board role sees all regions, so the first viewer's snapshot
# is valid for the others (hence the unhashed _viewer).
import pandas as pd
import streamlit as st

from calibration import settings
from calibration.accounts.auth import User
from calibration.board import charts as board_charts
from calibration.board import service as board_service
from calibration.board import view as bview
from ui import context as ctx


@st.cache_data(max_entries=16, show_spinner=False)
def board_inputs(db: str, metric: str, data_version: tuple) -> dict:
    """Regions, history and signals of a metric: they change only with an import."""
    return board_service.inputs(ctx.cursor(), metric)


@st.cache_data(max_entries=16, show_spinner=False)
def board_snapshot(db: str, cycle_id: int, version: tuple, _viewer: User) -> dict:
    """The board's snapshot of a cycle at version."""
    # version = (last event, signatures, newest import, regions): the last two are the data's.
    return board_service.snapshot(
        ctx.cursor(),
        _viewer,
        cycle_id,
        load_inputs=lambda metric: board_inputs(db, metric, version[2:]),
    )


@st.cache_data(max_entries=16, show_spinner=False)
def board_view(db: str, cycle_id: int, version: tuple, lang: str, _viewer: User) -> dict:
    """Table, headline and rollup, built once per change for all screens."""
    return bview.build(board_snapshot(db, cycle_id, version, _viewer), lang)


@st.cache_data(max_entries=32, show_spinner=False)
def board_chart(
    db: str, cycle_id: int, version: tuple, lang: str, big: bool, which: str, _viewer: User
) -> dict:
    """The open tab's chart spec ("regions" or "bridge"), once per change for every screen."""
    # Specs, not Altair objects: converting a chart costs ~25 ms; not validated here (the
    # tests validate the builders).
    view = board_view(db, cycle_id, version, lang, _viewer)
    if which == "regions":
        chart = board_charts.regions_chart(view["table"], lang, big=big)
    else:
        chart = board_charts.bridge_chart(view["headline"], view["table"], lang, big=big)
    return chart.to_dict(validate=False)


@st.cache_data(max_entries=32, show_spinner=False)
def board_allocation(
    db: str, cycle_id: int, version: tuple, method: str, lang: str, big: bool, _viewer: User
) -> tuple[pd.DataFrame, dict]:
    """The what-if allocation and its chart spec, once per change and method."""
    snap = board_snapshot(db, cycle_id, version, _viewer)
    table = board_view(db, cycle_id, version, lang, _viewer)["table"]
    alloc = bview.allocation(snap, table, method)
    return alloc, board_charts.allocation_chart(alloc, lang, big=big).to_dict(validate=False)


def board_db() -> str:
    """The database the board's caches are keyed on."""
    return settings.db_path()
