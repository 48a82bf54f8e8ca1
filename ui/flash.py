"""Messages kept for the next render: callbacks run before the page draws, so a callback
keeps its message in the session and the page shows it once."""

from __future__ import annotations

import streamlit as st

from ui import context as ctx
from ui import slots

_PREFIX = "flash_"


def success(slot: str, text: str) -> None:
    """Keep a success message (already translated, our own text) for the next render."""
    st.session_state[_PREFIX + slot] = ("success", text)


def error(slot: str, exc: Exception, names: dict[str, str] | None = None) -> None:
    """Keep a refusal for the next render, translated and with typed values escaped."""
    st.session_state[_PREFIX + slot] = ("error", refusal(exc, names))


def refusal(exc: Exception, names: dict[str, str] | None = None) -> str:
    """A refused write as text for the person (region ids shown by escaped name)."""
    return ctx.refusal_text(exc, names)


def show(slot: str) -> None:
    """Show the message kept in slot, once, in a place drawn on every run (ui/slots.py)."""
    place = slots.slot()
    kept = st.session_state.pop(_PREFIX + slot, None)
    if kept:
        kind, text = kept
        (place.success if kind == "success" else place.error)(text)
