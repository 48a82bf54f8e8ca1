"""Accounts page (admin): list accounts, add one; API tokens. Reads and writes go through services."""

import streamlit as st

from calibration.accounts import auth, directory
from ui import api_tokens, flash, notify_admin, tables
from ui import context as ctx
from ui.admin_sessions import sessions_section
from ui.sso import email_form
from ui.text import plain

SLOT = "admin"
user = ctx.require_user("admin")
ss = st.session_state


@ctx.guarded
def add_account() -> None:
    """Callback: add the typed account; runs before the page draws, so the list shows it."""
    regions = ss.get("admin_regions") or ""
    try:
        added = auth.add_user(
            ctx.cursor(),
            user,
            (ss.get("admin_username") or "").strip(),
            ss.get("admin_role"),
            ss.get("admin_password") or "",
            [r.strip() for r in regions.split(",") if r.strip()],
            (ss.get("admin_display") or "").strip() or None,
        )
    except (auth.AuthError, PermissionError) as exc:
        flash.error(SLOT, exc)
    else:
        flash.success(SLOT, ctx.tr("admin.added", username=plain(added.username)))


st.title(ctx.tr("admin.title"))
flash.show(SLOT)
# Names as typed sit in dataframe cells, which show text as text.
accounts = directory.list_accounts(ctx.cursor(), user, ctx.lang())
tables.show(accounts, "admin.col")

with st.form("add_user", clear_on_submit=True):
    st.subheader(ctx.tr("admin.add"))
    st.text_input(ctx.tr("login.username"), key="admin_username")
    st.text_input(ctx.tr("admin.display_name"), key="admin_display")
    st.selectbox(
        ctx.tr("admin.role"),
        auth.ROLES,
        format_func=lambda r: ctx.tr(f"role.{r}"),
        key="admin_role",
    )
    st.text_input(ctx.tr("admin.regions"), key="admin_regions")
    st.text_input(ctx.tr("login.password"), type="password", key="admin_password")
    st.form_submit_button(ctx.tr("admin.add"), type="primary", on_click=add_account)

email_form(user)  # the email a person is matched by at their first single sign-on
api_tokens.section(user)
st.divider()
notify_admin.section(ctx.cursor(), user)
sessions_section(user, SLOT, [str(u) for u in accounts["username"]])
