"""Model Lab's saved runs: save the current setting, list runs, publish one to a cycle."""

from __future__ import annotations

from typing import Any

import duckdb
import streamlit as st

from calibration.i18n import name_of
from calibration.modeling import lab
from calibration.modeling import service as model_service
from calibration.negotiation import publishing
from calibration.negotiation import service as neg
from ui import context as ctx
from ui import tables
from ui.text import plain

RUN_COLUMNS = ("run_id", "period", "params", "created_by", "created_at")


def runs_section(
    cur: duckdb.DuckDBPyConnection, user: Any, metric: str, period: str, params: dict
) -> None:
    """Save button, the metric's saved runs and the publish form."""
    if st.button(ctx.tr("model_lab.save"), type="primary", key="lab_save"):
        run_id = model_service.save_run(cur, user, metric, period, params)
        st.success(ctx.tr("model_lab.saved", run_id=run_id))

    st.subheader(ctx.tr("model_lab.runs"))
    runs = lab.saved_runs(cur, metric)
    if runs.empty:
        st.caption(ctx.tr("model_lab.no_runs"))
        return
    tables.show(
        lab.runs_view(cur, user, metric, ctx.lang())[list(RUN_COLUMNS)], "model_lab.runs_col"
    )
    period_runs, targets = publishing.publish_choices(cur, metric, period, runs)
    if not targets or not period_runs:
        st.caption(
            ctx.tr(
                "model_lab.no_cycle_to_publish",
                metric=name_of("metric", metric, ctx.lang()),
                period=period,
            )
        )
        return
    with st.form("lab_publish"):
        st.write(ctx.tr("model_lab.publish"))
        run_id = st.selectbox(ctx.tr("model_lab.publish_run"), period_runs)
        target = st.selectbox(
            ctx.tr("model_lab.publish_cycle"), list(targets), format_func=targets.get
        )
        if st.form_submit_button(ctx.tr("model_lab.publish"), type="primary"):
            try:
                publishing.publish_saved(cur, user, int(target), int(run_id), metric, period)
            except (PermissionError, ValueError, neg.NegotiationError) as exc:
                ctx.show_error(exc)
            else:
                st.success(
                    ctx.tr("model_lab.published", run_id=run_id, cycle=plain(targets[target]))
                )
