"""Translation layer: every user-facing string, in English and Simplified Chinese.

Strings live in `calibration/locale/<feature>.json` as {"key": {"en": ..., "zh": ...}};
all files are merged, and a key defined twice is an error.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
LANGS = ("en", "zh")
DEFAULT_LANG = "en"
# Each language by its own name, as language pickers show them.
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}


@cache
def catalog() -> dict[str, dict[str, str]]:
    """All strings from every locale file, merged."""
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(LOCALE_DIR.glob("*.json")):
        for key, texts in json.loads(path.read_text(encoding="utf-8")).items():
            if key in merged:
                raise ValueError(f"translation key {key!r} defined twice ({path.name})")
            merged[key] = texts
    return merged


def t(key: str, lang: str = DEFAULT_LANG, **values: object) -> str:
    """The text for key in lang, formatted with values; the key itself when missing."""
    texts = catalog().get(key)
    if texts is None:
        return key
    text = texts.get(lang) or texts.get(DEFAULT_LANG) or key
    return text.format(**values) if values else text


def plural(key: str, count: int, lang: str = DEFAULT_LANG, **values: object) -> str:
    """The text of `key.one` or `key.other` by count (English has two forms; Chinese one)."""
    form = "one" if count == 1 else "other"
    return t(f"{key}.{form}", lang, count=f"{count:,}", **values)


def region_name(region: str, name_en: str | None, name_zh: str | None, lang: str) -> str:
    """Display name of a region in the chosen language, falling back to its id."""
    if lang == "zh" and name_zh:
        return name_zh
    return name_en or name_zh or region


def language_name(code: str) -> str:
    """A language by its own name: en → English, zh → 中文."""
    return LANGUAGE_NAMES.get(code, code)


def readable(name: str) -> str:
    """A key without a translation in words: "new_customers" → "New customers"."""
    words = " ".join(str(name).replace("_", " ").replace("-", " ").split())
    return words[:1].upper() + words[1:] if words else str(name)


def name_of(kind: str, name: str, lang: str) -> str:
    """Display name of a metric, signal or dimension (`kind.name` key), else its words."""
    texts = catalog().get(f"{kind}.{name}")
    if texts is None:
        return readable(name)
    return texts.get(lang) or texts.get(DEFAULT_LANG) or readable(name)
