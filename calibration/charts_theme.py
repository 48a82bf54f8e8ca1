"""One palette and one set of shared encodings for every chart (Altair only; no Streamlit).

The board, tracking, model and data charts take their colours from here, so a number has
the same colour everywhere: the model's suggestion is always orange, an agreed value always
green, actuals always blue. Series colours come from the Okabe-Ito palette, which stays
distinguishable for colour-blind readers; the three status colours are the red/amber/green
the seeds ask for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt

# What a series is, whichever chart draws it.
SERIES_COLORS: dict[str, str] = {
    "actual": "#0072B2",  # history and actuals
    "suggestion": "#E69F00",  # the model's number (the "model" series of the backtest too)
    "naive": "#8C8C8C",  # naive methods the model is compared with
    "proposal": "#CC79A7",
    "counter": "#56B4E9",
    "agreed": "#009E73",
    "planned": "#757575",  # the agreed path
    "target": "#424242",  # reference lines: target, base value
    "interval": "#BBBBBB",  # 80% interval bars and bands
    "band": "#F3C58A",  # the model's interval band, a light shade of the suggestion
}
# Changes and positions: up/within are good news, down/above the interval a warning.
CHANGE_COLORS: dict[str, str] = {
    "up": "#009E73",
    "down": "#D55E00",
    "total": "#0072B2",
    "gap": "#CC79A7",
    "below": "#56B4E9",
    "within": "#009E73",
    "above": "#D55E00",
}
# Tracking status (red/amber/green).
STATUS_COLORS: dict[str, str] = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828"}
# The baseline's three signal dimensions.
DIMENSION_COLORS: dict[str, str] = {
    "market": "#0072B2",
    "pipeline": "#009E73",
    "capacity": "#E69F00",
}
# Line dashes: solid for what happened, dashed for plans, dotted for projections.
DASHES: dict[str, list[int]] = {
    "actual": [1, 0],
    "planned": [6, 4],
    "projection": [2, 2],
    "naive": [4, 3],
}
TEXT_COLOR = "#333333"


def scale(labels: Mapping[str, str], colors: Mapping[str, str]) -> alt.Scale:
    """A colour scale: the translated labels (values of `labels`) in the palette's colours."""
    return alt.Scale(domain=list(labels.values()), range=[colors[k] for k in labels])


def dash_scale(labels: Mapping[str, str]) -> alt.Scale:
    """A strokeDash scale for series keyed like DASHES."""
    return alt.Scale(domain=list(labels.values()), range=[DASHES[k] for k in labels])


def colors(keys: Sequence[str], palette: Mapping[str, str] = SERIES_COLORS) -> list[str]:
    """The palette's colours for these keys, in order."""
    return [palette[k] for k in keys]
