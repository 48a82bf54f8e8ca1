"""Queries for consensus letters: versions, signatures, corrections and archived PDFs.

Append-only: there is no UPDATE or DELETE. Callers hold the transaction.
"""

from __future__ import annotations

import json
from datetime import datetime

import duckdb

from calibration.store.core import next_id

LETTER_COLUMNS = (
    "letter_id",
    "cycle_id",
    "region",
    "version",
    "content_json",
    "content_sha256",
    "previous_sha256",
    "lead_username",
    "reason",
    "created_at",
    "created_by",
)
SIGNATURE_COLUMNS = (
    "signature_id",
    "letter_id",
    "role",
    "username",
    "name",
    "signed_at",
    "content_sha256",
)
FILE_META_COLUMNS = (
    "file_id",
    "letter_id",
    "lang",
    "signatures",
    "file_name",
    "file_sha256",
    "size",
    "created_at",
)
CORRECTION_COLUMNS = (
    "correction_id",
    "cycle_id",
    "region",
    "field",
    "value_json",
    "reason",
    "corrected_at",
    "corrected_by",
)


def _next_id(cur: duckdb.DuckDBPyConnection, table: str, column: str) -> int:
    # From the table's sequence, so two writers at once never pick the same id.
    return next_id(cur, f"{table}_seq")


def _insert(
    cur: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...], row: dict
) -> None:
    cur.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [row[c] for c in columns],
    )


# ----------------------------------------------------------------------------- versions


def insert_letter(cur: duckdb.DuckDBPyConnection, row: dict) -> int:
    """Add a letter version (row without letter_id); returns its letter_id."""
    letter_id = _next_id(cur, "letters", "letter_id")
    _insert(cur, "letters", LETTER_COLUMNS, {**row, "letter_id": letter_id})
    return letter_id


def letters(cur: duckdb.DuckDBPyConnection, cycle_id: int, region: str | None = None) -> list[dict]:
    """Every version of a cycle's letters (or one region's), by region then version."""
    sql = f"SELECT {', '.join(LETTER_COLUMNS)} FROM letters WHERE cycle_id = ?"
    params: list = [cycle_id]
    if region is not None:
        sql += " AND region = ?"
        params.append(region)
    rows = cur.execute(sql + " ORDER BY region, version", params).fetchall()
    return [dict(zip(LETTER_COLUMNS, r, strict=True)) for r in rows]


def get_letter(cur: duckdb.DuckDBPyConnection, letter_id: int) -> dict | None:
    """One letter version, or None."""
    rows = cur.execute(
        f"SELECT {', '.join(LETTER_COLUMNS)} FROM letters WHERE letter_id = ?", [letter_id]
    ).fetchall()
    return dict(zip(LETTER_COLUMNS, rows[0], strict=True)) if rows else None


# ----------------------------------------------------------------------------- signatures


def insert_signature(cur: duckdb.DuckDBPyConnection, row: dict) -> int:
    """Add a signature (row without signature_id); returns its id."""
    signature_id = _next_id(cur, "letter_signatures", "signature_id")
    _insert(cur, "letter_signatures", SIGNATURE_COLUMNS, {**row, "signature_id": signature_id})
    return signature_id


def signatures(cur: duckdb.DuckDBPyConnection, letter_ids: list[int]) -> list[dict]:
    """Signatures of the given letter versions, oldest first."""
    if not letter_ids:
        return []
    rows = cur.execute(
        f"SELECT {', '.join(SIGNATURE_COLUMNS)} FROM letter_signatures"
        " WHERE list_contains(?::INTEGER[], letter_id) ORDER BY signature_id",
        [list(letter_ids)],
    ).fetchall()
    return [dict(zip(SIGNATURE_COLUMNS, r, strict=True)) for r in rows]


# ----------------------------------------------------------------------------- corrections


def insert_correction(cur: duckdb.DuckDBPyConnection, row: dict) -> int:
    """Add a correction (row without correction_id); returns its id."""
    correction_id = _next_id(cur, "letter_corrections", "correction_id")
    _insert(cur, "letter_corrections", CORRECTION_COLUMNS, {**row, "correction_id": correction_id})
    return correction_id


def corrections(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> list[dict]:
    """A cycle's corrections, oldest first."""
    rows = cur.execute(
        f"SELECT {', '.join(CORRECTION_COLUMNS)} FROM letter_corrections WHERE cycle_id = ?"
        " ORDER BY correction_id",
        [cycle_id],
    ).fetchall()
    return [dict(zip(CORRECTION_COLUMNS, r, strict=True)) for r in rows]


# ----------------------------------------------------------------------------- files


def insert_file(cur: duckdb.DuckDBPyConnection, row: dict) -> int:
    """Archive one rendered PDF (row without file_id, with data); returns its id."""
    file_id = _next_id(cur, "letter_files", "file_id")
    cols = (*FILE_META_COLUMNS, "data")
    _insert(cur, "letter_files", cols, {**row, "file_id": file_id})
    return file_id


def get_file(
    cur: duckdb.DuckDBPyConnection, letter_id: int, lang: str, signature_count: int
) -> dict | None:
    """An archived PDF (metadata and data) of a letter version, or None."""
    rows = cur.execute(
        f"SELECT {', '.join(FILE_META_COLUMNS)}, data FROM letter_files"
        " WHERE letter_id = ? AND lang = ? AND signatures = ?",
        [letter_id, lang, signature_count],
    ).fetchall()
    if not rows:
        return None
    row = dict(zip((*FILE_META_COLUMNS, "data"), rows[0], strict=True))
    row["data"] = bytes(row["data"])
    return row


def files_by_sha(cur: duckdb.DuckDBPyConnection, file_sha256: str) -> list[dict]:
    """Metadata of archived PDFs with this file SHA-256 (normally zero or one)."""
    rows = cur.execute(
        f"SELECT {', '.join(FILE_META_COLUMNS)} FROM letter_files WHERE file_sha256 = ?"
        " ORDER BY file_id",
        [file_sha256],
    ).fetchall()
    return [dict(zip(FILE_META_COLUMNS, r, strict=True)) for r in rows]


def file_count(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> int:
    """How many PDFs are archived for a cycle's letters."""
    return int(
        cur.execute(
            "SELECT count(*) FROM letter_files f JOIN letters l USING (letter_id)"
            " WHERE l.cycle_id = ?",
            [cycle_id],
        ).fetchall()[0][0]
    )


# ----------------------------------------------------------------------------- context


def region_rows(cur: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """region -> {name_en, name_zh, lead} from the regions table."""
    rows = cur.execute("SELECT region, name_en, name_zh, lead FROM regions").fetchall()
    return {r[0]: {"name_en": r[1], "name_zh": r[2], "lead": r[3]} for r in rows}


def hr_overrides(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> dict[str, str]:
    """region -> the reason of its latest `hr_override` event (executive accepted a flagged
    region without HR's resolution)."""
    rows = cur.execute(
        "SELECT region, payload FROM events WHERE cycle_id = ? AND kind = 'hr_override'"
        " AND region IS NOT NULL ORDER BY id",
        [cycle_id],
    ).fetchall()
    out: dict[str, str] = {}
    for region, payload in rows:
        reason = json.loads(payload or "{}").get("reason")
        out[region] = "" if reason is None else str(reason)
    return out


def metric_unit(cur: duckdb.DuckDBPyConnection, metric: str) -> str | None:
    """The unit of a metric, or None."""
    rows = cur.execute("SELECT unit FROM metrics WHERE metric = ?", [metric]).fetchall()
    return rows[0][0] if rows else None


def accounts(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every account: username, display_name, role, regions (list), by username."""
    rows = cur.execute(
        "SELECT u.username, u.display_name, u.role,"
        " coalesce(string_agg(r.region, ',' ORDER BY r.region), '')"
        " FROM users u LEFT JOIN user_regions r USING (username)"
        " GROUP BY u.username, u.display_name, u.role ORDER BY u.username"
    ).fetchall()
    return [
        {
            "username": u,
            "display_name": d,
            "role": role,
            "regions": [x for x in regs.split(",") if x],
        }
        for u, d, role, regs in rows
    ]


def deciders(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> dict[str, tuple[str, str]]:
    """Who last answered each region (response events) and who locked the cycle.

    Returns region -> (actor, role); the key "" holds the lock's actor.
    """
    rows = cur.execute(
        "SELECT region, actor, role, kind, payload FROM events WHERE cycle_id = ?"
        " AND kind IN ('response', 'status') ORDER BY id",
        [cycle_id],
    ).fetchall()
    out: dict[str, tuple[str, str]] = {}
    for region, actor, role, kind, payload in rows:
        if kind == "response" and region is not None:
            out[region] = (actor, role)
        elif kind == "status" and json.loads(payload or "{}").get("status") == "locked":
            out[""] = (actor, role)
    return out


def stamp(value: datetime) -> datetime:
    """A timestamp as stored (naive UTC); aware values are converted."""
    from datetime import UTC

    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
