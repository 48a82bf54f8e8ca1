"""What a screen must not show a person: raw keys, None/nan, long decimals, stray English.

Pure functions over the text a browser read from a page (shared by test_every_screen and
usable on any page text); each returns the offending snippets.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb

RAW_KEY = re.compile(r"\b[a-z]+_[a-z0-9_]+\b")
MISSING = re.compile(r"\b(None|nan|NaN|null|NaT)\b")
LONG_DECIMAL = re.compile(r"\d\.\d{3,}\b")
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
# A file's fingerprint (sha256, shortened or not) is hex, not words.
HEX = re.compile(r"\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b")

# Words a Chinese page may show in Latin letters: the product, units, abbreviations that
# Chinese business writing keeps (AE, MQL, HRBP, KPI), file formats.
ZH_ALLOWED = frozenset(
    {
        "Calibrate",
        "CNY",
        "RMB",
        "USD",
        "MB",
        "KB",
        "PDF",
        "CSV",
        "XLSX",
        "XLS",
        "TXT",
        "ZIP",
        "PNG",
        "JPEG",
        "JPG",
        "JSON",
        "English",  # a language by its own name in the language pickers
        "GBK",
        "UTF",
        "BOM",
        "AE",
        "MQL",
        "HR",
        "HRBP",
        "KPI",
        "QR",
        "ID",
        "UTC",
        "SHA",
        "WAPE",
        "FVA",
        "MAPE",
        "API",
        # Browsers and systems by their product names (the Admin page's sessions).
        "Chrome",
        "Chromium",
        "Edge",
        "Firefox",
        "Safari",
        "Linux",
        "Windows",
        "macOS",
        "Android",
        "iOS",
        "URL",
        "WLS",
        "OK",
    }
)


def typed_texts(db: Path) -> list[str]:
    """Text people or files typed into the demo (names, free text, file names), longest first.

    Those show as typed, whatever words they contain; the checks look at everything else.
    """
    con = duckdb.connect(str(db), read_only=True)
    try:
        found: set[str] = set()
        for (name,) in con.execute("SELECT display_name FROM users").fetchall():
            found.add(name)
        for (name,) in con.execute("SELECT name FROM cycles").fetchall():
            found.add(name)
        for table in ("sources", "attachments"):
            for (name,) in con.execute(f"SELECT file_name FROM {table}").fetchall():  # noqa: S608
                found.add(name)
        for item, note in con.execute("SELECT item, note FROM commitment_events").fetchall():
            found.update((item, note))
        for (payload,) in con.execute("SELECT payload FROM events").fetchall():
            _collect_free_text(json.loads(payload), found)
    finally:
        con.close()
    return sorted((t for t in found if t and len(t) > 2), key=len, reverse=True)


def _collect_free_text(value: object, found: set[str]) -> None:
    """Strings with a space in an event payload: free text (identifiers have no spaces)."""
    if isinstance(value, dict):
        for v in value.values():
            _collect_free_text(v, found)
    elif isinstance(value, list):
        for v in value:
            _collect_free_text(v, found)
    elif isinstance(value, str) and " " in value.strip():
        found.add(value.strip())


def without(text: str, allowed: list[str]) -> str:
    """text with every allowed snippet blanked out (longest first), also when a table cell
    shows only its beginning ("Search interest in our category fell…")."""
    for snippet in allowed:
        if snippet in text:
            text = text.replace(snippet, " ")
    lines = []
    for line in text.splitlines():
        start = line.strip().rstrip("…").strip()
        if line.strip().endswith("…") and any(s.startswith(start) for s in allowed):
            line = " "
        lines.append(line)
    return "\n".join(lines)


def offences(text: str, lang: str, allowed_keys: frozenset[str] = frozenset()) -> list[str]:
    """What text shows that a person should not read: raw keys, None/nan, 3+ decimals,
    English words on a Chinese page."""
    found = [f"raw key {m}" for m in RAW_KEY.findall(text) if m not in allowed_keys]
    found += [f"missing {m}" for m in MISSING.findall(text)]
    found += [f"decimals {m.group(0)}" for m in LONG_DECIMAL.finditer(text)]
    if lang == "zh":
        text = HEX.sub(" ", text)
        found += [
            f"english {w}"
            for w in ENGLISH_WORD.findall(text)
            if w not in ZH_ALLOWED and w not in allowed_keys
        ]
    return found


def context_of(text: str, snippet: str, width: int = 40) -> str:
    """A short excerpt of text around snippet's first occurrence, for the failure message."""
    word = snippet.split(" ", 1)[-1]
    at = text.find(word)
    if at < 0:
        return ""
    return text[max(0, at - width) : at + len(word) + width].replace("\n", " ⏎ ")
