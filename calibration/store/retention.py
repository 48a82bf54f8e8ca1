"""Queries that forget old access records: API calls, sign-in attempts and identities,
sessions, drafts and finished deliveries. None of them is a decision or sealed by the
audit chain (calibration.store.negotiation.SEALED_TABLES); the events never shrink."""

from __future__ import annotations

from datetime import datetime

import duckdb

from calibration.store.core import transaction

# table -> the condition that makes a row older than the cut-off (bound to it once per ?).
# A session's last sighting bounds it: the idle timeout and the absolute lifetime are hours,
# the retention days. A delivery still pending or being retried is never forgotten.
_OLD = {
    "api_calls": "called_at < ?",
    "login_attempts": "attempted_at < ?",
    "sso_sign_ins": "signed_in_at < ?",
    "sessions": "last_seen_at < ?",
    "drafts": "updated_at < ?",
    "deliveries": "status IN ('sent', 'failed') AND created_at < ?",
}
TABLES = tuple(_OLD)


def count_old(cur: duckdb.DuckDBPyConnection, before: datetime) -> dict[str, int]:
    """How many rows of each table are older than before (what prune would forget)."""
    return {
        table: int(
            cur.execute(f"SELECT count(*) FROM {table} WHERE {cond}", [before]).fetchone()[0]
        )
        for table, cond in _OLD.items()
    }


def prune(cur: duckdb.DuckDBPyConnection, before: datetime) -> dict[str, int]:
    """Delete the rows older than before, in one transaction; how many per table."""
    with transaction(cur):
        # DuckDB answers a DELETE with the number of rows it removed.
        return {
            table: int(cur.execute(f"DELETE FROM {table} WHERE {cond}", [before]).fetchone()[0])
            for table, cond in _OLD.items()
        }
