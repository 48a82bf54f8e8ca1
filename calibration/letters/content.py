"""Consensus-letter content: what a region's lead and the executive sign.

Pure data, no database and no PDF: the negotiation domain fills a `LetterContent`, signers
sign its `content_sha256`, and `letter_pdf` renders it in either language. The hash covers
the content only, so the English and the Chinese PDF of one letter carry the same hash.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Literal

SupportKind = Literal["headcount", "budget", "other"]
SignerRole = Literal["lead", "executive"]
SUPPORT_KINDS: tuple[str, ...] = ("headcount", "budget", "other")
SIGNER_ROLES: tuple[str, ...] = ("lead", "executive")

# Bump when the canonical form changes, so an old signature can never match a new encoding.
HASH_SCHEMA = "calibrate.letter/1"


@dataclass(frozen=True)
class SupportItem:
    """One support commitment: what the region gets, how much, and who delivers it."""

    kind: str
    description: str
    amount: float | None
    owner: str

    def __post_init__(self) -> None:
        if self.kind not in SUPPORT_KINDS:
            raise ValueError(f"support kind must be one of {SUPPORT_KINDS}, not {self.kind!r}")


@dataclass(frozen=True)
class Signature:
    """A signer's confirmation of one exact content hash."""

    role: str
    name: str
    username: str
    signed_at: datetime
    content_sha256: str

    def __post_init__(self) -> None:
        if self.role not in SIGNER_ROLES:
            raise ValueError(f"signature role must be one of {SIGNER_ROLES}, not {self.role!r}")


@dataclass(frozen=True)
class LetterContent:
    """Everything printed on a region's consensus letter, independent of language."""

    company: str
    cycle_id: int
    cycle_name: str
    metric: str
    metric_unit: str
    period: str
    region: str
    region_name_en: str
    region_name_zh: str
    lead_name: str
    executive_name: str
    suggestion: float
    lower80: float
    upper80: float
    model_run_id: int
    model_reason_en: str
    model_reason_zh: str
    agreed: float
    justification: str
    support: list[SupportItem]
    risks: str
    company_target: float
    version: int
    previous_sha256: str | None
    issued_at: datetime
    # The executive's reason for accepting a flagged region without HR's review ("" if none).
    hr_override: str = ""
    # audit: the decision record's head when this version was issued (an anchor outside the
    # events table that catches a truncated log; 0/"" on letters issued before anchors).
    chain_events: int = 0
    chain_head: str = ""


def utc_iso(value: datetime) -> str:
    """A datetime as a fixed-width UTC ISO string; naive values are taken to be UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _canon_float(value: float) -> str:
    # A decimal string, not a JSON number: float repr and JSON parsers differ between
    # languages, and a verifier written elsewhere must reproduce the hash byte for byte.
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"letter figures must be finite, got {value!r}")
    text = f"{number:.6f}"
    return "0.000000" if text == "-0.000000" else text


def _canon(value: object) -> object:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return _canon_float(value)
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_canon(item) for item in value]
    if isinstance(value, SupportItem):
        amount = None if value.amount is None else _canon_float(value.amount)
        return {
            "kind": value.kind,
            "description": value.description,
            "amount": amount,
            "owner": value.owner,
        }
    raise TypeError(f"cannot canonicalise {type(value).__name__}")


_FLOAT_FIELDS = frozenset({"suggestion", "lower80", "upper80", "agreed", "company_target"})


def _canon_field(name: str, value: object) -> object:
    # Figures declared float are hashed as floats even when given as int (220 == 220.0),
    # so the hash does not depend on how the caller happened to type the number.
    if name in _FLOAT_FIELDS and isinstance(value, int) and not isinstance(value, bool):
        return _canon_float(float(value))
    return _canon(value)


def canonical_json(content: LetterContent) -> bytes:
    """The canonical UTF-8 JSON encoding of a letter's content (sorted keys, fixed floats)."""
    body: dict[str, object] = {
        f.name: _canon_field(f.name, getattr(content, f.name)) for f in fields(content)
    }
    if not body.get("hr_override"):
        # Absent when empty, so letters issued before the field existed keep their hash.
        body.pop("hr_override", None)
    body["schema"] = HASH_SCHEMA
    if not content.chain_events and not content.chain_head:
        # audit: letters from before the chain anchor keep the hash they were signed with.
        body.pop("chain_events")
        body.pop("chain_head")
    # ensure_ascii keeps lone surrogates or odd code points from breaking the encoding.
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return text.encode("ascii")


def content_sha256(content: LetterContent) -> str:
    """SHA-256 (hex) of the canonical content: the value signers sign."""
    return hashlib.sha256(canonical_json(content)).hexdigest()


def signature_matches(signature: Signature, content: LetterContent) -> bool:
    """Whether a signature was given for exactly this content."""
    return signature.content_sha256.lower() == content_sha256(content)
