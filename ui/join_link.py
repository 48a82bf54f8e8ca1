"""Session join links: sign-in from ?join=TOKEN (app.py calls accept_join_link first), and the
board's tab where the executive makes them."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

import duckdb
import streamlit as st

from calibration.accounts import auth, directory, join
from ui import context as ctx
from ui import tables
from ui.text import plain

log = logging.getLogger("calibrate")


def accept_join_link(cur: duckdb.DuckDBPyConnection) -> bool:
    """Redeem ?join=TOKEN if present: sign the lead in on the link's cycle; True on success.

    A refused link (used, expired, unknown) shows its message and leaves the visitor on
    the sign-in form.
    """
    token = st.query_params.get(join.PARAM)
    if not token:
        return False
    # Out of the address bar at once: a token left there would sit in the history and be
    # sent again on reload (it is single-use anyway, but should not linger).
    del st.query_params[join.PARAM]
    try:
        username, cycle_id = join.redeem(cur, token)
    except join.JoinError as exc:
        log.warning("join link refused: %s", exc.key)
        ctx.show_error(exc)
        return False
    user = auth.load_user(cur, username)
    if user is None:  # removed between redeem and now: redeem checks, so only a race
        ctx.show_error(join.JoinError("join.err_invalid"))
        return False
    # The cycle first: the new session remembers it for the reload that sets the cookie.
    st.session_state["cycle_id"] = cycle_id
    ctx.sign_in(user, "join")
    log.info("%s joined cycle %s by link", username, cycle_id)
    return True


def links_tab(user: auth.User, cycle_id: int) -> None:
    """Make join links (with QR codes) for chosen leads, and show which links were used."""
    st.caption(ctx.tr("join.intro", hours=int(join.DEFAULT_TTL.total_seconds() // 3600)))
    cur = ctx.cursor()
    leads = join.lead_accounts(cur, user)
    names = {x["username"]: x["display_name"] for x in leads}
    here = urlsplit(st.context.url or "http://localhost:8501/")
    default_base = urlunsplit((here.scheme, here.netloc, "/", "", ""))
    with st.form("board_join"):
        chosen = st.multiselect(
            ctx.tr("board.join_leads"),
            list(names),
            format_func=names.get,
            placeholder=ctx.tr("app.choose_options"),
        )
        base = st.text_input(ctx.tr("board.join_base_url"), value=default_base)
        make = st.form_submit_button(ctx.tr("join.create"), type="primary")
    if make and chosen:
        try:
            made = join.create_join_links(cur, user, cycle_id, base, chosen)
        except join.JoinError as exc:
            ctx.show_error(exc)
        else:
            # Raw links exist only here (the database keeps hashes), so keep them for this
            # session's reruns.
            st.session_state["board_links"] = made
    made = st.session_state.get("board_links", [])
    if made:
        st.caption(ctx.tr("board.join_made"))
        cols = st.columns(3)
        for i, (lead, url) in enumerate(made):
            with cols[i % 3]:
                st.image(
                    join.qr_png(url),
                    caption=ctx.tr("join.for_lead", name=plain(names.get(lead, lead))),
                    width=240,
                )
                st.code(url, language=None)
    status = join.link_status(cur, cycle_id)
    if not status.empty:
        st.subheader(ctx.tr("board.join_status"))
        people = directory.display_names(cur, user, ctx.lang())
        status = status.assign(
            username=[people.get(u, u) for u in status["username"]],
            created_by=[people.get(u, u) for u in status["created_by"]],
        )
        tables.show(status, "join.col")
