"""Altair builders for the baseline: suggestions with intervals, driver effects.

Pure: data in, chart out (no Streamlit). Labels go through `calibration.i18n.t`.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from calibration import charts_theme as theme
from calibration.i18n import t

DIMENSION_COLORS = theme.DIMENSION_COLORS  # the one palette (calibration/charts_theme.py)
SERIES = theme.SERIES_COLORS


def suggestion_chart(table: pd.DataFrame, lang: str) -> alt.LayerChart:
    """Per region: suggestion (bar), 80% interval (rule) and same period last year (tick).

    table: region label column `label`, plus suggestion, lower80, upper80, base.
    """
    value = t("model_lab.chart_value", lang)
    y = alt.Y("label:N", title=None, sort=None)
    # Only the columns drawn: Altair serialises every column of the data it is given.
    base = alt.Chart(table[["label", "suggestion", "lower80", "upper80", "base"]])
    bars = base.mark_bar(color=SERIES["suggestion"], opacity=0.8).encode(
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
    rule = base.mark_rule(color=SERIES["target"], strokeWidth=2).encode(
        y=y, x="lower80:Q", x2="upper80:Q"
    )
    tick = base.mark_tick(color=SERIES["actual"], thickness=3, size=18).encode(y=y, x="base:Q")
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


def backtest_chart(predictions: pd.DataFrame, lang: str) -> alt.LayerChart:
    """One region's backtest: actual vs model (with its 80% band) vs seasonal naive.

    predictions: rows of one region with period, ordinal, method, forecast, lower80,
    upper80, actual (as returned by `calibration.modeling.service.run_backtest`).
    """
    order = alt.SortField("ordinal")
    x = alt.X("period:O", sort=order, title=t("chart.period", lang))
    model = predictions[predictions["method"] == "model"]
    naive = predictions[predictions["method"] == "seasonal_naive"]
    series = pd.concat(
        [
            model.assign(series=t("model_lab.series_model", lang), value=model["forecast"]),
            naive.assign(series=t("model_lab.series_naive", lang), value=naive["forecast"]),
            model.assign(series=t("model_lab.series_actual", lang), value=model["actual"]),
        ]
    )
    names = [t(f"model_lab.series_{k}", lang) for k in ("actual", "model", "naive")]
    band_name = t("model_lab.series_band", lang)
    # The band has a legend entry of its own (a fill), the lines one legend where colour and
    # dash share the series field: Vega-Lite merges the two, and a `legend: None` on either
    # hides the merged legend (the chart had none).
    band = (
        alt.Chart(model.assign(band=band_name))
        .mark_area(opacity=0.25)
        .encode(
            x=x,
            y=alt.Y("lower80:Q", title=t("model_lab.chart_value", lang)),
            y2="upper80:Q",
            fill=alt.Fill(
                "band:N",
                title=None,
                scale=alt.Scale(domain=[band_name], range=[SERIES["suggestion"]]),
                # Above the plot: the three lines' legend fills the row below.
                legend=alt.Legend(orient="top"),
            ),
        )
    )
    lines = (
        alt.Chart(series)
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("value:Q", scale=alt.Scale(zero=False)),
            color=alt.Color(
                "series:N",
                title=None,
                scale=alt.Scale(
                    domain=names, range=theme.colors(["actual", "suggestion", "naive"])
                ),
                legend=alt.Legend(orient="bottom"),
            ),
            strokeDash=alt.StrokeDash(
                "series:N",
                title=None,
                scale=alt.Scale(
                    domain=names, range=[theme.DASHES[k] for k in ("actual", "actual", "naive")]
                ),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=["period:O", "series:N", alt.Tooltip("value:Q", format=",.1f")],
        )
    )
    return (band + lines).properties(height=280)


def waterfall_chart(row: pd.Series, lang: str) -> alt.Chart:
    """One region's suggestion built up: own history, then market, pipeline and capacity."""
    steps = [("history", float(row["history"]))] + [
        (dim, float(row[dim])) for dim in ("market", "pipeline", "capacity")
    ]
    rows, running = [], 0.0
    for key, amount in steps:
        label = (
            t(f"model.dimension.{key}", lang)
            if key != "history"
            else t("model_lab.own_history", lang)
        )
        rows.append({"step": label, "start": running, "end": running + amount, "amount": amount})
        running += amount
    rows.append(
        {
            "step": t("model_lab.col_suggestion", lang),
            "start": 0.0,
            "end": running,
            "amount": running,
        }
    )
    data = pd.DataFrame(rows)
    data["kind"] = ["base"] + ["up" if a >= 0 else "down" for a in data["amount"][1:-1]] + ["total"]
    return (
        alt.Chart(data)
        .mark_bar(size=34)
        .encode(
            x=alt.X("step:N", sort=None, title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("start:Q", title=t("model_lab.chart_value", lang)),
            y2="end:Q",
            color=alt.Color(
                "kind:N",
                legend=None,
                scale=alt.Scale(
                    domain=["base", "up", "down", "total"],
                    range=[
                        SERIES["actual"],
                        theme.CHANGE_COLORS["up"],
                        theme.CHANGE_COLORS["down"],
                        SERIES["suggestion"],
                    ],
                ),
            ),
            tooltip=["step:N", alt.Tooltip("amount:Q", format="+,.1f")],
        )
        .properties(height=240)
    )
