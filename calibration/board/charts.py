"""Altair builders for the live board (pure: no Streamlit, no database).

Every builder takes `lang` for its labels and `big=True` for presentation mode on a big
screen (larger fonts, marks and rows). The returned chart is top-level (it carries its own
`configure_*`), so render it as is rather than concatenating it with another chart.
"""

from __future__ import annotations

import json
import math

import altair as alt
import numpy as np
import pandas as pd

from calibration import charts_theme as theme
from calibration import numbers
from calibration.board.table import method_label
from calibration.i18n import t

# The one palette (colour-blind-safe, so the room can tell the series apart on a projector).
COLORS = {**theme.SERIES_COLORS, **theme.CHANGE_COLORS}


def _fonts(big: bool) -> dict[str, int]:
    if big:
        return {"label": 20, "title": 22, "legend": 20, "header": 30, "text": 18, "row": 40}
    return {"label": 12, "title": 13, "legend": 12, "header": 16, "text": 11, "row": 24}


def _configure(chart: alt.TopLevelMixin, big: bool) -> alt.TopLevelMixin:
    f = _fonts(big)
    # Assigned rather than chained configure_*(): each of those deep-copies the chart,
    # which was a third of the build time on a 200-region board.
    chart.config = alt.Config(
        axis=alt.AxisConfig(labelFontSize=f["label"], titleFontSize=f["title"], labelLimit=260),
        legend=alt.LegendConfig(
            labelFontSize=f["legend"], titleFontSize=f["legend"], orient="top", labelLimit=400
        ),
        title=alt.TitleConfig(fontSize=f["header"], anchor="start"),
        view=alt.ViewConfig(strokeWidth=0),
    )
    return chart


# Channel objects, never shorthand strings or alt.value/alt.datum dicts, in encode():
# Altair resolves those through from_dict, ~15 ms each, which dominated chart building.

# Rows keep the board table's order; sorting by a field rather than by a list of names
# keeps the spec small (the list would be copied into every layer).
_ROW_ORDER = alt.EncodingSortField(field="order", op="min")


def _source(table: pd.DataFrame) -> pd.Series:
    # Tables built before current_source existed: the proposal or the agreed value.
    if "current_source" in table:
        return table["current_source"]
    return pd.Series(
        ["agreed" if pd.notna(a) else "proposal" for a in table["agreed"]], index=table.index
    )


def regions_chart(table: pd.DataFrame, lang: str = "en", big: bool = False) -> alt.LayerChart:
    """Per region: suggestion with its 80% whisker, the proposal and the agreed value."""
    f = _fonts(big)
    names = [str(n) for n in table["name"]]
    labels = {
        "interval": t("board.series_interval", lang),
        "suggestion": t("board.series_suggestion", lang),
        "proposal": t("board.series_proposal", lang),
        "counter": t("board.series_counter", lang),
        "agreed": t("board.series_agreed", lang),
    }
    series_title = t("board.chart_series", lang)
    value_title = t("board.chart_value", lang)
    region_title = t("board.chart_region", lang)
    color = alt.Color(
        "series:N",
        title=series_title,
        scale=alt.Scale(domain=list(labels.values()), range=[COLORS[k] for k in labels]),
    )
    y = alt.Y("name:N", title=region_title, sort=_ROW_ORDER)

    # One dataset for all layers: Altair (and Streamlit's Arrow path) serialise each
    # distinct frame separately, which was most of this chart's cost.
    wide = pd.DataFrame(
        {
            "name": names,
            "order": range(len(names)),
            "lower80": table["lower80"].to_numpy("float64"),
            "upper80": table["upper80"].to_numpy("float64"),
            labels["suggestion"]: table["suggestion"].to_numpy("float64"),
            # Each region's current number under its own source (board_table's current):
            # a countered region shows the counter, not the proposal it replaced.
            **{
                labels[k]: table["current"].where(_source(table) == k).to_numpy("float64")
                for k in ("proposal", "counter", "agreed")
            },
        }
    )
    whisker = (
        alt.Chart()
        .transform_filter("isValid(datum.lower80) && isValid(datum.upper80)")
        .transform_calculate(series=json.dumps(labels["interval"]))
        .mark_rule(strokeWidth=6 if big else 3, opacity=0.8)
        .encode(
            # Not from zero: the room compares regions with their own ranges, not with 0.
            x=alt.X("lower80:Q", title=value_title, scale=alt.Scale(zero=False)),
            x2=alt.X2("upper80"),
            y=y,
            color=color,
            tooltip=[
                alt.Tooltip("name:N", title=region_title),
                alt.Tooltip("lower80:Q", format=",.0f"),
                alt.Tooltip("upper80:Q", format=",.0f"),
            ],
        )
    )
    size = 260 if big else 90
    marks = (
        alt.Chart()
        .transform_fold(
            [labels[k] for k in ("suggestion", "proposal", "counter", "agreed")],
            as_=["series", "value"],
        )
        .transform_filter("isValid(datum.value) && isFinite(datum.value)")
        .mark_point(filled=True, size=size, opacity=0.95)
        .encode(
            x=alt.X("value:Q", title=value_title),
            y=y,
            color=color,
            shape=alt.Shape(
                "series:N",
                title=series_title,
                # Same domain as the colour scale, so Vega-Lite draws one legend, not two.
                scale=alt.Scale(
                    domain=list(labels.values()),
                    range=["stroke", "circle", "diamond", "triangle-up", "square"],
                ),
            ),
            tooltip=[
                alt.Tooltip("name:N", title=region_title),
                alt.Tooltip("series:N", title=series_title),
                alt.Tooltip("value:Q", title=value_title, format=",.0f"),
            ],
        )
    )
    chart = alt.layer(
        whisker,
        marks,
        data=wide,
        # As layer arguments: .properties() validates each one, ~3 ms a call.
        title=t("board.chart_regions_title", lang),
        # A step per row, not a total: Streamlit counts a fixed height including the title
        # and legend, which squeezed 200 rows into a few pixels.
        height=alt.Step(f["row"]),
        width="container",
    )
    return _configure(chart, big)


def bridge_steps(
    headline: dict, table: pd.DataFrame, lang: str = "en", max_regions: int = 12
) -> pd.DataFrame:
    """Waterfall steps: step, kind (total/up/down/gap), start, end, delta, in display order."""
    rows = []
    running = float(headline["suggestion_sum"])
    rows.append(("start", t("board.bridge_start", lang), "total", 0.0, running, running))
    # numpy, not pandas: a dozen rows out of 200 are wanted on every refresh.
    delta = table["current"].to_numpy("float64") - table["suggestion"].to_numpy("float64")
    names = table["name"].to_numpy(object)
    moved = np.flatnonzero(np.abs(np.nan_to_num(delta)) > 1e-9)
    moved = moved[np.argsort(-np.abs(delta[moved]), kind="stable")]
    shown, rest = moved[:max_regions], moved[max_regions:]
    for i in shown:
        d = float(delta[i])
        rows.append(("region", str(names[i]), "up" if d > 0 else "down", running, running + d, d))
        running += d
    if len(rest):
        d = float(delta[rest].sum())
        label = t("board.bridge_other", lang, n=len(rest))
        rows.append(("other", label, "up" if d >= 0 else "down", running, running + d, d))
        running += d
    target = headline.get("company_target")
    if target is not None and not (isinstance(target, float) and math.isnan(target)):
        gap = float(target) - running
        rows.append(("gap", t("board.bridge_gap", lang), "gap", running, float(target), gap))
    out = pd.DataFrame(rows, columns=["role", "step", "kind", "start", "end", "delta"])
    out["order"] = range(len(out))
    return out


def _bridge_domain(steps: pd.DataFrame, target: object) -> list[float]:
    """Value axis of the bridge: around the moving part, not from zero.

    Region deltas are a few percent of the total, so from zero they would be invisible;
    the first (total) bar is cut at the bottom of the axis instead.
    """
    ends = list(steps["end"]) + list(steps.loc[steps["kind"] != "total", "start"])
    if target is not None and not (isinstance(target, float) and math.isnan(target)):
        ends.append(float(target))
    lo, hi = min(ends), max(ends)
    pad = max((hi - lo) * 0.15, abs(hi) * 0.01, 1.0)
    return [max(0.0, lo - pad) if lo >= 0 else lo - pad, hi + pad]


def bridge_chart(
    headline: dict, table: pd.DataFrame, lang: str = "en", big: bool = False
) -> alt.LayerChart:
    """Waterfall from the sum of suggestions, region by region, to the company target."""
    f = _fonts(big)
    steps = bridge_steps(headline, table, lang)
    kinds = {
        t("board.bridge_kind_total", lang): COLORS["total"],
        t("board.bridge_kind_up", lang): COLORS["up"],
        t("board.bridge_kind_down", lang): COLORS["down"],
        t("board.bridge_kind_gap", lang): COLORS["gap"],
    }
    kind_label = {
        "total": t("board.bridge_kind_total", lang),
        "up": t("board.bridge_kind_up", lang),
        "down": t("board.bridge_kind_down", lang),
        "gap": t("board.bridge_kind_gap", lang),
    }
    steps["kind_label"] = steps["kind"].map(kind_label)
    steps["top"] = steps[["start", "end"]].max(axis=1)
    steps["text"] = [
        numbers.number(e) if k == "total" else numbers.delta(d)
        for k, e, d in zip(steps["kind"], steps["end"], steps["delta"], strict=True)
    ]
    order = list(steps["step"])
    domain = _bridge_domain(steps, headline.get("company_target"))
    x = alt.X(
        "step:N",
        title=None,
        sort=order,
        axis=alt.Axis(labelAngle=-30, labelLimit=220),
    )
    value_title = t("board.chart_value", lang)
    bars = (
        alt.Chart()
        .mark_bar(size=48 if big else 28, clip=True)
        .encode(
            x=x,
            y=alt.Y("start:Q", title=value_title, scale=alt.Scale(domain=domain)),
            y2=alt.Y2("end"),
            color=alt.Color(
                "kind_label:N",
                title=t("board.chart_step", lang),
                scale=alt.Scale(domain=list(kinds), range=list(kinds.values())),
            ),
            tooltip=[
                alt.Tooltip("step:N", title=t("board.chart_step", lang)),
                alt.Tooltip("delta:Q", title=t("board.chart_change", lang), format="+,.0f"),
                alt.Tooltip("end:Q", title=value_title, format=",.0f"),
            ],
        )
    )
    labels = (
        alt.Chart()
        .mark_text(dy=-10, fontSize=f["text"], fontWeight="bold")
        .encode(x=x, y=alt.Y("top:Q"), text=alt.Text("text:N"))
    )
    layers = [bars, labels]
    target = headline.get("company_target")
    if target is not None and not (isinstance(target, float) and math.isnan(target)):
        # Constant marks on the shared dataset: keep one row so the line is drawn once.
        label = f"{t('board.bridge_target', lang)} {numbers.number(target)}"
        first = "datum.order == 0"
        layers.append(
            alt.Chart()
            .transform_filter(first)
            .mark_rule(strokeDash=[6, 4], color=theme.TEXT_COLOR, size=3 if big else 1.5)
            .encode(y=alt.YDatum(float(target)))
        )
        layers.append(
            alt.Chart()
            .transform_filter(first)
            .mark_text(align="left", dx=4, dy=-8, fontSize=f["text"], color=theme.TEXT_COLOR)
            .encode(y=alt.YDatum(float(target)), x=alt.XValue(0), text=alt.TextValue(label))
        )
    chart = alt.layer(
        *layers,
        data=steps,
        # As layer arguments: .properties() validates each one, ~3 ms a call.
        title=t("board.chart_bridge_title", lang),
        # Streamlit counts the title, legend and labels in this height.
        height=680 if big else 440,
        width="container",
    )
    return _configure(chart, big)


def allocation_chart(alloc: pd.DataFrame, lang: str = "en", big: bool = False) -> alt.LayerChart:
    """Implied numbers against the 80% range; 'beyond what the data supports' stands out."""
    f = _fonts(big)
    names = [str(r) for r in alloc.get("name", alloc["region"])]
    label_col = f"label_{lang}" if f"label_{lang}" in alloc else "label_en"
    positions = {
        "below": t("board.position_below", lang),
        "within": t("board.position_within", lang),
        "above": t("board.position_above", lang),
    }
    data = pd.DataFrame(
        {
            "name": names,
            "order": range(len(names)),
            "implied": alloc["implied"].to_numpy(),
            "suggestion": alloc["suggestion"].to_numpy(),
            "lower80": alloc["lower80"].to_numpy(),
            "upper80": alloc["upper80"].to_numpy(),
            "position": alloc["position"].map(positions).fillna(t("board.position_unknown", lang)),
            # Bigger dots for "beyond what the data supports", so the room sees them first.
            "size": np.where(
                (alloc["position"] == "above").to_numpy(), 420 if big else 160, 220 if big else 80
            ),
            "label": alloc[label_col].to_numpy(),
        }
    )
    region_title = t("board.chart_region", lang)
    value_title = t("board.chart_value", lang)
    y = alt.Y("name:N", title=region_title, sort=_ROW_ORDER)
    rng = (
        alt.Chart()
        .transform_filter("isValid(datum.lower80) && isValid(datum.upper80)")
        .mark_rule(strokeWidth=6 if big else 3, color=COLORS["interval"])
        .encode(
            x=alt.X("lower80:Q", title=value_title, scale=alt.Scale(zero=False)),
            x2=alt.X2("upper80"),
            y=y,
        )
    )
    sug = (
        alt.Chart()
        .mark_tick(color=COLORS["suggestion"], thickness=3 if big else 2, size=f["row"] * 0.7)
        .encode(x=alt.X("suggestion:Q"), y=y)
    )
    dots = (
        alt.Chart()
        .mark_point(filled=True)
        .encode(
            x=alt.X("implied:Q"),
            y=y,
            color=alt.Color(
                "position:N",
                title=t("board.chart_position", lang),
                scale=alt.Scale(
                    domain=list(positions.values()),
                    range=[COLORS["below"], COLORS["within"], COLORS["above"]],
                ),
            ),
            size=alt.Size("size:Q", scale=None, legend=None),
            tooltip=[
                alt.Tooltip("name:N", title=region_title),
                alt.Tooltip("implied:Q", title=t("board.series_implied", lang), format=",.0f"),
                alt.Tooltip(
                    "suggestion:Q", title=t("board.series_suggestion", lang), format=",.0f"
                ),
                alt.Tooltip("label:N", title=t("board.chart_position", lang)),
            ],
        )
    )
    method = str(alloc["method"].iloc[0]) if len(alloc) else ""
    chart = alt.layer(
        rng,
        sug,
        dots,
        data=data,
        # As layer arguments: .properties() validates each one, ~3 ms a call.
        title=t("board.chart_allocation_title", lang, method=method_label(method, lang)),
        # A step per row, not a total: Streamlit counts a fixed height including the title
        # and legend, which squeezed 200 rows into a few pixels.
        height=alt.Step(f["row"]),
        width="container",
    )
    return _configure(chart, big)
