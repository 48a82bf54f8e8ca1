"""The executive's Respond tab on the live board: accept or counter a region, HR overrides,
and the lock with its confirmation."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from calibration.accounts import directory
from calibration.accounts.auth import User
from calibration.board import lock as board_lock
from calibration.board import respond
from calibration.board import view as bview
from calibration.board.view import fmt
from calibration.i18n import t
from calibration.negotiation import service as negotiation
from ui import context as ctx
from ui import drafts, flash, slots
from ui.text import plain

SLOT = "board_respond"
_ERRORS = "board_respond_errors"
_FIELDS = ("board_respond_value", "board_respond_reason", "board_respond_override")
# The form's fields by draft name -> widget key; the draft is bound to the chosen region.
DRAFT_FIELDS = {
    "region": "board_respond_region",
    "action": "board_respond_action",
    "value": "board_respond_value",
    "reason": "board_respond_reason",
    "override": "board_respond_override",
}


def draft_key(cycle_id: int) -> str:
    """The draft key of the executive's Respond form of a cycle."""
    return drafts.form_key("respond", cycle_id)


def seen(form: str, cycle_id: int, table: pd.DataFrame, tick: bool) -> dict:
    """What the form's regions looked like when the person drew the form: region → last event.

    Taken on every run the person started and kept through the live tick's reruns (never
    recomputed at submit: the callback reads it before the run draws), so a region that
    changed under a half-filled form is refused with what changed.
    """
    key = f"board_seen_{form}_{cycle_id}"
    if key not in st.session_state or not tick:
        st.session_state[key] = respond.seen_events(table)
    return st.session_state[key]


def forget_seen(form: str, cycle_id: int) -> None:
    """Drop what a form was drawn with: the next draw binds it to the regions as they are."""
    st.session_state.pop(f"board_seen_{form}_{cycle_id}", None)


def _send_response(user: User, cycle_id: int, table: pd.DataFrame) -> None:
    """Callback of the Respond form: the region and last event are those the form was drawn
    with; a refusal keeps what was typed."""
    ss = st.session_state
    region = ss.get("board_respond_region")
    action = ss.get("board_respond_action")
    drawn = ss.get(f"board_seen_respond_{cycle_id}") or respond.seen_events(table)
    names = bview.names(table)
    override = (ss.get("board_respond_override") or "").strip()
    try:
        if region not in names:
            raise negotiation.CycleStateError("nego.err_nothing_to_answer", region=str(region))
        negotiation.respond(
            ctx.cursor(),
            user,
            cycle_id,
            region,
            action,
            # A restored draft names the event its region had when the draft was typed.
            expected_last_event=drafts.seen_for(draft_key(cycle_id), drawn.get(region), region),
            counter_value=ss.get("board_respond_value") if action == "counter" else None,
            reason=ss.get("board_respond_reason") or "",
            hr_override_reason=override if action == "accept" and override else None,
        )
    except negotiation.ValidationError as exc:
        # One message per field, each in its own box.
        ss[_ERRORS] = [ctx.tr(k) for k in exc.errors.values()]
    except (negotiation.NegotiationError, PermissionError) as exc:
        flash.error(SLOT, exc, names)
        drafts.unpin(draft_key(cycle_id))  # the refusal named the change; bind to what is drawn
    else:
        flash.success(SLOT, ctx.tr("board.respond_done", region=plain(names[region])))
        for key in _FIELDS:
            ss.pop(key, None)
        drafts.clear(draft_key(cycle_id))
    # Either way the next draw shows (and binds the form to) the region as it is now.
    forget_seen("respond", cycle_id)


def _form(user: User, cycle_id: int, table: pd.DataFrame, tick: bool) -> None:
    """Accept or counter one region (every region in the table's fixed order)."""
    flash.show(SLOT)
    # Errors (shown once) and "nothing to answer" (which a live tick can change) come and go
    # in a place drawn on every run: the form below must not move (ui/slots.py).
    messages = slots.slot()
    for text in st.session_state.pop(_ERRORS, []):
        messages.error(text)
    # Every region in the table's fixed order, named only by its name: options that depended
    # on statuses (or labels carrying a status, which is the widget's value) let a change to
    # another region move the selection. Accept needs a proposal; a counter also goes to a
    # region that has none yet; the service refuses the rest.
    names = bview.names(table)
    seen("respond", cycle_id, table, tick)
    if respond.nothing_to_answer(table):
        messages.info(ctx.tr("board.respond_none"))
    lang = ctx.lang()
    # A half-typed response (before a reload, or in another tab) comes back; each change is
    # saved, so the fields are widgets outside a form.
    key = draft_key(cycle_id)
    drafts.restore(key, DRAFT_FIELDS, bind_field="region")
    if st.session_state.get("board_respond_region") not in names:
        st.session_state.pop("board_respond_region", None)  # a region no longer in the cycle
    save = drafts.saver(
        key,
        DRAFT_FIELDS,
        lambda: st.session_state.get(f"board_seen_respond_{cycle_id}", {}).get(
            st.session_state.get("board_respond_region")
        ),
        bind_field="region",
    )
    with st.container(border=True, key="board_respond_form"):
        # The first draw starts on a proposal that can be accepted; after that the key holds
        # the person's choice (or the draft's) whatever the statuses do.
        restored = "board_respond_region" in st.session_state
        st.selectbox(
            ctx.tr("board.respond_region"),
            list(names),
            index=0 if restored else respond.default_region(table),
            format_func=lambda r: names.get(r, str(r)),
            key="board_respond_region",
            on_change=save,
        )
        st.radio(
            ctx.tr("board.respond_action"),
            ["accept", "counter"],
            # Bound to this run's language (AppTest formats options outside it).
            format_func=lambda a: t(f"board.respond_{a}", lang),
            horizontal=True,
            key="board_respond_action",
            on_change=save,
        )
        # Empty by default: a counter of 0 by oversight must be refused, not sent.
        st.number_input(
            ctx.tr("board.respond_value"),
            min_value=0.0,
            step=1.0,
            value=None,
            format="%.0f",  # a count as people write it: "204", not "204.00"
            key="board_respond_value",
            on_change=save,
        )
        st.text_area(ctx.tr("board.respond_reason"), key="board_respond_reason", on_change=save)
        st.text_area(
            ctx.tr("board.respond_override"),
            key="board_respond_override",
            help=ctx.tr("board.respond_override_help"),
            on_change=save,
        )
        st.button(
            ctx.tr("board.respond_submit"),
            type="primary",
            on_click=_send_response,
            args=(user, cycle_id, table),
            key="board_respond_submit",
        )
        drafts.saved_note(key)


def _overrides(state: pd.DataFrame, names: dict[str, str]) -> None:
    """Accepted proposals whose HR review was overridden: who, and the reason as typed."""
    overrides = respond.hr_overrides(state)
    if overrides:
        people = directory.display_names(ctx.cursor(), ctx.current_user(), ctx.lang())
    for row in overrides:
        st.caption(
            ":material/gpp_maybe: "
            + ctx.tr(
                "board.hr_override_note",
                region=plain(names.get(row["region"], row["region"])),
                actor=plain(people.get(row["by"], row["by"])),
            )
        )
        # Shown as text: the reason is what the executive typed.
        st.text(row["reason"])


def _close_lock_dialog() -> None:
    st.session_state.pop("board_lock_open", None)
    st.session_state.pop("board_lock_seen", None)


def _open_lock(state: pd.DataFrame) -> None:
    # The lock is bound to the newest decision the executive saw when opening the dialog.
    st.session_state["board_lock_open"] = True
    st.session_state["board_lock_seen"] = respond.last_event(state)


def _lock(user: User, cycle: dict, table: pd.DataFrame, total: float) -> None:
    """The confirmation dialog of the lock (kept open by a flag through the live reruns)."""

    @st.dialog(":material/lock: " + t("board.lock", ctx.lang()), on_dismiss=_close_lock_dialog)
    def confirm() -> None:
        st.write(ctx.tr("board.lock_confirm", total=fmt(total), regions=len(table)))
        st.markdown("**" + respond.lock_summary(total, cycle["company_target"], ctx.lang()) + "**")
        yes, no = st.columns(2)
        if no.button(ctx.tr("board.lock_cancel"), key="board_lock_no"):
            _close_lock_dialog()
            st.rerun()
        if yes.button(ctx.tr("board.lock_yes"), type="primary", key="board_lock_yes"):
            drawn = st.session_state.get("board_lock_seen")
            _close_lock_dialog()
            try:
                agreed = board_lock.lock_cycle(
                    ctx.cursor(), user, cycle["id"], expected_last_event=drawn
                )
            except (negotiation.NegotiationError, PermissionError) as exc:
                st.error(flash.refusal(exc, bview.names(table)))
            else:
                st.session_state["board_locked_total"] = sum(agreed.values())
                st.rerun()

    confirm()


def tab(user: User, view: dict, is_exec: bool, tick: bool) -> None:
    """The Respond tab: the form and the lock for the executive of an open cycle."""
    cycle, state, table = view["cycle"], view["state"], view["table"]
    done_total = st.session_state.pop("board_locked_total", None)
    if done_total is not None:
        st.success(ctx.tr("board.locked", total=fmt(done_total)))
    if cycle["status"] in ("locked", "tracking"):
        # After the lock the next step is the letters.
        st.page_link(
            "pages/letters.py", label=ctx.tr("board.goto_letters"), icon=":material/contract:"
        )
    if not is_exec:
        st.info(ctx.tr("board.respond_only_exec"))
        return
    if cycle["status"] != "open":
        st.info(ctx.tr("board.respond_closed"))
        return
    _form(user, cycle["id"], table, tick)
    _overrides(state, bview.names(table))
    head = view["headline"]
    if not head["all_agreed"]:
        st.caption(ctx.tr("board.lock_help"))
        return
    st.button(
        ctx.tr("board.lock"),
        help=ctx.tr("board.lock_help"),
        type="primary",
        on_click=_open_lock,
        args=(state,),
        key="board_lock",
    )
    # Kept open by a flag: the confirmation must survive the live board's reruns.
    if st.session_state.get("board_lock_open"):
        _lock(user, cycle, table, head["agreed_sum"])
