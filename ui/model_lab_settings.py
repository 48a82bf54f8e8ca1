"""Model Lab's settings column: metric, target period, half-life, pooling, dimension scales."""

from __future__ import annotations

from typing import Any

import duckdb
import streamlit as st

from calibration.i18n import name_of
from calibration.modeling import lab
from calibration.modeling import service as model_service
from calibration.negotiation import publishing
from ui import context as ctx


def settings_column(cur: duckdb.DuckDBPyConnection, metrics: list[str]) -> dict[str, Any]:
    """Draw the settings; returns metric, period text, its default and the model params."""
    cycle_id = ctx.current_cycle()
    index = publishing.default_metric(cur, metrics, cycle_id)
    # A new sidebar cycle brings its metric along (issue 15); the analyst's own pick stays
    # until the cycle changes again.
    if st.session_state.get("lab_metric_cycle") != cycle_id:
        st.session_state["lab_metric_cycle"] = cycle_id
        st.session_state["lab_metric"] = metrics[index]
    metric = st.selectbox(
        ctx.tr("model_lab.metric"),
        metrics,
        index=index,
        key="lab_metric",
        format_func={m: name_of("metric", m, ctx.lang()) for m in metrics}.get,
    )
    default_period = model_service.next_period(cur, metric) or ""
    period = st.text_input(
        ctx.tr("model_lab.period"), value=default_period, key=f"lab_period_{metric}"
    )
    half_life = st.slider(
        ctx.tr("model_lab.half_life"),
        1.0,
        24.0,
        float(model_service.DEFAULTS["half_life"]),
        1.0,
        format="%.0f",  # whole periods: "8", not "8.00"
        help=ctx.tr("model_lab.half_life_help"),
        key="lab_half_life",
    )
    pooling = st.slider(
        ctx.tr("model_lab.pooling"),
        0.0,
        50.0,
        float(model_service.DEFAULTS["pooling"]),
        1.0,
        format="%.0f",
        help=ctx.tr("model_lab.pooling_help"),
        key="lab_pooling",
    )
    st.write(ctx.tr("model_lab.weights"))
    # Tuned scales arrive through session state before the sliders are drawn (the slider
    # keys lab_w_* keep their old name: tests and saved sessions use them).
    for dim, w in st.session_state.pop("lab_new_scales", {}).items():
        st.session_state[f"lab_w_{dim}"] = float(w)
    scales = {
        dim: st.slider(
            ctx.tr(f"model.dimension.{dim}"), 0.0, 2.0, 1.0, 0.1, format="%.1f", key=f"lab_w_{dim}"
        )
        for dim in lab.DIMENSIONS
    }
    if st.button(ctx.tr("model_lab.optimise"), key="lab_optimise"):
        res = model_service.optimise(cur, metric, half_life=half_life, pooling=pooling)
        st.session_state["lab_new_scales"] = res["scales"]
        st.session_state["lab_optimised"] = res
        st.rerun()
    if "lab_optimised" in st.session_state:
        res = st.session_state.pop("lab_optimised")
        st.success(ctx.tr("model_lab.optimised", **lab.optimised_summary(res, ctx.lang())))
    return {
        "metric": metric,
        "period": period,
        "default_period": default_period,
        "params": {"half_life": half_life, "pooling": pooling, "scales": scales},
    }
