"""The sign-in view for anonymous visitors, and the language picker it shares with the sidebar."""

from __future__ import annotations

import duckdb
import streamlit as st

from calibration.accounts import auth
from calibration.demo.workshop import DEMO_PASSWORD, is_demo
from calibration.i18n import LANGS, language_name
from ui import context as ctx
from ui.sso import sign_in_button


@ctx.guarded
def _apply_language() -> None:
    st.session_state["lang"] = st.session_state["lang_picker"]
    ctx.remember_preferences()


def language_picker() -> None:
    """Language choice; kept under a plain key so it survives page switches."""
    st.session_state["lang_picker"] = ctx.lang()
    st.selectbox(
        ctx.tr("app.language"),
        LANGS,
        format_func=language_name,
        key="lang_picker",
        on_change=_apply_language,
    )


def login_view(cur: duckdb.DuckDBPyConnection) -> None:
    """The sign-in form (and nothing else) for anonymous visitors."""
    _, mid, _ = st.columns([1, 1.3, 1])
    with mid:
        st.title(ctx.tr("app.title"))
        st.caption(ctx.tr("app.tagline"))
        if is_demo(cur):
            st.badge(ctx.tr("app.demo_badge"), color="orange", icon=":material/science:")
        notice = ctx.ended_notice()  # signed out elsewhere, revoked, idle or too old
        if notice:
            st.warning(notice)
        st.write(ctx.tr("login.intro"))
        sign_in_button()  # "Sign in with <company>" when single sign-on is configured
        with st.form("login"):
            username = st.text_input(ctx.tr("login.username"), key="login_username")
            password = st.text_input(
                ctx.tr("login.password"), type="password", key="login_password"
            )
            submitted = st.form_submit_button(ctx.tr("login.submit"), type="primary")
        if submitted:
            try:
                # The service logs the attempt (a hash of the typed name, never the text).
                user = auth.authenticate(cur, username, password, client=ctx.client_address())
            except auth.AuthError as exc:
                ctx.show_error(exc)
            else:
                ctx.sign_in(user, "password")
                st.rerun()
        if is_demo(cur):
            st.info(ctx.tr("login.demo_hint", password=DEMO_PASSWORD))
        language_picker()
