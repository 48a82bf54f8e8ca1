"""User text inside our own Markdown: escaped so it shows as typed and never renders.

Streamlit renders st.markdown, st.caption, st.title/subheader, alerts, toasts, metric,
tab, expander and widget labels, and radio options as Markdown. Anything a person or a
file typed that goes into one of those passes through plain(); standalone user text is
shown with st.text or in a dataframe cell instead.
"""

from __future__ import annotations

import re

# Every ASCII punctuation character may be backslash-escaped in CommonMark; these are the
# ones Markdown, GFM, Streamlit's directives (:red[..], :material/..:) and math ($) use.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-!|~:$&])")
# "1." opens an ordered list only at the start of a line; elsewhere a dot is just a dot.
_LIST_START = re.compile(r"^(\s*\d+)\.")
# GFM links bare URLs and e-mail addresses *after* parsing, on the text (escapes are already
# resolved then), so a backslash does not stop it. A word joiner (U+2060, invisible and not
# punctuation) before "http", "www." and "@" breaks the pattern the linker looks for.
_AUTOLINK = re.compile(r"(?i)(https?|www(?=\.)|@)")
_WJ = "\u2060"


def plain(value: object) -> str:
    """value as Markdown source that renders as its literal text on one line."""
    text = "" if value is None else str(value)
    # Line breaks would start new blocks (headings, lists, code) inside our own sentence.
    text = " ".join(text.replace("\x00", "").splitlines())
    text = _LIST_START.sub(r"\1\\.", _SPECIAL.sub(r"\\\1", text))
    return _AUTOLINK.sub(lambda m: _WJ + m.group(1), text)


def plain_values(values: dict) -> dict:
    """Translation values with every text escaped by plain(); numbers keep their format."""
    return {k: plain(v) if isinstance(v, str) else v for k, v in values.items()}
