"""Admin page section: API tokens (list, add showing the new token once, revoke)."""

from __future__ import annotations

import streamlit as st

from calibration import access
from calibration.accounts.auth import User
from calibration.api import tokens
from ui import context as ctx
from ui import flash, tables
from ui.text import plain

SLOT = "api_tokens"
_NEW = "api_token_new"  # (name, token) of a token just added: shown on the next render only
ss = st.session_state


def _add(user: User) -> None:
    try:
        token = tokens.add_token(
            ctx.cursor(), user, ss.get("api_token_name") or "", ss.get("api_token_scopes") or []
        )
    except (tokens.TokenError, PermissionError) as exc:
        flash.error(SLOT, exc)
    else:
        ss[_NEW] = ((ss.get("api_token_name") or "").strip(), token)


def _revoke(user: User) -> None:
    name = ss.get("api_token_revoke")
    try:
        tokens.revoke_token(ctx.cursor(), user, name or "")
    except (tokens.TokenError, PermissionError) as exc:
        flash.error(SLOT, exc)
    else:
        flash.success(SLOT, ctx.tr("api.revoked", name=plain(name)))


def section(user: User) -> None:
    """The token list and its add and revoke forms."""
    st.subheader(ctx.tr("api.tokens"))
    flash.show(SLOT)
    new = ss.pop(_NEW, None)
    if new:
        st.success(ctx.tr("api.token_added", name=plain(new[0])))
        st.code(new[1], language=None)  # the only time it is shown; only its hash is kept
    listed = tokens.list_tokens(ctx.cursor(), user)
    if listed.empty:
        st.info(ctx.tr("api.no_tokens"))
    else:
        # Names as typed sit in dataframe cells, which show text as text.
        scopes = [
            ", ".join(ctx.tr(f"api.scope.{s}") for s in str(v).split(",") if s)
            for v in listed["scopes"]
        ]
        shown = listed.assign(scopes=scopes)
        tables.show(shown.rename(columns={c: ctx.tr(f"api.col_{c}") for c in shown.columns}), None)
    with st.form("api_token_add", clear_on_submit=True):
        st.text_input(ctx.tr("api.token_name"), key="api_token_name")
        st.multiselect(
            ctx.tr("api.token_scopes"),
            access.TOKEN_SCOPES,
            format_func=lambda s: ctx.tr(f"api.scope.{s}"),
            key="api_token_scopes",
            placeholder=ctx.tr("app.choose_options"),
        )
        st.form_submit_button(
            ctx.tr("api.add_token"), on_click=ctx.guarded(_add), args=(user,), type="primary"
        )
    active = list(listed.loc[listed["revoked_at"].isna(), "name"]) if not listed.empty else []
    if active:
        with st.form("api_token_revoke_form"):
            st.selectbox(ctx.tr("api.revoke_which"), active, key="api_token_revoke")
            st.form_submit_button(ctx.tr("api.revoke"), on_click=ctx.guarded(_revoke), args=(user,))
