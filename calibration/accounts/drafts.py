"""Drafts: what a person half-typed into a form, kept server side until they submit it.

Keyed by person and form key (`form:cycle:region`); restored after a reload or in a new
tab, never shown to anyone else, deleted on a successful submit. Not decisions: a plain
table, replaced on every change. A draft also keeps the last event its form was drawn
with, so a restored draft is checked against what the person saw when they typed it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb

from calibration import access
from calibration.accounts.auth import User
from calibration.store import drafts as q
from calibration.store import transaction
from calibration.store.core import utcnow

MAX_DRAFT_CHARS = 100_000


@dataclass(frozen=True)
class Draft:
    """A stored draft: field name -> value, and the event its form was drawn with."""

    fields: dict[str, object]
    seen_event: int | None
    updated_at: datetime


def form_key(form: str, cycle_id: int | None, region: str | None = None) -> str:
    """The key of one form of one cycle (and region)."""
    return f"{form}:{cycle_id if cycle_id is not None else ''}:{region or ''}"


def _plain(value: object) -> object:
    # What widgets hold: text, numbers, booleans, None; anything else is kept as text.
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return str(value)


def load(cur: duckdb.DuckDBPyConnection, user: User, key: str) -> Draft | None:
    """The person's own draft of a form, or None."""
    access.require(user, "draft.own")
    row = q.get_draft(cur, user.username, key)
    if row is None:
        return None
    try:
        fields = json.loads(row["fields"])
    except ValueError:
        return None  # unreadable: as if there were none
    if not isinstance(fields, dict):
        return None
    seen = row["seen_event"]
    return Draft(fields, int(seen) if seen is not None else None, row["updated_at"])


def save(
    cur: duckdb.DuckDBPyConnection,
    user: User,
    key: str,
    fields: dict[str, object],
    seen_event: int | None,
    now: datetime | None = None,
) -> bool:
    """Keep the person's draft of a form (an empty one is forgotten); True when kept."""
    access.require(user, "draft.own")
    values = {name: _plain(v) for name, v in fields.items()}
    if all(v in (None, "") for v in values.values()):
        clear(cur, user, key)
        return False
    text = json.dumps(values, ensure_ascii=False)
    if len(text) > MAX_DRAFT_CHARS:
        return False  # larger than any form allows: the form's own limits refuse it on submit
    with transaction(cur):
        q.put_draft(cur, user.username, key, text, seen_event, now or utcnow())
    return True


def clear(cur: duckdb.DuckDBPyConnection, user: User, key: str) -> None:
    """Forget the person's draft of a form (after a successful submit)."""
    access.require(user, "draft.own")
    with transaction(cur):
        q.delete_draft(cur, user.username, key)
