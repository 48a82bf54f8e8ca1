"""The DuckDB store. All SQL of the project lives in this package.

`core` opens connections and applies numbered migrations (`migrations/NNN_name.sql`);
one module per domain holds that domain's queries.
"""

from calibration.store.core import StoreError, connect, cursor, shared_connection, transaction

__all__ = ["StoreError", "connect", "cursor", "shared_connection", "transaction"]
