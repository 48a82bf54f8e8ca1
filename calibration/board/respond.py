"""The executive's answers on the board: the respond queue, counter-offers from an allocation,
the events a form was drawn with, and the lock's summary. No Streamlit here."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from calibration.board.view import fmt
from calibration.i18n import t

# The first draw of the Respond form starts on a region that can be accepted, then flagged,
# countered, and last those without a proposal.
QUEUE_ORDER = ("proposed", "flagged", "countered", "none")


def _event(value: object) -> int | None:
    return None if pd.isna(value) else int(value)


def queue(table: pd.DataFrame) -> list[str]:
    """Regions waiting for an answer, in QUEUE_ORDER and then the table's order."""
    pairs = list(zip(table["region"], table["status"], strict=True))
    return [r for want in QUEUE_ORDER for r, status in pairs if status == want]


def default_region(table: pd.DataFrame) -> int:
    """Index (in the table's order) of the region the Respond form starts on."""
    waiting = queue(table)
    return list(table["region"]).index(waiting[0]) if waiting else 0


def nothing_to_answer(table: pd.DataFrame) -> bool:
    """Whether every region is agreed already."""
    return bool(table["status"].ne("agreed").sum() == 0)


def seen_events(table: pd.DataFrame) -> dict[str, int | None]:
    """region → the last event id the board shows for it (what a form is bound to)."""
    return {r: _event(e) for r, e in zip(table["region"], table["last_event_id"], strict=True)}


def last_event(state: pd.DataFrame) -> int | None:
    """The newest decision of the cycle (the lock is bound to it)."""
    return _event(pd.to_numeric(state["last_event_id"], errors="coerce").max())


def send_rows(alloc: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Rows an allocation can send as counter-offers: not kept, not agreed; with last event.

    Columns region, name, implied (rounded), seen.
    """
    rows = alloc[~alloc["kept"].astype(bool)].merge(
        table[["region", "status", "last_event_id"]], on="region", how="left"
    )
    rows = rows[rows["status"] != "agreed"]
    return pd.DataFrame(
        {
            "region": rows["region"].to_numpy(),
            "name": rows["name"].to_numpy(),
            "implied": rows["implied"].round(0).to_numpy(),
            "seen": [_event(e) for e in rows["last_event_id"]],
        }
    )


def counter_offers(
    rows: pd.DataFrame, edited: Iterable[dict], common: str, send: str, value: str, reason: str
) -> list[dict]:
    """Offers for negotiation.send_counters from the edited rows (same order as rows).

    send, value and reason name the editor's columns; a blank reason takes the common one.
    """
    offers = []
    for i, row in enumerate(edited):
        if not row[send]:
            continue
        src = rows.iloc[i]
        offers.append(
            {
                "region": src["region"],
                "value": row[value],
                "reason": (row[reason] or "").strip() or common,
                "expected_last_event": src["seen"],
            }
        )
    return offers


# The editor's columns a per-region field error is about (send_counters keys: region.field).
SEND_FIELDS = {"value": "board.respond_value", "reason": "board.send_col_reason"}


def send_errors(errors: dict[str, str], names: dict[str, str], lang: str) -> list[str]:
    """send_counters' field errors as one message per field and error, naming the regions.

    Six regions without a reason make one "Reason: required for East, North, ..." rather
    than six identical "Required.".
    """
    grouped: dict[tuple[str, str], list[str]] = {}
    general: list[str] = []
    for key, err in errors.items():
        region, _, field = key.partition(".")
        if field and region in names:
            grouped.setdefault((field, err), []).append(names[region])
        else:
            general.append(t(err, lang))
    messages = []
    for (field, err), regions in grouped.items():
        listed = t("board.list_sep", lang).join(regions)
        if (field, err) == ("reason", "nego.err_required"):
            # The reason is asked once for all regions, or per region: say both.
            messages.append(t("board.send_need_reason", lang, regions=listed))
            continue
        label = t(SEND_FIELDS.get(field, "board.col_region"), lang)
        messages.append(t("board.send_err", lang, field=label, error=t(err, lang), regions=listed))
    return general + messages


def lock_summary(agreed: float, target: float | None, lang: str) -> str:
    """ "911 agreed, 289 below the company's 1,200" for the lock dialog."""
    if target is None:
        return t("board.lock_vs_none", lang, agreed=fmt(agreed))
    diff = agreed - target
    if abs(diff) < 0.5:
        key = "board.lock_vs_equal"
    else:
        key = "board.lock_vs_below" if diff < 0 else "board.lock_vs_above"
    return t(key, lang, agreed=fmt(agreed), diff=fmt(abs(diff)), target=fmt(target))


def hr_overrides(state: pd.DataFrame) -> list[dict]:
    """Accepted proposals whose HR review the executive overrode (region, by, reason)."""
    rows = state[state["hr_override_reason"].notna()]
    return [
        {"region": r["region"], "by": r["hr_override_by"], "reason": r["hr_override_reason"]}
        for r in rows.to_dict("records")
    ]
