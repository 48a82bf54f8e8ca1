"""A person's notification settings form (their own on the Inbox page, anyone's on Admin)."""

from __future__ import annotations

import duckdb
import streamlit as st

from calibration.accounts.auth import User
from calibration.i18n import LANGS
from calibration.notify import config
from calibration.notify import service as notify_service
from ui import context as ctx


def settings_form(cur: duckdb.DuckDBPyConnection, actor: User, username: str, slot: str) -> None:
    """Draw the settings of username and save them when submitted (refusals as messages)."""
    prefs = notify_service.get_prefs(cur, actor, username)
    # Keys carry the username, so the admin switching accounts sees that person's values.
    key = f"notify_{slot}_{username}"
    with st.form(key):
        email = st.text_input(
            ctx.tr("notify.settings.email"), value=prefs["email"] or "", key=f"{key}_email"
        )
        lang = st.selectbox(
            ctx.tr("notify.settings.lang"),
            LANGS,
            index=LANGS.index(prefs["lang"]) if prefs["lang"] in LANGS else 0,
            format_func=lambda code: ctx.tr(f"notify.lang.{code}"),
            key=f"{key}_lang",
        )
        flags = {
            channel: st.checkbox(
                ctx.tr(f"notify.settings.{channel}_on"),
                value=bool(prefs[f"{channel}_on"]),
                key=f"{key}_{channel}_on",
            )
            for channel in config.CHANNELS
        }
        saved = st.form_submit_button(ctx.tr("notify.settings.save"))
    if not saved:
        return
    try:
        notify_service.set_prefs(
            cur,
            actor,
            username,
            email=email,
            lang=lang,
            **{f"{channel}_on": on for channel, on in flags.items()},
        )
    except (notify_service.NotifyError, PermissionError) as exc:
        ctx.show_error(exc)
    else:
        st.success(ctx.tr("notify.settings.saved"))


def own_settings(cur: duckdb.DuckDBPyConnection, user: User) -> None:
    """The signed-in person's settings in an expander (Inbox page)."""
    with st.expander(ctx.tr("notify.settings.title")):
        st.caption(ctx.tr("notify.settings.help"))
        if not config.company().configured:
            st.info(ctx.tr("notify.settings.not_configured"))
        settings_form(cur, user, user.username, "own")
