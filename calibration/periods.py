"""Period labels and ordinals (the code lives in models.periods so models/ needs no calibration)."""

from models.periods import (
    FREQ_SEASONS,
    Period,
    from_ordinal,
    parse_period,
    parse_series,
    period_bounds,
)

__all__ = [
    "FREQ_SEASONS",
    "Period",
    "from_ordinal",
    "parse_period",
    "parse_series",
    "period_bounds",
]
