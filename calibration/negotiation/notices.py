"""Inbox notifications for negotiation and letters: HR review requests, counters sent to a
lead, letters waiting for a signature.

They are records, not decisions: written by the service that records the decision, inside
its transaction (an events.append build), so a refused or rolled-back decision tells no one.
Who is told is asked of the access policy (who may resolve a review, sign as executive) or
is the region's lead; the text is a translation key with JSON values, rendered in the
reader's language by the inbox and by calibration.notify.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import duckdb

from calibration import access
from calibration.accounts.auth import User
from calibration.i18n import region_name
from calibration.store import data as dq
from calibration.store import negotiation as nq
from calibration.store import tracking as tq
from calibration.store import users as uq
from calibration.store.core import utcnow

# (action, scope, accounts_version) -> usernames: a burst of flagged proposals asks the
# policy about every account once, not once per group commit.
_PEOPLE: dict[tuple, list[str]] = {}
_PEOPLE_KEPT = 64


def people_who_may(
    cur: duckdb.DuckDBPyConnection, action: str, scope: str | None = None
) -> list[str]:
    """Usernames of the accounts the access policy lets do action (on scope)."""
    key = (
        (action, scope, nq.accounts_version(cur))
        if scope is None or isinstance(scope, str)
        else None
    )
    if key is not None and key in _PEOPLE:
        return list(_PEOPLE[key])
    people = [
        u["username"]
        for u in uq.list_users(cur)
        if access.can(
            User(u["username"], u["display_name"], u["role"], frozenset(u["regions"])),
            action,
            scope,
        )
    ]
    if key is not None:
        if len(_PEOPLE) >= _PEOPLE_KEPT:
            _PEOPLE.clear()
        _PEOPLE[key] = people
    return list(people)


def region_leads(cur: duckdb.DuckDBPyConnection, region: str) -> list[str]:
    """The lead accounts of a region (bound to it, or named in the regions file)."""
    return tq.region_leads(cur, region)


def leads_by_region(cur: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """region_leads of every region in one read (a counter to 200 regions at once)."""
    return tq.leads_by_region(cur)


def region_names(cur: duckdb.DuckDBPyConnection, cycle_id: int | None) -> dict[str, dict[str, str]]:
    """region -> {"en", "zh"} display names; a locked cycle's as frozen at the lock."""
    regions = dq.list_regions(cur)
    out = {
        r: _both_names(r, en, zh)
        for r, en, zh in zip(regions["region"], regions["name_en"], regions["name_zh"], strict=True)
    }
    if cycle_id is not None:
        for r, row in nq.frozen_regions(cur, int(cycle_id)).items():
            out[r] = _both_names(r, row["name_en"], row["name_zh"])
    return out


def _both_names(region: str, en: str | None, zh: str | None) -> dict[str, str]:
    return {lang: region_name(region, en, zh, lang) for lang in ("en", "zh")}


def names_of(
    cur: duckdb.DuckDBPyConnection, cycle_id: int, regions: list[str]
) -> dict[str, dict[str, str]]:
    """region_names for some regions only (one small read instead of every region)."""
    return {r: _both_names(r, en, zh) for r, en, zh in nq.region_labels(cur, cycle_id, regions)}


def rows(
    cur: duckdb.DuckDBPyConnection,
    usernames: Iterable[str],
    kind: str,
    message_key: str,
    cycle_id: int,
    region: str,
    values: dict,
    names: dict[str, dict[str, str]] | None = None,
) -> list[dict]:
    """One notification row per (distinct) username, ready for `write`."""
    people = list(dict.fromkeys(u for u in usernames if u))
    if not people:
        return []
    label = (names if names is not None else region_names(cur, cycle_id)).get(region, {})
    params = json.dumps(
        {
            **values,
            "region_en": label.get("en", region),
            "region_zh": label.get("zh", region),
        },
        ensure_ascii=False,
    )
    now = utcnow()
    return [
        {
            "username": u,
            "kind": kind,
            "cycle_id": int(cycle_id),
            "region": region,
            "event_id": None,
            "message_key": message_key,
            "params": params,
            "created_at": now,
        }
        for u in people
    ]


# Up to this many rows are written with plain statements (two a row, ~1 ms); more go through
# one DataFrame insert, whose frame and registration cost ~20 ms however few rows it has.
_FEW_NOTES = 16


def write(cur: duckdb.DuckDBPyConnection, notes: list[dict]) -> int:
    """Append the rows (caller holds the transaction); returns how many."""
    if len(notes) <= _FEW_NOTES:
        return len(tq.insert_notifications(cur, notes))
    return tq.insert_notification_batch(cur, notes)


def notify(
    cur: duckdb.DuckDBPyConnection,
    usernames: Iterable[str],
    kind: str,
    message_key: str,
    cycle_id: int,
    region: str,
    values: dict,
    names: dict[str, dict[str, str]] | None = None,
) -> int:
    """Append one notification per (distinct) username; returns how many were written."""
    return write(cur, rows(cur, usernames, kind, message_key, cycle_id, region, values, names))
