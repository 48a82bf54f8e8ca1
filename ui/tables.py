"""Tables in the user's words: translated headers, numbers as people write them, "–" for gaps.

Every data frame a page shows goes through show(): the frame keeps its column keys, the
headers come from the translation layer (column_config labels), numbers are formatted by
calibration/numbers.py as right-aligned text, and None/nan/NaT cells read "–".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from calibration import numbers
from ui import context as ctx

MISSING = "–"


def _cell(value: Any) -> Any:
    """A non-numeric cell as shown: a gap as "–", a timestamp to the minute."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return MISSING
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    return value


def as_text(
    frame: pd.DataFrame,
    units: Mapping[str, str | None] | None = None,
    percent: Iterable[str] = (),
    delta: Iterable[str] = (),
) -> pd.DataFrame:
    """frame with its numbers as text (units: column → metric unit; percent: fractions;
    delta: signed changes in the column's unit) and every gap as "–"."""
    units = dict(units or {})
    percent, delta = set(percent), set(delta)
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if col in percent:
            out[col] = [numbers.percent(v) for v in series]
        elif col in delta:
            out[col] = [numbers.delta(v, units.get(col)) for v in series]
        elif col in units or (
            pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        ):
            out[col] = [numbers.number(v, units.get(col)) for v in series]
        else:
            out[col] = [_cell(v) for v in series.astype(object)]
    return out


def headers(
    columns: Iterable[str], prefix: str | None, numeric: Iterable[str] = ()
) -> dict[str, Any]:
    """column_config giving each column its translated header (`<prefix>.<column>`; with no
    prefix the column names are already the user's words); numbers align right."""
    numeric = set(numeric)
    return {
        col: st.column_config.TextColumn(
            ctx.tr(f"{prefix}.{col}") if prefix else str(col),
            alignment="right" if col in numeric else None,
        )
        for col in columns
    }


def show(
    frame: pd.DataFrame,
    prefix: str | None,
    units: Mapping[str, str | None] | None = None,
    percent: Iterable[str] = (),
    delta: Iterable[str] = (),
    config: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """st.dataframe of frame in the user's words (headers from `<prefix>.<column>`, or the
    column names themselves when prefix is None)."""
    shown = as_text(frame, units, percent, delta)
    numeric = [
        c
        for c in frame.columns
        if c in set(percent) | set(delta) | set(units or {})
        or (pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]))
    ]
    column_config = headers(frame.columns, prefix, numeric)
    column_config.update(config or {})
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    return st.dataframe(shown, column_config=column_config, **kwargs)
