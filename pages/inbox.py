"""Inbox page: the signed-in user's notifications (alerts, escalations, root-cause requests)."""

import streamlit as st

from calibration.tracking import service as tracking_service
from ui import context as ctx
from ui.notify_settings import own_settings
from ui.text import plain

user = ctx.require_user("inbox")
cur = ctx.cursor()
lang = ctx.lang()

st.title(ctx.tr("inbox.title"))
notes = tracking_service.inbox(cur, user, lang, escape=plain)  # names and answers as text
unread = notes[~notes["read"]]
st.caption(ctx.tr("inbox.unread", count=len(unread)))
own_settings(cur, user)  # where copies by e-mail and group robots go

if notes.empty:
    st.info(ctx.tr("inbox.empty"))
    st.stop()

if not unread.empty and st.button(ctx.tr("inbox.mark_all"), key="inbox_all"):
    count = tracking_service.mark_read(cur, user, unread["notification_id"].tolist())
    st.toast(ctx.tr("inbox.marked", count=count))
    st.rerun()

show_read = st.toggle(ctx.tr("inbox.show_read"), key="inbox_show_read")
shown = notes if show_read else unread
if shown.empty:
    st.caption(ctx.tr("inbox.empty"))
# The newest 200 are plenty for a workshop; older ones stay in the database.
for row in shown.head(200).itertuples():
    with st.container(border=True):
        text_col, button_col = st.columns([6, 1])
        when = f"{row.created_at:%Y-%m-%d %H:%M}"
        text_col.markdown(f"{'' if row.read else '**●** '}{row.text}")
        text_col.caption(when)
        if not row.read and button_col.button(
            ctx.tr("inbox.mark_read"), key=f"inbox_read_{row.notification_id}"
        ):
            tracking_service.mark_read(cur, user, [row.notification_id])
            st.rerun()
