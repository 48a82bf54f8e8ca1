"""The board's cached grid (ui/board_table.frozen) marshals exactly as the plain styled table."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.elements.lib.pandas_styler_utils import marshall_styler
from streamlit.proto.Dataframe_pb2 import Dataframe

from calibration.board import view as bview
from tests.test_board_view import snapshot
from ui import board_table


def _marshalled(styler) -> tuple[str, bytes]:
    proto = Dataframe().arrow_data
    marshall_styler(proto, styler, "board")
    return proto.styler.styles, proto.styler.display_values


@pytest.mark.parametrize("parents", [True, False])
def test_frozen_grid_equals_the_styled_grid(monkeypatch, parents):
    monkeypatch.setattr(board_table.ctx, "tr", lambda key, **v: bview.t(key, "en", **v))
    snap = snapshot(
        proposal_value=[120.0, np.nan, 300.0],
        status=["proposed", "none", "flagged"],
        flagged=[False, False, True],
        justification=["Pipeline **reviewed**", None, "<b>two</b> deals"],
    )
    if not parents:
        snap["regions"] = snap["regions"].assign(parent=None)
    table = bview.build(snap, "en")["table"]
    col = bview.column_labels("en")
    numbers = [col[k] for k in bview.NUMBER_COLUMNS]
    pct = [col[k] for k in bview.PCT_COLUMNS]

    def styled():
        shown = bview.shown_table(table, {"b"}, False, "en")
        return board_table.styled(shown, table, numbers, pct).set_uuid("board")

    plain, cached = _marshalled(styled()), board_table.frozen(styled())
    assert _marshalled(cached) == plain
    # Asked again (every screen that shows it), the same answer.
    assert _marshalled(cached) == plain
    assert "background-color:#fde0dc" in plain[0].replace(" ", "")
    # Every cell is text: the cells are their own display values (no per-cell matching).
    assert cached._translate()["body"] == []
