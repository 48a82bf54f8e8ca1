"""What the negotiation pages build around a write, without Streamlit: widget and memo keys
scoped by cycle and region, form defaults, support items, refusals as keyed errors, and the
tables a page shows (revisions, resolved reviews)."""

from __future__ import annotations

import pandas as pd

from calibration import numbers
from calibration.i18n import t
from calibration.negotiation.service import NegotiationError, ValidationError, dissent_check

# The proposal's text fields: widget name -> the field of the region's row it starts from.
TEXT_FIELDS = (("nego_just", "justification"), ("nego_support", "support"), ("nego_risk", "risk"))
# Cleared after a proposal is stored, so the next revision starts from the stored text.
CLEARED_AFTER_SUBMIT = ("nego_just", "nego_support", "nego_risk", "nego_hc", "nego_budget")


def scoped_key(name: str, cycle_id: int, region: str) -> str:
    """A widget or memo key of one cycle and region (text typed for one region stays there)."""
    return f"{name}_{cycle_id}_{region}"


def seen_key(form: str, cycle_id: int, region: str) -> str:
    """Where a form keeps the region's last event id as it was drawn."""
    return f"nego_seen_{form}_{cycle_id}_{region}"


def review_seen_key(cycle_id: int, region: str) -> str:
    """Where the HR partner's resolve form keeps the region's last event id as drawn."""
    return f"nego_review_seen_{cycle_id}_{region}"


def fmt(value: float | None, unit: str | None = None) -> str:
    """A number for display in its unit (– when missing): numbers.number."""
    return numbers.number(None if value is None or pd.isna(value) else float(value), unit)


def signed(value: float | None, unit: str | None = None) -> str:
    """A change with its sign, in its unit (+8, −3; never −0): numbers.delta."""
    return numbers.delta(None if value is None or pd.isna(value) else float(value), unit)


def pct(value: float) -> str:
    """A fraction as a percentage (at most one decimal): numbers.percent."""
    return numbers.percent(value)


def support_items_table(items: list[dict], lang: str) -> pd.DataFrame:
    """A proposal's structured support (kind, amount, description) in lang's words."""
    return pd.DataFrame(
        {
            "kind": [t(f"nego.item_kind.{i.get('kind')}", lang) for i in items],
            "amount": [numbers.number(i.get("amount")) for i in items],
            "description": [i.get("description") or "–" for i in items],
        }
    )


def proposal_defaults(row: dict) -> dict[str, object]:
    """The form's starting value per widget name: a revision starts from the latest proposal."""
    value = row["proposal_value"] if row["proposal_value"] is not None else round(row["suggestion"])
    defaults: dict[str, object] = {"nego_value": float(value)}
    for name, field in TEXT_FIELDS:
        defaults[name] = row[field] or ""
    return defaults


def support_items(headcount: float | None, budget: float | None, lang: str) -> list[dict]:
    """The structured support a lead asked for (extra headcount, extra budget), if any."""
    items = []
    if headcount:
        items.append(
            {
                "kind": "headcount",
                "amount": headcount,
                "description": t("nego.item_headcount", lang),
            }
        )
    if budget:
        items.append(
            {"kind": "budget", "amount": budget, "description": t("nego.item_budget", lang)}
        )
    return items


def submitted_message(value: float, row: dict, cycle: dict, lang: str) -> str:
    """The confirmation after a proposal is stored (says when it goes to HR review)."""
    threshold = cycle["dissent_threshold"]
    if dissent_check(value, row["suggestion"], threshold):
        return t("nego.submitted_flagged", lang, threshold=pct(threshold))
    return t("nego.submitted", lang)


def as_refusal(exc: Exception) -> Exception:
    """A refusal with a translation key: a bare PermissionError says "not allowed for this
    region"; an invalid field says which rule it broke (the first one)."""
    if isinstance(exc, ValidationError) and exc.errors:
        return NegotiationError(next(iter(exc.errors.values())))
    if isinstance(exc, PermissionError) and not getattr(exc, "key", None):
        return NegotiationError("nego.err_permission")
    return exc


def _event_note(kind: str, payload: dict, lang: str) -> str:
    """The text that goes with an event in the history table."""
    if kind == "proposal":
        return payload["justification"]
    if kind == "review":
        return f"{t('nego.outcome.' + payload['outcome'], lang)}: {payload['note']}"
    if kind in ("response", "hr_override"):
        return payload.get("reason") or ""
    return ""


def revisions_table(events: pd.DataFrame, lang: str, unit: str | None = None) -> pd.DataFrame:
    """A region's events for the lead's history table, newest first, with translated headers,
    people by display name and numbers as people write them."""
    who = events["actor_name"] if "actor_name" in events else events["actor"]
    return pd.DataFrame(
        {
            t("nego.col_at", lang): [f"{pd.Timestamp(a):%Y-%m-%d %H:%M}" for a in events["at"]],
            t("nego.col_kind", lang): [t(f"nego.kind.{k}", lang) for k in events["kind"]],
            t("nego.col_actor", lang): list(who),
            t("nego.col_value", lang): [fmt(v, unit) for v in events["value"]],
            t("nego.col_suggestion", lang): [fmt(v, unit) for v in events["suggestion"]],
            t("nego.col_run", lang): [fmt(v) for v in events["run_id"]],
            t("nego.col_note", lang): [
                _event_note(k, p, lang)
                for k, p in zip(events["kind"], events["payload"], strict=True)
            ],
        }
    ).iloc[::-1]


def resolved_table(resolved: pd.DataFrame, labels: dict[str, str], lang: str) -> pd.DataFrame:
    """The HR partner's resolved reviews with translated headers and outcomes."""
    resolved = resolved[resolved["review_outcome"].notna()]
    return pd.DataFrame(
        {
            t("nego.region", lang): [labels.get(r, r) for r in resolved["region"]],
            t("nego.col_value", lang): [fmt(v) for v in resolved["proposal_value"]],
            t("nego.col_suggestion", lang): [fmt(v) for v in resolved["proposal_suggestion"]],
            t("nego.outcome", lang): [
                t(f"nego.outcome.{o}", lang) for o in resolved["review_outcome"]
            ],
            t("nego.note", lang): resolved["review_note"],
            t("nego.col_actor", lang): resolved.get("reviewed_by_name", resolved["reviewed_by"]),
        }
    )
