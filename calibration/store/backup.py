"""Backup and restore of a whole database as a folder of Parquet files plus its schema."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from calibration.store.core import StoreError, connect
from calibration.store.data import table_counts

MANIFEST = "calibrate-backup.json"


def _literal(path: Path) -> str:
    # EXPORT/IMPORT DATABASE take no bound parameters; the path is quoted as a SQL literal.
    text = str(path.resolve())
    if "\x00" in text or "\n" in text:
        raise StoreError(f"unusable path: {text!r}")
    return "'" + text.replace("'", "''") + "'"


def backup(con: duckdb.DuckDBPyConnection, out_dir: Path) -> dict:
    """Write the database to out_dir (must be new or empty); returns the manifest."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise StoreError(f"{out_dir} is not empty; choose a new folder for the backup")
    out_dir.mkdir(parents=True, exist_ok=True)
    cur = con.cursor()
    cur.execute(f"EXPORT DATABASE {_literal(out_dir)} (FORMAT parquet)")
    files = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out_dir.iterdir())
        if p.is_file()
    }
    manifest = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tables": table_counts(cur),
        "files": files,
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def restore(backup_dir: Path, db_path: Path) -> dict[str, int]:
    """Load a backup folder into a new database file; returns its table counts."""
    backup_dir = Path(backup_dir)
    manifest_path = backup_dir / MANIFEST
    if not manifest_path.exists():
        raise StoreError(f"{backup_dir} is not a Calibrate backup (no {MANIFEST})")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for name, digest in manifest["files"].items():
        path = backup_dir / name
        if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise StoreError(f"backup file {name} is missing or damaged")
    db_path = Path(db_path)
    if db_path.exists():
        raise StoreError(f"{db_path} already exists; restore into a new file")
    raw = duckdb.connect(str(db_path))
    try:
        raw.execute(f"IMPORT DATABASE {_literal(backup_dir)}")
    finally:
        raw.close()
    con = connect(db_path)  # applies any migration newer than the backup
    counts = table_counts(con.cursor())
    con.close()
    for table, n in manifest["tables"].items():
        if counts.get(table) != n:
            raise StoreError(f"restored table {table} has {counts.get(table)} rows, expected {n}")
    return counts
