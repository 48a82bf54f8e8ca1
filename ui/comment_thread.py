"""The comment thread of one region in a cycle (the opinion layer), drawn the same way for the
lead (My region) and the HR partner (Review): entries, downloads, and a box to post."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd
import streamlit as st

from calibration.accounts.auth import User
from calibration.negotiation import forms
from calibration.negotiation import service as neg
from ui import context as ctx
from ui import drafts, flash, uploads
from ui.text import plain

ATTACH_TYPES = ["pdf", "png", "jpg", "jpeg", "xlsx", "csv"]


@dataclass(frozen=True)
class ThreadKeys:
    """The widget keys of one thread box (kept stable: tests and sessions use them)."""

    comment: str
    post: str
    file: str | None = None  # None: comments only, no attachments


def entries(cur: duckdb.DuckDBPyConnection, user: User, cycle_id: int, region: str) -> None:
    """The thread's entries, oldest first; typed text shown as text, never as Markdown."""
    for item in neg.thread(cur, user, cycle_id, region, ctx.lang()).to_dict("records"):
        with st.container(border=True):
            st.caption(
                f"{plain(item['actor_name'])} · {ctx.tr('role.' + item['role'])} · "
                f"{pd.Timestamp(item['at']):%Y-%m-%d %H:%M}"
            )
            if item["text"]:
                st.text(item["text"])
            if item["kind"] == "attachment":
                aid = int(item["attachment_id"])
                # Deferred: the bytes are read (and the permission checked again) on click only.
                st.download_button(
                    ctx.tr("nego.download", name=plain(item["file_name"])),
                    lambda aid=aid: neg.get_attachment(ctx.cursor(), user, aid)["data"],
                    file_name=item["file_name"],
                    mime=item["mime"],
                    key=f"nego_dl_{aid}",
                )


@ctx.guarded
def _post(
    user: User, cycle_id: int, region: str, keys: ThreadKeys, slot: str, names: dict[str, str]
) -> None:
    """Callback: post a comment and/or an attachment to the thread the box was drawn for."""
    ss = st.session_state
    text = ss.get(keys.comment) or ""
    upload = ss.get(keys.file) if keys.file else None
    if keys.file and not text.strip() and upload is None:
        # With attachments a post needs one or the other; a bare comment is checked by neg.
        flash.error(slot, neg.NegotiationError("nego.comment_or_file"))
        return
    try:
        if upload is not None:
            neg.add_attachment(
                ctx.cursor(), user, cycle_id, region, upload.name, upload.getvalue(), note=text
            )
        else:
            neg.add_comment(ctx.cursor(), user, cycle_id, region, text)
    except (neg.NegotiationError, PermissionError) as exc:
        flash.error(slot, forms.as_refusal(exc), names)
    else:
        flash.success(slot, ctx.tr("nego.posted"))
        ss.pop(keys.comment, None)
        drafts.clear(drafts.form_key("comment", cycle_id, region))


def comment_thread(
    cur: duckdb.DuckDBPyConnection,
    user: User,
    cycle_id: int,
    region: str,
    keys: ThreadKeys,
    slot: str,
    names: dict[str, str],
) -> None:
    """The thread with its post box; a refusal or confirmation is kept in flash slot `slot`."""
    entries(cur, user, cycle_id, region)
    # The half-typed comment is kept as a draft on every change (so the box is not a form);
    # the post sends text and file together. A comment binds to no event: it answers the
    # thread, not a number.
    draft = drafts.form_key("comment", cycle_id, region)
    drafts.restore(draft, {"text": keys.comment})
    with st.container(border=True, key=f"nego_thread_{keys.comment}"):
        st.text_area(
            ctx.tr("nego.comment"),
            key=keys.comment,
            max_chars=neg.MAX_TEXT,
            on_change=drafts.saver(draft, {"text": keys.comment}, lambda: None),
        )
        if keys.file:
            uploads.file_field(
                ctx.tr("nego.attach"), ATTACH_TYPES, neg.MAX_ATTACHMENT_BYTES // 2**20, keys.file
            )
        st.button(
            ctx.tr("nego.post"),
            key=keys.post,
            on_click=_post,
            args=(user, cycle_id, region, keys, slot, names),
        )
        drafts.saved_note(draft)
