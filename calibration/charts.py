"""Altair chart builders (pure: data in, chart out; no Streamlit)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from calibration.i18n import t

PALETTE = {
    "actual": "#1f4e79",
    "model": "#e07b00",
    "naive": "#8c8c8c",
    "band": "#f3c58a",
    "proposal": "#6a3d9a",
    "agreed": "#2e7d32",
    "green": "#2e7d32",
    "amber": "#f9a825",
    "red": "#c62828",
}
DIMENSION_COLOURS = {"market": "#1f77b4", "pipeline": "#9467bd", "capacity": "#2ca02c"}


def history_chart(history: pd.DataFrame, lang: str, height: int = 260) -> alt.Chart:
    """Line chart of one region's history: x = period, y = value, one line per metric."""
    data = history.assign(order=history["ordinal"])
    return (
        alt.Chart(data)
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=alt.X("period:O", sort=alt.SortField("order"), title=t("chart.period", lang)),
            y=alt.Y("value:Q", title=t("chart.value", lang)),
            color=alt.Color("metric:N", title=t("chart.metric", lang)),
            tooltip=["metric", "period", alt.Tooltip("value:Q", format=",.0f")],
        )
        .properties(height=height)
    )


def signals_chart(signals: pd.DataFrame, lang: str, height: int = 140) -> alt.Chart:
    """Small multiples of a region's signals, coloured by driver dimension."""
    data = signals.assign(order=signals["ordinal"])
    return (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(size=18))
        .encode(
            x=alt.X("period:O", sort=alt.SortField("order"), title=None),
            y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
            color=alt.Color(
                "dimension:N",
                scale=alt.Scale(range=list(DIMENSION_COLOURS.values())),
                sort=[t(f"dimension.{d}", lang) for d in DIMENSION_COLOURS],
                title=t("chart.dimension", lang),
            ),
            tooltip=["signal", "dimension", "period", alt.Tooltip("value:Q", format=",.3~f")],
        )
        .properties(height=height, width=260)
        .facet(facet=alt.Facet("signal:N", title=None), columns=3)
        .resolve_scale(y="independent")
    )
