"""Queries for regions, metrics, history, signals and their sources."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from calibration.store.core import next_id, registered, transaction

# Tables an import may write, with their key columns; used for counting changes.
IMPORT_TABLES = {
    "history": ("history", ("region", "metric", "period"), "value"),
    "signals": ("signals", ("region", "signal", "period"), "value"),
}


def load_history(cur: duckdb.DuckDBPyConnection, metric: str) -> pd.DataFrame:
    """History of one metric: region, period, ordinal, value (sorted)."""
    return cur.execute(
        "SELECT region, period, ordinal, value FROM history WHERE metric = ?"
        " ORDER BY region, ordinal",
        [metric],
    ).df()


def load_signals(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """All signals: region, signal, period, ordinal, dimension, value (sorted)."""
    return cur.execute(
        "SELECT region, signal, period, ordinal, dimension, value, frequency FROM signals"
        " ORDER BY region, signal, ordinal"
    ).df()


def list_regions(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Regions with display names, parent and lead."""
    return cur.execute(
        "SELECT region, name_en, name_zh, parent, lead FROM regions ORDER BY region"
    ).df()


def metric_unit(cur: duckdb.DuckDBPyConnection, metric: str) -> str | None:
    """The unit of a metric from its definition (None: unknown, shown as a count)."""
    rows = cur.execute("SELECT unit FROM metrics WHERE metric = ?", [metric]).fetchall()
    return rows[0][0] if rows else None


def set_metric_unit(cur: duckdb.DuckDBPyConnection, metric: str, unit: str) -> None:
    """Define a metric's unit (count, CNY, %...) where it has none yet."""
    with transaction(cur):
        cur.execute("UPDATE metrics SET unit = ? WHERE metric = ? AND unit IS NULL", [unit, metric])


def list_metrics(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Metrics with unit and frequency."""
    return cur.execute("SELECT metric, unit, frequency FROM metrics ORDER BY metric").df()


def metric_frequency(cur: duckdb.DuckDBPyConnection, metric: str) -> str | None:
    """Frequency (Q, M or A) of a stored metric, or None if unknown."""
    rows = cur.execute("SELECT frequency FROM metrics WHERE metric = ?", [metric]).fetchall()
    return rows[0][0] if rows else None


def signal_frequencies(cur: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Frequency of each stored signal."""
    rows = cur.execute("SELECT DISTINCT signal, frequency FROM signals").fetchall()
    return dict(rows)


def list_sources(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every loaded file, newest first."""
    return cur.execute(
        "SELECT source_id, file_name, kind, sha256, rows, loaded_at, loaded_by FROM sources"
        " ORDER BY loaded_at DESC, source_id DESC"
    ).df()


def table_counts(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row count of every table in the main schema."""
    names = [
        r[0]
        for r in cur.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'main' ORDER BY table_name"
        ).fetchall()
    ]
    # Table names come from the catalog, not from input, so quoting them is safe here.
    return {n: cur.execute(f'SELECT count(*) FROM "{n}"').fetchall()[0][0] for n in names}


def count_changes(
    cur: duckdb.DuckDBPyConnection, kind: str, frame: pd.DataFrame
) -> tuple[int, int]:
    """How many rows of frame are new and how many change a stored value."""
    table, keys, value = IMPORT_TABLES[kind]
    with registered(cur, "incoming", frame):
        on = " AND ".join(f"t.{k} = i.{k}" for k in keys)
        new, changed = cur.execute(
            f"SELECT count(*) FILTER (WHERE t.{value} IS NULL),"
            f" count(*) FILTER (WHERE t.{value} IS NOT NULL AND t.{value} <> i.{value})"
            f" FROM incoming i LEFT JOIN {table} t ON {on}"
        ).fetchall()[0]
    return int(new), int(changed)


def insert_source(
    cur: duckdb.DuckDBPyConnection,
    file_name: str,
    kind: str,
    sha256: str,
    rows: int,
    loaded_at: datetime,
    loaded_by: str,
) -> int:
    """Record a loaded file; returns its id."""
    source_id = next_id(cur, "sources_seq")
    cur.execute(
        "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?)",
        [source_id, file_name, kind, sha256, rows, loaded_at, loaded_by],
    )
    return source_id


def ensure_regions(cur: duckdb.DuckDBPyConnection, regions: list[str]) -> None:
    """Create bare region rows for ids not yet known."""
    cur.execute(
        "INSERT INTO regions (region, name_en) SELECT r, r FROM unnest(?::TEXT[]) AS t(r)"
        " WHERE r NOT IN (SELECT region FROM regions)",
        [sorted(set(regions))],
    )


def ensure_metrics(cur: duckdb.DuckDBPyConnection, frequencies: dict[str, str]) -> None:
    """Create metric rows for metrics not yet known."""
    for metric, freq in frequencies.items():
        cur.execute(
            "INSERT INTO metrics (metric, frequency) SELECT ?, ?"
            " WHERE NOT EXISTS (SELECT 1 FROM metrics WHERE metric = ?)",
            [metric, freq, metric],
        )


def upsert_history(cur: duckdb.DuckDBPyConnection, frame: pd.DataFrame, source_id: int) -> None:
    """Insert or replace history rows (region, metric, period, ordinal, value)."""
    with registered(cur, "incoming", frame):
        cur.execute(
            "INSERT OR REPLACE INTO history (region, metric, period, ordinal, value, source_id)"
            " SELECT region, metric, period, ordinal, value, ? FROM incoming",
            [source_id],
        )


def upsert_signals(cur: duckdb.DuckDBPyConnection, frame: pd.DataFrame, source_id: int) -> None:
    """Insert or replace signal rows."""
    with registered(cur, "incoming", frame):
        cur.execute(
            "INSERT OR REPLACE INTO signals"
            " (region, signal, period, frequency, ordinal, dimension, value, source_id)"
            " SELECT region, signal, period, frequency, ordinal, dimension, value, ?"
            " FROM incoming",
            [source_id],
        )


def changed_regions(cur: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> tuple[int, int]:
    """New and changed rows of a regions frame against the stored table."""
    with registered(cur, "incoming", frame):
        new, changed = cur.execute(
            "SELECT count(*) FILTER (WHERE t.region IS NULL),"
            " count(*) FILTER (WHERE t.region IS NOT NULL AND ("
            "   t.name_en IS DISTINCT FROM i.name_en OR t.name_zh IS DISTINCT FROM i.name_zh"
            "   OR t.parent IS DISTINCT FROM i.parent OR t.lead IS DISTINCT FROM i.lead))"
            " FROM incoming i LEFT JOIN regions t ON t.region = i.region"
        ).fetchall()[0]
    return int(new), int(changed)


def upsert_regions(cur: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    """Insert or replace region rows."""
    with registered(cur, "incoming", frame):
        cur.execute(
            "INSERT OR REPLACE INTO regions (region, name_en, name_zh, parent, lead)"
            " SELECT region, name_en, name_zh, parent, lead FROM incoming"
        )


def history_summary(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per metric: regions, periods, first and last period, rows."""
    return cur.execute(
        "SELECT metric, count(DISTINCT region) AS regions, count(DISTINCT period) AS periods,"
        " arg_min(period, ordinal) AS first_period, arg_max(period, ordinal) AS last_period,"
        " count(*) AS rows FROM history GROUP BY metric ORDER BY metric"
    ).df()


def region_history(cur: duckdb.DuckDBPyConnection, region: str) -> pd.DataFrame:
    """All metrics of one region: metric, period, ordinal, value."""
    return cur.execute(
        "SELECT metric, period, ordinal, value FROM history WHERE region = ?"
        " ORDER BY metric, ordinal",
        [region],
    ).df()


def region_signals(cur: duckdb.DuckDBPyConnection, region: str) -> pd.DataFrame:
    """All signals of one region."""
    return cur.execute(
        "SELECT signal, dimension, period, ordinal, value FROM signals WHERE region = ?"
        " ORDER BY signal, ordinal",
        [region],
    ).df()


def count_history(cur: duckdb.DuckDBPyConnection) -> int:
    """Number of history rows."""
    return cur.execute("SELECT count(*) FROM history").fetchall()[0][0]


def data_version(cur: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    """Changes whenever history or signals change (newest source, row counts): a cache key."""
    return tuple(
        cur.execute(
            "SELECT (SELECT coalesce(max(source_id), 0) FROM sources),"
            " (SELECT count(*) FROM history), (SELECT count(*) FROM signals)"
        ).fetchall()[0]
    )
