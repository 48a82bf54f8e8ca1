"""Who is who: the account list for the admin page and people's display names for every
other screen (usernames are shown only on the Accounts page)."""

from __future__ import annotations

import duckdb
import pandas as pd

from calibration import access
from calibration.accounts import auth
from calibration.accounts.auth import User
from calibration.i18n import region_name, t
from calibration.store import data as dq
from calibration.store import users as q


def list_accounts(cur: duckdb.DuckDBPyConnection, actor: User, lang: str = "en") -> pd.DataFrame:
    """Every account (no password hashes): role in lang's words, regions by name; only for
    who may manage users."""
    access.require(actor, "user.manage")
    names = {
        r: region_name(r, en, zh, lang)
        for r, en, zh in dq.list_regions(cur)[["region", "name_en", "name_zh"]].itertuples(
            index=False
        )
    }
    frame = pd.DataFrame(
        q.list_users(cur), columns=["username", "display_name", "role", "regions", "email"]
    )
    frame["role"] = [t(f"role.{role}", lang) for role in frame["role"]]
    sep = "、" if lang == "zh" else ", "
    frame["regions"] = [sep.join(names.get(r, r) for r in regions) for regions in frame["regions"]]
    return frame


def display_names(cur: duckdb.DuckDBPyConnection, actor: User, lang: str) -> dict[str, str]:
    """username → the person's display name (the system account in lang's words)."""
    access.require(actor, "people.read")
    names = dict(q.display_names(cur))
    names[auth.SYSTEM.username] = t("people.system", lang)
    return names


def person(names: dict[str, str], username: str | None) -> str:
    """A display name from display_names(), the username itself for an unknown account."""
    if not username:
        return "–"
    return names.get(username, username)
