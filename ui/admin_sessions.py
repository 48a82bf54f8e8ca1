"""The Admin page's sessions: who is signed in (name, method, client, last seen, created),
revoke one or all of a person's, and set a new password (which ends all of theirs)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from calibration.accounts import auth, sessions
from ui import context as ctx
from ui import flash
from ui.text import plain

CLIENT_CHARS = 60


def _client(row: dict) -> str:
    """Address and browser in a few words (the stored values are already truncated)."""
    where = row["client_address"] or ctx.tr("session.client_unknown")
    text = " · ".join(x for x in (where, sessions.browser_label(row["user_agent"])) if x)
    return text[:CLIENT_CHARS]


def _table(live: list[dict]) -> pd.DataFrame:
    """The sessions as cells (typed names stay text in a data frame)."""
    return pd.DataFrame(
        {
            ctx.tr("session.col_name"): [r["display_name"] for r in live],
            ctx.tr("session.col_username"): [r["username"] for r in live],
            ctx.tr("session.col_method"): [ctx.tr(f"session.method.{r['method']}") for r in live],
            ctx.tr("session.col_client"): [_client(r) for r in live],
            ctx.tr("session.col_last_seen"): [r["last_seen_at"] for r in live],
            ctx.tr("session.col_created"): [r["created_at"] for r in live],
        }
    )


@ctx.guarded
def _revoke(user: auth.User, slot: str, live: list[dict], everyone: bool) -> None:
    """Callback: revoke the chosen session, or every session of its person."""
    chosen = st.session_state.get("admin_session_pick")
    row = next((r for r in live if r["session_id"] == chosen), None)
    if row is None:
        return
    cur = ctx.cursor()
    try:
        if everyone:
            n = sessions.revoke_person(cur, user, row["username"])
        else:
            n = int(sessions.revoke(cur, user, row["session_id"]))
    except PermissionError as exc:
        flash.error(slot, exc)
    else:
        flash.success(slot, ctx.tr("session.admin_revoked", n=n))


@ctx.guarded
def _change_password(user: auth.User, slot: str) -> None:
    """Callback: set the typed password; every session of that person ends."""
    ss = st.session_state
    username = ss.get("admin_pw_user") or ""
    try:
        n = auth.change_password(ctx.cursor(), user, username, ss.get("admin_pw_new") or "")
    except (auth.AuthError, PermissionError) as exc:
        flash.error(slot, exc)
    else:
        flash.success(slot, ctx.tr("session.admin_password_done", username=plain(username), n=n))


def sessions_section(user: auth.User, slot: str, usernames: list[str]) -> None:
    """Live sessions with their revoke buttons, and the new-password form."""
    st.subheader(ctx.tr("session.admin_heading"))
    live = sessions.active(ctx.cursor(), user)
    if not live:
        st.caption(ctx.tr("session.admin_none"))
    else:
        st.dataframe(_table(live), hide_index=True, width="stretch")
        labels = {
            r["session_id"]: f"{r['display_name']} ({r['username']}) · {_client(r)}" for r in live
        }
        with st.form("admin_sessions"):
            st.selectbox(
                ctx.tr("session.admin_pick"),
                list(labels),
                format_func=labels.get,
                key="admin_session_pick",
            )
            one, every = st.columns(2)
            one.form_submit_button(
                ctx.tr("session.admin_revoke"), on_click=_revoke, args=(user, slot, live, False)
            )
            every.form_submit_button(
                ctx.tr("session.admin_revoke_person"),
                on_click=_revoke,
                args=(user, slot, live, True),
            )
    with st.form("admin_password", clear_on_submit=True):
        st.subheader(ctx.tr("session.admin_password"))
        st.selectbox(ctx.tr("session.admin_password_user"), usernames, key="admin_pw_user")
        st.text_input(ctx.tr("session.admin_password_new"), type="password", key="admin_pw_new")
        st.form_submit_button(
            ctx.tr("session.admin_password"), on_click=_change_password, args=(user, slot)
        )
