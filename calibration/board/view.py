"""What the live board shows, built once per change: the view, its tables and its numbers.

No Streamlit here: ui/cache.py keeps these per cycle version, ui/board_*.py draw them.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, tzinfo
from functools import lru_cache

import pandas as pd

from calibration import numbers
from calibration.board import table as board
from calibration.i18n import t

# Columns of the normal layout, in order; the projector layout keeps the BIG ones.
COLUMNS = (
    "mark",
    "region",
    "last_actual",
    "same_period_last_year",
    "suggestion",
    "interval",
    "proposal",
    "source",
    "delta_pct",
    "status",
    "justification",
    "last_change",
)
BIG_COLUMNS = (
    "mark",
    "region",
    "suggestion",
    "interval",
    "proposal",
    "source",
    "delta_pct",
    "status",
)
NUMBER_COLUMNS = ("last_actual", "same_period_last_year", "suggestion", "proposal")
PCT_COLUMNS = ("delta_pct",)
# Rows of the projector table that fit under the headline at 1280×720 (tests/browser/
# test_presentation.py); more regions are shown a page at a time.
PRESENT_ROWS = 6


def present_pages(rows: int, per_page: int = PRESENT_ROWS) -> list[slice]:
    """The projector's pages of rows, in the table's order, as even as possible (14 → 5, 5, 4)."""
    if rows <= per_page:
        return [slice(0, rows)]
    count = -(-rows // per_page)
    size = -(-rows // count)
    return [slice(start, min(start + size, rows)) for start in range(0, rows, size)]


def page_at(now: float, seconds: float, pages: int) -> int:
    """Which page the projector shows at time now: every screen turns pages together."""
    return int(now // seconds) % pages if pages > 1 else 0


def fmt(value: float | None, pct: bool = False, unit: str | None = None) -> str:
    """A number as the board shows it (numbers.py): a signed change for %, a dash if missing."""
    try:
        number = None if value is None else float(value)
    except (TypeError, ValueError):  # pd.NA and the like
        number = None
    # NaN is the one float unequal to itself (pd.isna per cell cost more than the lookup).
    return _fmt(None if number is None or number != number else number, pct, unit)


# The board formats every number cell of every changed version; most are the same numbers
# as before (suggestions, last year), so a lookup instead of formatting (~10,000 cells at
# 2,000 regions).
@lru_cache(maxsize=1 << 16)
def _fmt(value: float | None, pct: bool, unit: str | None) -> str:
    return numbers.delta(value, "%") if pct else numbers.number(value, unit)


def build(snap: dict, lang: str) -> dict:
    """cycle, state, table, headline and rollup of a snapshot (table and after: not when empty)."""
    cycle, state = snap["cycle"], snap["state"]
    if state.empty:
        return {"state": state, "cycle": cycle}
    table = board.board_table(state, snap["regions"], snap["history"], cycle["period"], lang)
    head = board.headline(state, cycle["company_target"], snap["signed"])
    return {
        "cycle": cycle,
        "state": state,
        "table": table,
        "headline": head,
        "rollup": board.rollup(table),
    }


def allocation(snap: dict, table: pd.DataFrame, method: str) -> pd.DataFrame:
    """The what-if allocation of the company target by method, with each region's name."""
    cycle = snap["cycle"]
    alloc = board.allocate(
        method,
        cycle["company_target"],
        snap["state"],
        snap["history"],
        snap["signals"],
        cycle["period"],
    )
    return alloc.merge(table[["region", "name"]], on="region", how="left")


def names(table: pd.DataFrame) -> dict[str, str]:
    """region → display name, in the table's order."""
    return dict(zip(table["region"], table["name"], strict=True))


def column_labels(lang: str) -> dict[str, str]:
    """Header of each board column in lang."""
    labels = {
        k: t(f"board.col_{k}", lang) for k in COLUMNS if k not in ("mark", "proposal", "source")
    }
    # One number per region with its source (negotiation.current_number): a countered region
    # shows the counter, an agreed one the agreed value, and Δ is against that number.
    labels["proposal"] = t("board.col_current", lang)
    labels["source"] = t("board.col_source", lang)
    labels["parent"] = t("board.col_parent", lang)
    labels["mark"] = ""
    return labels


def shown_table(
    table: pd.DataFrame, lit: Collection[str], big: bool, lang: str, tz: tzinfo = UTC
) -> pd.DataFrame:
    """The board's table with its cells as shown (numbers still numbers), headed in lang.

    big: the projector's fewer, larger columns; the details stay on the normal layout.
    tz: the zone the last-change times are shown in (the company's, like the live clock).
    """
    col = column_labels(lang)
    cells: dict[str, object] = {
        "mark": ["●" if r in lit else "" for r in table["region"]],
        "region": table["name"].to_numpy(),
        "last_actual": table["last_actual"].to_numpy(),
        "same_period_last_year": table["same_period_last_year"].to_numpy(),
        "suggestion": table["suggestion"].to_numpy(),
        "interval": [
            f"{fmt(lo)} – {fmt(hi)}" if pd.notna(lo) and pd.notna(hi) else "–"
            for lo, hi in zip(table["lower80"], table["upper80"], strict=True)
        ],
        "proposal": table["current"]
        .where(table["current_source"] != "suggestion")
        .to_numpy("float64"),
        "source": [
            t(f"nego.source.{x}", lang) if isinstance(x, str) and x != "suggestion" else "–"
            for x in table["current_source"]
        ],
        "delta_pct": pd.to_numeric(table["delta_pct"]).to_numpy(),
        "status": [
            f"{label} ⚠" if older else label
            for label, older in zip(table["status_label"], table["older_run"], strict=True)
        ],
        "justification": table["justification_preview"].to_numpy(),
        "last_change": [local_time(x, tz) if pd.notna(x) else "–" for x in table["last_change_at"]],
    }
    keys = BIG_COLUMNS if big else COLUMNS
    shown = pd.DataFrame({col[k]: cells[k] for k in keys})
    if not big and table["parent"].notna().any():
        shown.insert(2, col["parent"], table["parent_name"].to_numpy())
    return shown


def local_time(at: object, tz: tzinfo) -> str:
    """A stored time (UTC, naive or aware) as HH:MM:SS in tz."""
    stamp = pd.Timestamp(at)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return stamp.tz_convert(tz).strftime("%H:%M:%S")


def allocation_table(alloc: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The allocation as the what-if tab lists it: numbers formatted as text, headed in lang."""
    return pd.DataFrame(
        {
            t("board.col_region", lang): alloc["name"].to_numpy(),
            t("board.col_implied", lang): [fmt(v) for v in alloc["implied"].round(1)],
            t("board.col_suggestion", lang): [fmt(v) for v in alloc["suggestion"].round(0)],
            t("board.col_delta_pct", lang): [fmt(v, pct=True) for v in alloc["vs_suggestion_pct"]],
            t("board.col_vs_last_year_pct", lang): [
                fmt(v, pct=True) for v in alloc["vs_last_year_pct"]
            ],
            t("board.col_position", lang): alloc[f"label_{lang}"].to_numpy(),
        }
    )


def counts_line(head: dict, lang: str) -> str:
    """The caption under the headline: how many proposed, flagged, agreed, signed."""
    return (
        t(
            "board.kpi_counts",
            lang,
            proposed=head["proposed"],
            regions=head["regions"],
            flagged=head["flagged"],
            agreed=head["agreed"],
            signed=head["signed"],
        )
        + " · "
        + t("board.kpi_suggestion_sum", lang)
        + f" {fmt(head['suggestion_sum'])}"
    )
