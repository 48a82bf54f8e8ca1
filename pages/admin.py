"""Accounts page (admin): list accounts, add one."""

import pandas as pd
import streamlit as st

from calibration.accounts import auth
from calibration.store import users as uq
from ui import context as ctx
from ui.text import plain

user = ctx.require_user("admin")
cur = ctx.cursor()

st.title(ctx.tr("admin.title"))
st.dataframe(pd.DataFrame(uq.list_users(cur)), hide_index=True, width="stretch")

with st.form("add_user", clear_on_submit=True):
    st.subheader(ctx.tr("admin.add"))
    name = st.text_input(ctx.tr("login.username"))
    display = st.text_input(ctx.tr("admin.display_name"))
    role = st.selectbox(ctx.tr("admin.role"), auth.ROLES, format_func=lambda r: ctx.tr(f"role.{r}"))
    regions = st.text_input(ctx.tr("admin.regions"))
    password = st.text_input(ctx.tr("login.password"), type="password")
    if st.form_submit_button(ctx.tr("admin.add"), type="primary"):
        try:
            added = auth.add_user(
                cur,
                user,
                name.strip(),
                role,
                password,
                [r.strip() for r in regions.split(",") if r.strip()],
                display.strip() or None,
            )
        except (auth.AuthError, PermissionError) as exc:
            ctx.show_error(exc)
        else:
            st.success(ctx.tr("admin.added", username=plain(added.username)))
