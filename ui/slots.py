"""Places on a page that are drawn on every run, whether or not they show anything.

Streamlit's browser side finds a block (a container, columns, tabs) by its index among its
parent's children. A message that comes and goes above a block moves that block, and the
browser then builds the moved block again from empty: its widgets are mounted anew from the
last value sent to the server, so what a person is typing in them (and the focus) is lost
(tests/browser/test_typing_race.py). A message drawn into a slot moves nothing below it.
"""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator


def slot() -> DeltaGenerator:
    """A container that is always drawn (empty it takes no room) for what may not show."""
    return st.container()
