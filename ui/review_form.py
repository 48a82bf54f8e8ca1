"""The HR partner's resolve box of one flagged region (outcome and note), with its draft."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from calibration.negotiation import forms
from calibration.negotiation import service as neg
from ui import context as ctx
from ui import drafts


def draft_key(cycle_id: int, region: str) -> str:
    """The draft key of a region's resolve box."""
    return drafts.form_key("review", cycle_id, region)


def resolve_form(
    cycle_id: int,
    region: str,
    outcome_labels: dict[str, str],
    errors: dict[str, str],
    on_resolve: Callable[..., None],
    args: tuple,
) -> None:
    """Outcome and note, kept as a draft on every change (widgets outside a form for that)."""
    ss = st.session_state
    draft = draft_key(cycle_id, region)
    widgets = {"outcome": f"nego_outcome_{region}", "note": f"nego_note_{region}"}
    drafts.restore(draft, widgets)
    seen_key = forms.review_seen_key(cycle_id, region)
    save = drafts.saver(draft, widgets, lambda: ss.get(seen_key))
    with st.container(border=True, key=f"nego_resolve_{region}"):
        # Translated labels as options (not format_func), mapped back in the page's resolve().
        st.radio(
            ctx.tr("nego.outcome"),
            list(outcome_labels),
            horizontal=True,
            key=f"nego_outcome_{region}",
            on_change=save,
        )
        if errors.get("outcome"):
            st.error(ctx.tr(errors["outcome"]))
        st.text_area(
            ctx.tr("nego.note"), key=f"nego_note_{region}", max_chars=neg.MAX_TEXT, on_change=save
        )
        if errors.get("note"):
            st.error(ctx.tr(errors["note"]))
        st.button(
            ctx.tr("nego.resolve"),
            type="primary",
            on_click=on_resolve,
            args=args,
            key=f"nego_resolve_btn_{region}",
        )
        drafts.saved_note(draft)


def remember_seen(cycle_id: int, region: str, last_event_id: int | None) -> None:
    """What the box showed (or what its restored draft was typed against)."""
    st.session_state[forms.review_seen_key(cycle_id, region)] = drafts.seen_for(
        draft_key(cycle_id, region), last_event_id
    )
