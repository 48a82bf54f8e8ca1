"""The account list for the admin page: read through the access policy, never from a page."""

from __future__ import annotations

import duckdb
import pandas as pd

from calibration import access
from calibration.accounts.auth import User
from calibration.store import users as q


def list_accounts(cur: duckdb.DuckDBPyConnection, actor: User) -> pd.DataFrame:
    """Every account (no password hashes) with its regions and sign-in email; admins only."""
    access.require(actor, "user.manage")
    return pd.DataFrame(
        q.list_users(cur), columns=["username", "display_name", "role", "regions", "email"]
    )
