"""The admin's view of notification delivery: counts, channels, failures, retry, settings."""

from __future__ import annotations

import duckdb
import pandas as pd
import streamlit as st

from calibration.accounts import directory
from calibration.accounts.auth import User
from calibration.notify import service as notify_service
from ui import context as ctx
from ui import flash
from ui.notify_settings import settings_form

SLOT = "notify_admin"
FAILURE_COLUMNS = [
    "delivery_id",
    "channel",
    "target",
    "username",
    "kind",
    "attempts",
    "next_attempt_at",
    "last_error",
]


@ctx.guarded
def _retry(actor: User, ids: list[int]) -> None:
    """Callback: make the failed deliveries due now."""
    try:
        count = notify_service.retry_now(ctx.cursor(), actor, ids)
    except PermissionError as exc:
        flash.error(SLOT, exc)
    else:
        flash.success(SLOT, ctx.tr("notify.admin.retried", count=count))


def section(cur: duckdb.DuckDBPyConnection, actor: User) -> None:
    """Delivery status and every person's settings (admin only; the service checks)."""
    st.subheader(ctx.tr("notify.admin.title"))
    flash.show(SLOT)
    status = notify_service.status(cur, actor)
    cols = st.columns(3)
    for col, name in zip(cols, ("pending", "sent", "failed"), strict=True):
        col.metric(ctx.tr(f"notify.admin.{name}"), status["counts"][name])
    if status["channels"]:
        st.caption(ctx.tr("notify.admin.channels"))
        st.dataframe(
            pd.DataFrame(
                [
                    {"channel": ctx.tr(f"notify.channel.{c}"), "setting": what}
                    for c, what in status["channels"].items()
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        st.info(ctx.tr("notify.admin.no_channels"))
    failures: pd.DataFrame = status["failures"]
    st.caption(ctx.tr("notify.admin.failures"))
    if failures.empty:
        st.caption(ctx.tr("notify.admin.none_failed"))
    else:
        # Errors and addresses sit in dataframe cells: shown as text, never rendered.
        st.dataframe(failures[FAILURE_COLUMNS], hide_index=True, width="stretch")
        st.button(
            ctx.tr("notify.admin.retry"),
            key="notify_retry",
            on_click=_retry,
            args=(actor, [int(i) for i in failures["delivery_id"]]),
        )
    if not status["retrying"].empty:
        st.caption(ctx.tr("notify.admin.retrying"))
        st.dataframe(status["retrying"][FAILURE_COLUMNS], hide_index=True, width="stretch")
    with st.expander(ctx.tr("notify.admin.settings")):
        accounts = directory.list_accounts(cur, actor)["username"].tolist()
        if accounts:
            who = st.selectbox(ctx.tr("notify.settings.person"), accounts, key="notify_person")
            settings_form(cur, actor, who, "admin")
