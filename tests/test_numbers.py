"""The one number formatter: counts, money, rates, signed deltas, missing values."""

from __future__ import annotations

import math

import pytest

from calibration.numbers import MINUS, delta, kind, number, percent


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (141.2391, None, "141"),
        (1204.0, "count", "1,204"),
        (204.0, None, "204"),
        (-53.0, None, f"{MINUS}53"),
        (-0.3, None, "0"),
        (12.5, "CNY", "12.5"),
        (124.09, "CNY", "124"),
        (98.57, "%", "98.6%"),
        (100.0, "%", "100%"),
        (None, None, "–"),
        (math.nan, None, "–"),
    ],
)
def test_number(value: float | None, unit: str | None, text: str) -> None:
    assert number(value, unit) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(12.0, "+12"), (-53.0, f"{MINUS}53"), (-0.4, "0"), (0.0, "0"), (1500.0, "+1,500")],
)
def test_delta_has_one_sign_and_no_negative_zero(value: float, text: str) -> None:
    assert delta(value) == text


def test_percent_at_most_one_decimal() -> None:
    assert percent(0.9857) == "98.6%"
    assert percent(1.0) == "100%"
    assert percent(-0.0004, signed=True) == "0%"
    assert percent(-0.125, signed=True) == f"{MINUS}12.5%"
    assert percent(None) == "–"


def test_unknown_unit_is_a_count() -> None:
    assert kind("stores") == "count"
    assert kind(None) == "count"
    assert kind("USD") == "money"
