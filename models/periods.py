"""Period labels: parsing, canonical form, ordinals and seasons."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

FREQ_SEASONS = {"Q": 4, "M": 12, "A": 1}

_QUARTER = re.compile(r"^\s*(\d{4})\s*[-_ ]?\s*[Qq]\s*([1-4])\s*$")
_MONTH = re.compile(r"^\s*(\d{4})\s*[-/.]\s*(0?[1-9]|1[0-2])\s*$")
_YEAR = re.compile(r"^\s*(\d{4})\s*$")


@dataclass(frozen=True, order=True)
class Period:
    """A calendar period: frequency Q, M or A, a year and a sub-period (1-based)."""

    freq: str
    year: int
    sub: int = 1

    @property
    def ordinal(self) -> int:
        """Consecutive integer index within the frequency."""
        return self.year * FREQ_SEASONS[self.freq] + self.sub - 1

    @property
    def season(self) -> int:
        """0-based position within the year."""
        return self.sub - 1

    @property
    def label(self) -> str:
        """Canonical text form: 2025Q1, 2025-03 or 1998."""
        if self.freq == "Q":
            return f"{self.year}Q{self.sub}"
        if self.freq == "M":
            return f"{self.year}-{self.sub:02d}"
        return f"{self.year}"

    def shift(self, n: int) -> Period:
        """The period n steps later (earlier when n is negative)."""
        return from_ordinal(self.freq, self.ordinal + n)

    def __str__(self) -> str:
        return self.label


def parse_period(text: object) -> Period | None:
    """Parse 2025Q1, 2025-Q1, 2025 Q1, 2025-03 or 1998; None when unparseable."""
    if text is None:
        return None
    s = str(text)
    if m := _QUARTER.match(s):
        return Period("Q", int(m.group(1)), int(m.group(2)))
    if m := _MONTH.match(s):
        return Period("M", int(m.group(1)), int(m.group(2)))
    if m := _YEAR.match(s):
        return Period("A", int(m.group(1)), 1)
    return None


def from_ordinal(freq: str, ordinal: int) -> Period:
    """Inverse of Period.ordinal."""
    n = FREQ_SEASONS[freq]
    year, sub = divmod(int(ordinal), n)
    return Period(freq, year, sub + 1)


def period_bounds(p: Period) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last calendar day of a period."""
    if p.freq == "Q":
        start = pd.Timestamp(year=p.year, month=3 * (p.sub - 1) + 1, day=1)
        end = start + pd.offsets.QuarterEnd(0)
    elif p.freq == "M":
        start = pd.Timestamp(year=p.year, month=p.sub, day=1)
        end = start + pd.offsets.MonthEnd(0)
    else:
        start = pd.Timestamp(year=p.year, month=1, day=1)
        end = pd.Timestamp(year=p.year, month=12, day=31)
    return start, end


def parse_series(values: pd.Series) -> pd.DataFrame:
    """Vectorised parse of a column of labels into label, freq, ordinal and season.

    Unparseable entries get NaN/None; parsing runs once per distinct value.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    parsed = [parse_period(u) for u in uniques]
    # One extra slot at the end serves the NA sentinel (-1).
    label = np.array([p.label if p else None for p in parsed] + [None], dtype=object)
    freq = np.array([p.freq if p else None for p in parsed] + [None], dtype=object)
    ordn = np.array([p.ordinal if p else np.nan for p in parsed] + [np.nan], dtype="float64")
    season = np.array([p.season if p else np.nan for p in parsed] + [np.nan], dtype="float64")
    return pd.DataFrame(
        {
            "label": label[codes],
            "freq": freq[codes],
            "ordinal": ordn[codes],
            "season": season[codes],
        },
        index=values.index,
    )
