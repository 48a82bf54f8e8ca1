"""Accounts page (admin): list accounts, add one. Reads and writes go through accounts."""

import streamlit as st

from calibration.accounts import auth, directory
from ui import context as ctx
from ui import flash, tables
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
tables.show(directory.list_accounts(ctx.cursor(), user, ctx.lang()), "admin.col")

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
