"""Altair chart builders (pure: data in, chart out; no Streamlit)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from calibration import charts_theme as theme
from calibration.i18n import t

# The one palette (calibration/charts_theme.py); "model" is the suggestion's colour.
PALETTE = {**theme.SERIES_COLORS, "model": theme.SERIES_COLORS["suggestion"], **theme.STATUS_COLORS}
DIMENSION_COLOURS = theme.DIMENSION_COLORS


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


def suggestion_chart(
    history: pd.DataFrame,
    period: str,
    suggestion: float,
    lower80: float | None,
    upper80: float | None,
    lang: str,
    proposal: float | None = None,
    agreed: float | None = None,
    height: int = 280,
) -> alt.LayerChart:
    """One region's history of a metric, then the target period's suggestion with its 80%
    interval, and (when given) the lead's proposal and the agreed value.

    history: period, ordinal, value (one metric).
    """
    hist = history.loc[:, ["period", "ordinal", "value"]].copy()
    target_order = (int(hist["ordinal"].max()) + 1) if len(hist) else 0
    model_label = t("nego.chart_model", lang)
    rows = [
        {
            "period": p,
            "order": int(o),
            "value": float(v),
            "series": t("nego.chart_actual", lang),
            "lower": None,
            "upper": None,
        }
        for p, o, v in hist.itertuples(index=False)
    ]
    point = {"period": period, "order": target_order, "lower": lower80, "upper": upper80}
    rows.append({**point, "value": float(suggestion), "series": model_label})
    if proposal is not None:
        rows.append(
            {
                **point,
                "value": float(proposal),
                "series": t("nego.chart_proposal", lang),
                "lower": None,
                "upper": None,
            }
        )
    if agreed is not None:
        rows.append(
            {
                **point,
                "value": float(agreed),
                "series": t("nego.chart_agreed", lang),
                "lower": None,
                "upper": None,
            }
        )
    data = pd.DataFrame(rows)
    series = [
        t(k, lang)
        for k in (
            "nego.chart_actual",
            "nego.chart_model",
            "nego.chart_proposal",
            "nego.chart_agreed",
        )
    ]
    colours = [PALETTE["actual"], PALETTE["model"], PALETTE["proposal"], PALETTE["agreed"]]
    x = alt.X("period:O", sort=alt.SortField("order"), title=t("chart.period", lang))
    colour = alt.Color(
        "series:N",
        scale=alt.Scale(domain=series, range=colours),
        title=None,
        legend=alt.Legend(orient="bottom"),
    )
    base = alt.Chart(data)
    line = (
        base.transform_filter(alt.datum.series == series[0])
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=x,
            y=alt.Y("value:Q", title=t("chart.value", lang)),
            color=colour,
            tooltip=["period", alt.Tooltip("value:Q", format=",.0f")],
        )
    )
    band = (
        base.transform_filter(alt.datum.series == model_label)
        .mark_rule(strokeWidth=12, opacity=0.7, color=PALETTE["band"])
        .encode(
            x=x,
            y="lower:Q",
            y2="upper:Q",
            tooltip=[alt.Tooltip("lower:Q", format=",.0f"), alt.Tooltip("upper:Q", format=",.0f")],
        )
    )
    points = (
        base.transform_filter(alt.datum.series != series[0])
        .mark_point(filled=True, size=160)
        .encode(
            x=x,
            y="value:Q",
            color=colour,
            shape=alt.Shape("series:N", legend=None),
            tooltip=["series", alt.Tooltip("value:Q", format=",.0f")],
        )
    )
    return alt.layer(line, band, points).properties(height=height)


def contributions_chart(contributions: dict[str, float | None], lang: str) -> alt.Chart:
    """Horizontal bars: how much each driver (history, market, pipeline, capacity) adds."""
    data = pd.DataFrame(
        [
            {"driver": t(f"nego.driver_{k}", lang), "value": float(v)}
            for k, v in contributions.items()
            if v is not None and pd.notna(v)
        ],
        columns=["driver", "value"],
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("driver:N", sort=None, title=None, axis=alt.Axis(labelLimit=200)),
            x=alt.X("value:Q", title=t("nego.contribution", lang)),
            color=alt.condition(
                alt.datum.value >= 0, alt.value(PALETTE["actual"]), alt.value(PALETTE["red"])
            ),
            tooltip=["driver", alt.Tooltip("value:Q", format=",.1f")],
        )
        .properties(height=alt.Step(30))
    )
