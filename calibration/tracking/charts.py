"""Altair builders for tracking: actual vs path with projection cone, and the status grid.

Pure: data in, chart out (no Streamlit). Labels go through `calibration.i18n.t`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from calibration import charts_theme as theme
from calibration import numbers
from calibration.i18n import t
from calibration.tracking.path import STATUS_COLORS, STATUSES, daily_pace, status_of

ACTUAL_COLOR = theme.SERIES_COLORS["actual"]  # blue: distinct from all three status colours
PLANNED_COLOR = theme.SERIES_COLORS["planned"]
TARGET_COLOR = theme.SERIES_COLORS["target"]


def _cone(path_r: pd.DataFrame, row: Mapping[str, Any]) -> pd.DataFrame:
    """Projection fan from as_of to period end, shaped like the remaining path.

    The share of the remaining plan done by day d maps the projection linearly, so the cone
    follows a back-loaded path instead of a straight line.
    """
    as_of = pd.Timestamp(row["as_of"])
    fut = path_r[path_r["date"] >= as_of]
    a = float(row["actual_to_date"])
    pl = float(row["planned_to_date"])
    rem = float(row["target"]) - pl
    if rem > 0:
        frac = ((fut["planned_cum"] - pl) / rem).clip(0.0, 1.0).to_numpy()
    else:
        frac = np.linspace(0.0, 1.0, len(fut)) if len(fut) > 1 else np.ones(len(fut))
    return pd.DataFrame(
        {
            "date": fut["date"].to_numpy(),
            "projected": a + frac * (float(row["projected"]) - a),
            "lower": a + frac * (float(row["lower80"]) - a),
            "upper": a + frac * (float(row["upper80"]) - a),
        }
    )


def tracking_chart(
    path_df: pd.DataFrame,
    actuals_df: pd.DataFrame,
    projection_row: Mapping[str, Any] | pd.Series,
    lang: str = "en",
    region_name: str | None = None,
) -> alt.LayerChart:
    """One region: cumulative actual vs the agreed path, and the projection cone to period end.

    `projection_row` is a row of `tracking.project`/`snapshot` (region, as_of, target,
    actual_to_date, planned_to_date, projected, lower80, upper80; `status` optional, else
    derived from `pace`). The cone takes the status colour.
    """
    row = dict(projection_row)
    region = str(row["region"])
    path_r = path_df[path_df["region"].astype(str) == region][["date", "planned_cum"]].copy()
    path_r["date"] = pd.to_datetime(path_r["date"])
    path_r = path_r.sort_values("date")
    act_r = actuals_df[actuals_df["region"].astype(str) == region]
    done = daily_pace(path_df[path_df["region"].astype(str) == region], act_r, row["as_of"])
    status = row.get("status")
    if status not in STATUS_COLORS:
        status = str(status_of(float(row.get("pace", np.nan))))
    s_act, s_plan, s_proj, s_int = (
        t(f"tracking.series.{k}", lang) for k in ("actual", "planned", "projected", "interval")
    )
    cone = _cone(path_r, row)
    lines = pd.concat(
        [
            pd.DataFrame(
                {"date": path_r["date"], "value": path_r["planned_cum"], "series": s_plan}
            ),
            pd.DataFrame({"date": done["date"], "value": done["actual_cum"], "series": s_act}),
            pd.DataFrame({"date": cone["date"], "value": cone["projected"], "series": s_proj}),
        ],
        ignore_index=True,
    )
    colour = alt.Scale(
        domain=[s_act, s_plan, s_proj, s_int],
        range=[ACTUAL_COLOR, PLANNED_COLOR, STATUS_COLORS[status], STATUS_COLORS[status]],
    )
    dash = alt.Scale(
        domain=[s_act, s_plan, s_proj],
        range=[theme.DASHES[k] for k in ("actual", "planned", "projection")],
    )
    x = alt.X("date:T", title=t("tracking.axis.date", lang), axis=alt.Axis(format="%m-%d"))
    y_title = t("tracking.axis.value", lang)
    # Line-shaped, opaque legend symbols: the band's opacity would otherwise fade them all.
    legend = alt.Legend(symbolType="stroke", symbolStrokeWidth=3, symbolOpacity=1, title=None)
    band = (
        alt.Chart(cone.assign(series=s_int))
        .mark_area(opacity=0.25)
        .encode(
            x=x,
            y=alt.Y("lower:Q", title=y_title),
            y2="upper:Q",
            color=alt.Color("series:N", scale=colour, legend=legend),
            tooltip=[
                alt.Tooltip("date:T", title=t("tracking.axis.date", lang)),
                alt.Tooltip("lower:Q", title=t("tracking.field.lower80", lang), format=",.0f"),
                alt.Tooltip("upper:Q", title=t("tracking.field.upper80", lang), format=",.0f"),
            ],
        )
    )
    line = (
        alt.Chart(lines)
        .mark_line(strokeWidth=2)
        .encode(
            x=x,
            y=alt.Y("value:Q", title=y_title),
            color=alt.Color("series:N", scale=colour, legend=legend),
            strokeDash=alt.StrokeDash("series:N", scale=dash, legend=None),
            tooltip=[
                alt.Tooltip("series:N", title=" "),
                alt.Tooltip("date:T", title=t("tracking.axis.date", lang)),
                alt.Tooltip("value:Q", title=y_title, format=",.0f"),
            ],
        )
    )
    target_df = pd.DataFrame(
        {
            "target": [float(row["target"])],
            "label": [
                f"{t('tracking.series.target', lang)} {numbers.number(float(row['target']))}"
            ],
            "date": [path_r["date"].iloc[0]],
        }
    )
    rule = (
        alt.Chart(target_df)
        .mark_rule(color=TARGET_COLOR, strokeDash=[1, 3])
        .encode(
            y="target:Q",
            tooltip=[
                alt.Tooltip("target:Q", title=t("tracking.series.target", lang), format=",.0f")
            ],
        )
    )
    label = (
        alt.Chart(target_df)
        .mark_text(align="left", baseline="bottom", dy=-3, color=TARGET_COLOR)
        .encode(x="date:T", y="target:Q", text="label:N")
    )
    title = t("tracking.chart.title", lang, region=region_name or region)
    return alt.layer(band, line, rule, label).properties(title=title, width="container", height=320)


def status_grid(
    status_df: pd.DataFrame,
    lang: str = "en",
    region_names: Mapping[str, str] | None = None,
) -> alt.Chart:
    """Red/amber/green heat grid, regions x weeks, from `tracking.weekly_status`.

    Needs `region, week, status`; `pace` and `date` feed the tooltip when present.
    """
    df = status_df.copy()
    df["region"] = df["region"].astype(str)
    if region_names:
        df["region"] = df["region"].map(lambda r: region_names.get(r, r))
    df["week"] = pd.to_datetime(df["week"])
    order = sorted(df["week"].unique())
    df["week_label"] = df["week"].dt.strftime("%m-%d")
    week_order = list(dict.fromkeys(pd.DatetimeIndex(order).strftime("%m-%d")))
    labels = {s: t(f"tracking.status.{s}", lang) for s in STATUSES}
    df["status_label"] = df["status"].map(labels)
    tooltip = [
        alt.Tooltip("region:N", title=t("tracking.axis.region", lang)),
        alt.Tooltip("week:T", title=t("tracking.axis.week", lang), format="%Y-%m-%d"),
        alt.Tooltip("status_label:N", title=t("tracking.field.status", lang)),
    ]
    if "pace" in df.columns:
        tooltip.append(alt.Tooltip("pace:Q", title=t("tracking.field.pace", lang), format=".0%"))
    if "date" in df.columns:
        df["date"] = pd.to_datetime(df["date"])
        tooltip.append(
            alt.Tooltip("date:T", title=t("tracking.field.evaluated", lang), format="%Y-%m-%d")
        )
    colour = alt.Scale(
        domain=[labels[s] for s in STATUSES], range=[STATUS_COLORS[s] for s in STATUSES]
    )
    return (
        alt.Chart(df)
        .mark_rect(stroke="white", strokeWidth=1)
        .encode(
            x=alt.X("week_label:O", sort=week_order, title=t("tracking.axis.week", lang)),
            # Every region labelled: Vega would drop "overlapping" labels at this row height.
            y=alt.Y(
                "region:N",
                sort="ascending",
                title=t("tracking.axis.region", lang),
                axis=alt.Axis(labelOverlap=False),
            ),
            color=alt.Color("status_label:N", scale=colour, title=t("tracking.field.status", lang)),
            tooltip=tooltip,
        )
        .properties(title=t("tracking.grid.title", lang), width=alt.Step(28), height=alt.Step(18))
    )
