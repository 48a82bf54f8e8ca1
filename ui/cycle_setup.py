"""The executive's cycle set-up on the live board: start a cycle, open a draft for proposals."""

from __future__ import annotations

import streamlit as st

from calibration.accounts.auth import User
from calibration.board import service as board_service
from calibration.i18n import name_of
from calibration.modeling import service as baseline
from calibration.negotiation import service as neg
from ui import cache
from ui import context as ctx
from ui import flash as kept
from ui.text import plain

FIELDS = ("name", "metric", "period", "company_target", "dissent_threshold")


def new_cycle_form(user: User, expanded: bool = False, data_version: tuple | None = None) -> None:
    """Form: name, metric, period, company target and dissent threshold of a new draft cycle.

    data_version (board.service.version's data part): the metrics and their next periods are
    read once per import instead of on every rerun of the live board.
    """
    cur = ctx.cursor()
    defaults = (
        None if data_version is None else cache.cycle_defaults(cache.board_db(), data_version)
    )
    metrics = list(defaults) if defaults is not None else board_service.cycle_metrics(cur)
    with st.expander(ctx.tr("cycle.new"), expanded=expanded, icon=":material/add_circle:"):
        if not metrics:
            st.info(ctx.tr("cycle.no_data"))
            return
        metric = ctx.metric_select(ctx.tr("cycle.metric"), metrics, key="cycle_new_metric")
        period_default = (
            defaults.get(metric, "") if defaults else baseline.next_period(cur, metric) or ""
        )
        with st.form("cycle_new", clear_on_submit=False):
            name = st.text_input(
                ctx.tr("cycle.name"),
                value=f"{period_default} {name_of('metric', metric, ctx.lang())}".strip(),
                max_chars=200,
            )
            period = st.text_input(ctx.tr("cycle.period"), value=period_default)
            target = st.number_input(
                ctx.tr("cycle.company_target"), min_value=0.0, step=1.0, value=None, format="%.0f"
            )
            threshold = st.number_input(
                ctx.tr("cycle.dissent_threshold"),
                min_value=1.0,
                max_value=99.0,
                value=neg.DEFAULT_THRESHOLD * 100,
                step=1.0,
                format="%.0f",
                help=ctx.tr("cycle.dissent_help"),
            )
            made = st.form_submit_button(ctx.tr("cycle.create"), type="primary")
        if not made:
            return
        try:
            cid = neg.create_cycle(cur, user, name, metric, period, target, threshold / 100)
        except neg.ValidationError as exc:
            for field, key in exc.errors.items():
                label = ctx.tr(f"cycle.{field}") if field in FIELDS else field
                st.error(f"{label}: {ctx.tr(key)}")
        except (neg.NegotiationError, PermissionError) as exc:
            ctx.show_error(exc)
        else:
            st.session_state["cycle_id"] = cid
            kept.success("cycle", ctx.tr("cycle.created", name=plain(name)))
            st.rerun()


def draft_panel(user: User, cycle: dict) -> None:
    """A draft cycle: what is missing before it can open, and the button that opens it."""
    with st.container(border=True):
        st.markdown(f"**{ctx.tr('cycle.draft_title', name=plain(cycle['name']))}**")
        if cycle["run_id"] is None:
            st.info(
                ctx.tr(
                    "cycle.draft_needs_run", metric=plain(cycle["metric"]), period=cycle["period"]
                )
            )
            return
        st.caption(ctx.tr("cycle.draft_ready", run_id=cycle["run_id"]))
        if st.button(ctx.tr("cycle.open"), type="primary", key="cycle_open"):
            try:
                neg.open_cycle(ctx.cursor(), user, cycle["id"])
            except (neg.NegotiationError, PermissionError) as exc:
                ctx.show_error(exc)
            else:
                kept.success("cycle", ctx.tr("cycle.opened", name=plain(cycle["name"])))
                st.rerun()


def flash() -> None:
    """The message left by the last set-up action (shown once)."""
    kept.show("cycle")
