"""One number formatter for every screen, letter and export: numbers as people write them.

Counts are integers with thousands separators, money keeps cents only below 100, rates and
percentages show at most one decimal, signed deltas carry one minus sign (U+2212) and never
read "−0". A metric's unit comes from its definition (`metrics.unit`); an unknown or empty
unit is a count.
"""

from __future__ import annotations

import math

MINUS = "\u2212"
COUNT = "count"
MONEY_UNITS = frozenset({"CNY", "RMB", "USD", "EUR", "money", "currency"})
RATE_UNITS = frozenset({"%", "rate", "percent"})
# Measures read to one decimal without a sign of their own (hours, model scores).
MEASURE_UNITS = frozenset({"h", "hours", "measure"})


def kind(unit: str | None) -> str:
    """count, money, rate or measure for a metric's unit (None or unknown: count)."""
    if unit in MONEY_UNITS:
        return "money"
    if unit in RATE_UNITS:
        return "rate"
    if unit in MEASURE_UNITS:
        return "measure"
    return COUNT


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _decimals(value: float, unit: str | None) -> int:
    k = kind(unit)
    if k in ("rate", "measure"):
        return 1
    if k == "money":
        return 2 if abs(value) < 100 else 0
    return 0


def _plain(value: float, decimals: int) -> str:
    text = f"{abs(value):,.{decimals}f}"
    if decimals:
        text = text.rstrip("0").rstrip(".")  # 12.50 → 12.5, 204.00 → 204
    return text


def number(value: float | None, unit: str | None = None, missing: str = "–") -> str:
    """value as people write it for its unit: 1,204 · 12.5 · 98.6%; missing as given."""
    if _missing(value):
        return missing
    decimals = _decimals(float(value), unit)
    text = _plain(float(value), decimals)
    if text == "0":
        return "0" + ("%" if kind(unit) == "rate" else "")
    sign = MINUS if value < 0 else ""
    return sign + text + ("%" if kind(unit) == "rate" else "")


def delta(value: float | None, unit: str | None = None, missing: str = "–") -> str:
    """A signed change: +12, −3, 0 (never −0 or a double minus)."""
    if _missing(value):
        return missing
    text = number(value, unit)
    if text.lstrip(MINUS).rstrip("%") == "0":
        return text.lstrip(MINUS)
    return text if text.startswith(MINUS) else "+" + text


def percent(fraction: float | None, signed: bool = False, missing: str = "–") -> str:
    """A fraction as a percentage with at most one decimal: 0.9857 → 98.6%, 1.0 → 100%."""
    if _missing(fraction):
        return missing
    return (delta if signed else number)(float(fraction) * 100, "%", missing)
