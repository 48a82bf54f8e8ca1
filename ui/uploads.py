"""A file field in the user's words: its own limit and types in the chosen language.

Streamlit 1.67 writes the drop zone's button ("Upload") and fine print ("50MB per file •
PDF, CSV") in English only, with no parameter to change them. This field hides both with
constant CSS, labels the button from the translation layer, and says the limit that really
applies (the widget's max_upload_size, the same number the service checks).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import streamlit as st

from calibration import numbers
from ui import context as ctx


def _style() -> None:
    """The drop zone's English text hidden; the button says the translated word."""
    # A CSS string literal of our own text (CSS reads no JSON escapes: the characters as they are).
    button = json.dumps(ctx.tr("upload.button"), ensure_ascii=False)
    st.html(
        "<style>"
        "[data-testid='stFileUploaderDropzoneInstructions'] {display:none}"
        "[data-testid='stFileUploaderDropzone'] button > * {display:none !important}"
        f"[data-testid='stFileUploaderDropzone'] button::after {{content:{button}}}"
        "</style>"
    )


def file_field(label: str, types: Sequence[str], max_mb: int, key: str, **kwargs: Any) -> Any:
    """st.file_uploader limited to max_mb, with the limit and types said in the user's words."""
    _style()
    upload = st.file_uploader(label, type=list(types), key=key, max_upload_size=max_mb, **kwargs)
    kinds = sorted({t.upper() for t in types if t.lower() != "jpg"})
    sep = "、" if ctx.lang() == "zh" else ", "
    st.caption(ctx.tr("upload.limit", mb=numbers.number(max_mb), types=sep.join(kinds)))
    return upload
