"""Sign-in from a session join link (?join=TOKEN); app.py calls accept_join_link first."""

from __future__ import annotations

import logging

import duckdb
import streamlit as st

from calibration.accounts import auth, join
from ui import context as ctx

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
    st.session_state["user"] = user
    st.session_state["cycle_id"] = cycle_id
    ctx.touch()
    log.info("%s joined cycle %s by link", username, cycle_id)
    return True
