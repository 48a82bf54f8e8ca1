"""The live board's What-if tab: an allocation of the company target, sendable as counters."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from calibration.accounts.auth import User
from calibration.board import respond
from calibration.board import table as board
from calibration.board import view as bview
from calibration.negotiation import service as negotiation
from ui import cache, drafts, flash
from ui import context as ctx
from ui.text import plain


def _send_allocation(
    user: User, cycle_id: int, table: pd.DataFrame, alloc: pd.DataFrame, method: str
) -> None:
    """Form: send the allocation's numbers as counter-offers (one reason, editable per region).

    The rows, their numbers and each region's last event are frozen when the form is drawn
    (per cycle and method) and kept through the live board's reruns: the editor's edits are
    by row, so rows that moved when another region was agreed would shift them.
    """
    key = f"board_send_rows_{cycle_id}_{method}"
    if key not in st.session_state:
        st.session_state[key] = respond.send_rows(alloc, table)
    open_rows = st.session_state[key]
    if open_rows.empty:
        return
    st.subheader(ctx.tr("board.send_title"))
    c_send, c_region, c_value, c_reason = (
        ctx.tr("board.send_col_send"),
        ctx.tr("board.col_region"),
        ctx.tr("board.respond_value"),
        ctx.tr("board.send_col_reason"),
    )
    # The common reason is kept as a draft (the editor's per-row edits cannot be put back
    # into the editor, and its rows are bound to the allocation as drawn).
    draft = drafts.form_key("whatif", cycle_id, method)
    widgets = {"reason": "board_send_reason"}
    drafts.restore(draft, widgets)
    with st.container(border=True, key="board_send_form"):
        common = st.text_area(
            ctx.tr("board.send_reason"),
            key="board_send_reason",
            on_change=drafts.saver(draft, widgets, lambda: None),
        )
        edited = st.data_editor(
            pd.DataFrame(
                {
                    # Nothing chosen for the executive: a counter-offer is a decision per region.
                    c_send: False,
                    c_region: open_rows["name"].to_numpy(),
                    c_value: open_rows["implied"].to_numpy(),
                    c_reason: "",
                }
            ),
            hide_index=True,
            width="stretch",
            disabled=[c_region],
            column_config={
                c_value: st.column_config.NumberColumn(min_value=0, format="localized"),
                c_reason: st.column_config.TextColumn(help=ctx.tr("board.send_reason_help")),
            },
            key=f"board_send_editor_{method}",
        )
        sent = st.button(ctx.tr("board.send_submit"), type="primary", key="board_send_submit")
        drafts.saved_note(draft)
    if not sent:
        return
    offers = respond.counter_offers(
        open_rows, edited.to_dict("records"), common, c_send, c_value, c_reason
    )
    names = bview.names(open_rows)
    try:
        ids = negotiation.send_counters(ctx.cursor(), user, cycle_id, offers, method=method)
    except negotiation.ValidationError as exc:
        shown = {r: plain(n) for r, n in names.items()}
        for message in respond.send_errors(exc.errors, shown, ctx.lang()):
            st.error(message)
    except (negotiation.NegotiationError, PermissionError) as exc:
        st.error(flash.refusal(exc, names))
        # The next draw shows the regions as they are now (what was typed is lost: the rows
        # themselves may have changed).
        st.session_state.pop(key, None)
    else:
        st.session_state.pop(key, None)
        drafts.clear(draft)
        st.success(ctx.tr("board.send_done", n=len(ids)))


def tab(user: User, view: dict, version: tuple, big: bool, can_send: bool) -> None:
    """Method, the allocation's chart and table, and (for the executive) the send form."""
    lang, cycle_id = ctx.lang(), view["cycle"]["id"]
    method = st.selectbox(
        ctx.tr("board.method"),
        board.METHODS,
        format_func=lambda m: board.method_label(m, lang),
        key="board_method",
        # Nothing computed until a method is chosen: the tab is open by default, and a change
        # on the board must not pay for an allocation nobody looks at.
        index=None,
        placeholder=ctx.tr("board.method_placeholder"),
    )
    st.caption(ctx.tr("board.whatif_note"))
    if method is None:
        return
    try:
        alloc, spec = cache.board_allocation(
            cache.board_db(), cycle_id, version, method, lang, big, user
        )
    except board.AllocationError as exc:
        ctx.show_error(exc)
        return
    beyond = int((alloc["position"] == "above").sum())
    if beyond:
        st.warning(ctx.tr("board.beyond_count", n=beyond, total=len(alloc)))
    st.vega_lite_chart(spec, width="stretch")
    frame = bview.allocation_table(alloc, lang)
    right = st.column_config.TextColumn(alignment="right")
    numbers = [
        ctx.tr(f"board.col_{k}") for k in ("implied", "suggestion", "delta_pct", "vs_last_year_pct")
    ]
    st.dataframe(
        frame, hide_index=True, width="stretch", column_config=dict.fromkeys(numbers, right)
    )
    if can_send:
        _send_allocation(user, cycle_id, view["table"], alloc, method)
