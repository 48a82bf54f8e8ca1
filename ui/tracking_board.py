"""Tracking page board: four numbers for the company and the drill-down chart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from calibration import numbers
from calibration.tracking import charts as charts_tracking
from calibration.tracking import service as tracking_service
from ui import cache
from ui import context as ctx
from ui.text import plain

Label = Callable[[str], str]
# The company's path, actuals and snapshot row (tracking_service.company_view).
View = tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]


def kpis(board: tracking_service.Board, view: View) -> None:
    """Company (or the lead's own regions) in four numbers."""
    _, _, c_row = view
    snap = board.snapshot
    k1, k2, k3, k4 = st.columns(4)
    k1.metric(ctx.tr("tracking.kpi.target"), numbers.number(c_row["target"]), border=True)
    k2.metric(
        ctx.tr("tracking.kpi.actual"),
        numbers.number(c_row["actual_to_date"]),
        numbers.percent(c_row["pace"]),
        # Pace is a ratio, not a change: no green arrow for 72%.
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    over = -float(c_row["shortfall"])
    k3.metric(
        ctx.tr("tracking.kpi.projected"),
        numbers.number(c_row["projected"]),
        # The arrow gives the direction, the number no second sign; a rounding zero is "0".
        numbers.number(abs(over)),
        delta_arrow="up" if over >= 0.5 else "down" if over <= -0.5 else "off",
        border=True,
    )
    k4.metric(
        ctx.tr("tracking.kpi.red"),
        f"{int((snap['status'] == 'red').sum())} / {int((snap['status'] == 'amber').sum())}",
        border=True,
    )


def drill(
    board: tracking_service.Board, view: View, lang: str, label: Label, company: bool
) -> None:
    """Drill from the company to one region (worst first), then the weekly status grid."""
    choices = [tracking_service.COMPANY, *board.regions]
    if not company and len(board.regions) == 1:
        choices = board.regions
    # Labels are computed now: a format_func runs outside this script run (e.g. in AppTest),
    # where the session's language is not at hand.
    focus_labels = {c: label(c) for c in choices}
    focus = st.selectbox(
        ctx.tr("tracking.drill"), choices, format_func=focus_labels.get, key="tracking_focus"
    )
    if focus == tracking_service.COMPANY:
        c_path, c_acts, c_row = view
        spec = cache.chart_spec(
            charts_tracking.tracking_chart, c_path, c_acts, c_row, lang, label(focus)
        )
        st.vega_lite_chart(spec, width="stretch")
    else:
        snap = board.snapshot
        row = snap[snap["region"] == focus].iloc[0].to_dict()
        spec = cache.chart_spec(
            charts_tracking.tracking_chart, board.path, board.actuals, row, lang, label(focus)
        )
        st.vega_lite_chart(spec, width="stretch")
        # The banner follows the projection too: never "On track" beside a projected miss.
        status_text = tracking_service.outlook_text(row, lang)
        if row["support_note"]:
            status_text += f" — {plain(row['support_note'])}"
        level = tracking_service.outlook(row)
        {"red": st.error, "amber": st.warning}.get(level, st.success)(status_text)
        if row["warning"]:
            st.warning(tracking_service.tracking.describe_warning(row, lang, plain(label(focus))))
    if not board.weekly.empty:
        spec = cache.chart_spec(charts_tracking.status_grid, board.weekly, lang, board.labels)
        st.vega_lite_chart(spec, width="content")
