"""Altair builders for the baseline: suggestions with intervals, driver effects.

Pure: data in, chart out (no Streamlit). Labels go through `calibration.i18n.t`.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from calibration.i18n import t

DIMENSION_COLORS = {"market": "#1f77b4", "pipeline": "#2ca02c", "capacity": "#ff7f0e"}


def suggestion_chart(table: pd.DataFrame, lang: str) -> alt.LayerChart:
    """Per region: suggestion (bar), 80% interval (rule) and same period last year (tick).

    table: region label column `label`, plus suggestion, lower80, upper80, base.
    """
    value = t("model_lab.chart_value", lang)
    y = alt.Y("label:N", title=None, sort=None)
    base = alt.Chart(table)
    bars = base.mark_bar(color="#1f3b73", opacity=0.8).encode(
        y=y,
        x=alt.X("suggestion:Q", title=value),
        tooltip=[
            alt.Tooltip("label:N", title=t("model_lab.col_region", lang)),
            alt.Tooltip("suggestion:Q", format=",.1f", title=t("model_lab.col_suggestion", lang)),
            alt.Tooltip("lower80:Q", format=",.1f", title=t("model_lab.col_lower", lang)),
            alt.Tooltip("upper80:Q", format=",.1f", title=t("model_lab.col_upper", lang)),
            alt.Tooltip("base:Q", format=",.1f", title=t("model_lab.col_base", lang)),
        ],
    )
    rule = base.mark_rule(color="#424242", strokeWidth=2).encode(y=y, x="lower80:Q", x2="upper80:Q")
    tick = base.mark_tick(color="#d62728", thickness=3, size=18).encode(y=y, x="base:Q")
    return (bars + rule + tick).properties(height=max(120, 34 * len(table)))


def drivers_chart(table: pd.DataFrame, lang: str) -> alt.Chart:
    """Diverging bars: effect of market, pipeline and capacity on each region's suggestion."""
    long = table.melt(
        id_vars=["label"], value_vars=list(DIMENSION_COLORS), var_name="dim", value_name="effect"
    )
    long["driver"] = [t(f"model.dimension.{d}", lang) for d in long["dim"]]
    names = [t(f"model.dimension.{d}", lang) for d in DIMENSION_COLORS]
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title=None, sort=None),
            yOffset=alt.YOffset("driver:N", sort=names),
            x=alt.X("effect:Q", title=t("model_lab.chart_effect", lang)),
            color=alt.Color(
                "driver:N",
                title=t("model_lab.chart_driver", lang),
                scale=alt.Scale(domain=names, range=list(DIMENSION_COLORS.values())),
            ),
            tooltip=[
                alt.Tooltip("label:N", title=t("model_lab.col_region", lang)),
                alt.Tooltip("driver:N", title=t("model_lab.chart_driver", lang)),
                alt.Tooltip("effect:Q", format="+,.1f"),
            ],
        )
        .properties(height=max(120, 40 * table["label"].nunique()))
    )
