"""Drafts in the widgets: restore a person's half-typed form after a reload, save it on
every change (widget on_change callbacks), clear it on submit.

A form names its widgets as {field: widget key}. The event the form was drawn with when
typing began is pinned with the draft (and restored with it), so the stale-write check of
the submit compares against what the person saw when they typed, not after the reload.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import duckdb
import streamlit as st

from calibration import settings
from calibration.accounts import drafts
from ui import context as ctx

_RESTORED = "_drafts_restored"  # form keys restored in this Streamlit session
_PINS = "_drafts_pins"  # form key -> {"seen": last event when typing began, "bound": field}
_SAVED = "_drafts_saved"  # form key -> (when the draft was last kept, "saved" | "restored")
log = logging.getLogger("calibrate")

form_key = drafts.form_key


def _pins() -> dict[str, dict]:
    return st.session_state.setdefault(_PINS, {})


def restore(key: str, widgets: dict[str, str], bind_field: str | None = None) -> None:
    """Before the widgets are drawn: put the stored draft into them, once per session and
    again whenever Streamlit has dropped all of them (it does on a page without them: a
    visit to the Inbox would lose the typing, and the next save would keep the loss)."""
    done = st.session_state.setdefault(_RESTORED, set())
    user = ctx.current_user()
    if user is None:
        return
    if key in done and any(widget in st.session_state for widget in widgets.values()):
        return
    try:
        draft = drafts.load(ctx.cursor(), user, key)
    except duckdb.Error:
        log.exception("draft %s could not be read", key)
        return  # tried again on the next run: a passing lock must not lose the draft
    done.add(key)
    if draft is None:
        return
    st.session_state.setdefault(_SAVED, {})[key] = (draft.updated_at, "restored")
    for name, widget in widgets.items():
        if name in draft.fields:
            st.session_state[widget] = draft.fields[name]
    bound = draft.fields.get(bind_field) if bind_field else None
    _pins()[key] = {"seen": draft.seen_event, "bound": bound}


def saver(
    key: str,
    widgets: dict[str, str],
    seen: Callable[[], int | None],
    bind_field: str | None = None,
) -> Callable[[], None]:
    """An on_change callback that keeps the form's current values as the person's draft.

    seen() gives the event the form was drawn with; it is pinned at the first change
    (and again when bind_field, e.g. the chosen region, changes).
    """

    @ctx.guarded
    def save() -> None:
        user = ctx.current_user()
        if user is None or settings.read_only():
            return
        fields = {name: st.session_state.get(widget) for name, widget in widgets.items()}
        bound = fields.get(bind_field) if bind_field else None
        pin = _pins().get(key)
        if pin is None or pin["bound"] != bound:
            pin = _pins()[key] = {"seen": seen(), "bound": bound}
        drafts.save(ctx.cursor(), user, key, fields, pin["seen"])
        st.session_state.setdefault(_SAVED, {})[key] = (datetime.now(UTC), "saved")

    return save


def seen_for(key: str, current: int | None, bound: object = None) -> int | None:
    """The event a submit names: the draft's pinned one while it lasts, else current."""
    pin = _pins().get(key)
    if pin is not None and pin["bound"] == bound and pin["seen"] is not None:
        return pin["seen"]
    return current


def saved_note(key: str) -> None:
    """Under a form: when its draft was last kept, so the person knows a reload is safe."""
    saved = st.session_state.get(_SAVED, {}).get(key)
    if saved is None:
        return
    when, how = saved
    if when.tzinfo is None:  # the store keeps UTC without a zone
        when = when.replace(tzinfo=UTC)
    clock = when.astimezone(settings.company_tz()).strftime("%H:%M")
    st.caption(ctx.tr(f"draft.{how}", time=clock), help=ctx.tr("draft.help"))


def unpin(key: str) -> None:
    """After a stale refusal: the person has now seen the change; bind to what is drawn next."""
    _pins().pop(key, None)


def clear(key: str) -> None:
    """Forget the draft after a successful submit."""
    _pins().pop(key, None)
    st.session_state.get(_SAVED, {}).pop(key, None)
    user = ctx.current_user()
    if user is not None and not settings.read_only():
        drafts.clear(ctx.cursor(), user, key)
