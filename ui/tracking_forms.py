"""Tracking page forms: a lead's root-cause answer and the executives' delivery record."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd
import streamlit as st

from calibration.accounts.auth import User
from calibration.tracking import service as tracking_service
from ui import context as ctx
from ui import flash
from ui.text import plain

Label = Callable[[str], str]
SLOT = "tracking"
DELIVERY = ("delivered", "not_delivered")


def root_cause(
    cur: duckdb.DuckDBPyConnection, user: User, pending: pd.DataFrame, lang: str, label: Label
) -> None:
    """A lead answers each level-2 escalation of their regions with a root cause."""
    st.subheader(ctx.tr("tracking.root_cause.title"))
    with st.form("root_cause"):
        ids = pending["event_id"].astype(int).tolist()
        rows = {int(r["event_id"]): r for r in pending.to_dict("records")}
        event_labels = {
            i: ctx.tr(
                "tracking.root_cause.for",
                day=str(rows[i]["triggered_on"])[:10],
                text=tracking_service.describe_event(rows[i], lang, label(rows[i]["region"])),
            )
            for i in ids
        }
        chosen = st.selectbox(
            ctx.tr("tracking.col.event"), ids, format_func=event_labels.get, key="rc_event"
        )
        causes = tracking_service.tracking.ROOT_CAUSES
        cause_labels = {c: ctx.tr(f"tracking.root_cause.{c}") for c in causes}
        cause = st.radio(
            ctx.tr("tracking.root_cause.cause"),
            causes,
            format_func=cause_labels.get,
            horizontal=True,
            key="rc_cause",
        )
        text = st.text_area(ctx.tr("tracking.root_cause.text"), key="rc_text")
        if st.form_submit_button(ctx.tr("tracking.root_cause.submit"), type="primary"):
            if not text.strip():
                st.error(ctx.tr("tracking.root_cause.err_text"))
            else:
                tracking_service.submit_root_cause(cur, user, chosen, cause, text)
                flash.success(SLOT, ctx.tr("tracking.root_cause.submitted"))
                st.rerun()


def deliveries(
    cur: duckdb.DuckDBPyConnection,
    user: User,
    cycle_id: int,
    commitments: pd.DataFrame,
    label: Label,
) -> None:
    """Executives record delivery: one choice per item; only changes are saved (append-only)."""
    option_labels = {o: ctx.tr(f"tracking.commitment.{o}") for o in DELIVERY}
    with st.form("commitments"):
        picks = []
        for i, r in enumerate(commitments.to_dict("records")):
            current = r["status"] if r["status"] in DELIVERY else None
            pick = st.radio(
                f"{plain(label(r['region']))} · {plain(r['item'])}",
                DELIVERY,
                index=None if current is None else DELIVERY.index(current),
                format_func=option_labels.get,
                horizontal=True,
                key=f"commit_{i}",
            )
            picks.append((r, current, pick))
        note = st.text_input(ctx.tr("tracking.col.note"), key="commit_note")
        if st.form_submit_button(ctx.tr("tracking.commitments.save")):
            changes = [
                (r["region"], r["item"], pick == "delivered")
                for r, current, pick in picks
                if pick is not None and pick != current
            ]
            # One service call, one transaction: all the form's changes or none.
            tracking_service.record_deliveries(cur, user, cycle_id, changes, note)
            flash.success(SLOT, ctx.tr("tracking.commitments.saved"))
            st.rerun()
