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


def upload_css(button: str) -> str:
    """Constant CSS hiding the drop zone's English text; the button says `button`.

    `button` is server-made (the translation layer); it becomes a CSS string whose `<`,
    quotes and backslashes are escaped, so it cannot end the style element.
    """
    text = json.dumps(button, ensure_ascii=False).replace("<", "\\3C ").replace(">", "\\3E ")
    return (
        "<style>"
        "[data-testid='stFileUploaderDropzoneInstructions'] {display:none}"
        "[data-testid='stFileUploaderDropzone'] button > * {display:none !important}"
        f"[data-testid='stFileUploaderDropzone'] button::after {{content:{text}}}"
        "</style>"
    )


def file_field(label: str, types: Sequence[str], max_mb: int, key: str, **kwargs: Any) -> Any:
    """st.file_uploader limited to max_mb, with the limit and types said in the user's words."""
    st.html(upload_css(ctx.tr("upload.button")))
    upload = st.file_uploader(label, type=list(types), key=key, max_upload_size=max_mb, **kwargs)
    kinds = sorted({t.upper() for t in types if t.lower() != "jpg"})
    sep = "、" if ctx.lang() == "zh" else ", "
    st.caption(ctx.tr("upload.limit", mb=numbers.number(max_mb), types=sep.join(kinds)))
    return upload
