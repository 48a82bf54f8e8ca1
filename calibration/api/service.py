"""What each API endpoint does, on a cursor and the token's user (HTTP lives in routes.py)."""

from __future__ import annotations

import io
import json
import math
import shutil
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

import calibration
from calibration import access, events, exports, settings
from calibration.accounts.auth import User
from calibration.data import importer
from calibration.negotiation import service as neg
from calibration.store import api as q
from calibration.store import backup as store_backup

TARGET_COLUMNS = (
    "cycle_id",
    "cycle",
    "metric",
    "period",
    "cycle_status",
    "region",
    "region_status",
    "suggestion",
    "agreed_value",
    "current_value",
    "current_source",
)
TARGET_FORMATS = ("csv", "json", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DECISION_FORMATS = ("csv", "xlsx")


def health(cur: duckdb.DuckDBPyConnection) -> dict:
    """Database reachable, app version, newest import per source (no token needed)."""
    return {
        "status": "ok",
        "database": "ok",
        "version": calibration.__version__,
        "sources": q.newest_sources(cur),
    }


def import_file(
    cur: duckdb.DuckDBPyConnection,
    user: User,
    kind: str,
    file_name: str,
    data: bytes,
    sheet: str | None,
    cumulative: bool,
) -> dict:
    """Validate and store one file as the CLI does (ImportRejected: nothing written)."""
    result = importer.import_bytes(cur, user, kind, file_name, data, sheet, cumulative=cumulative)
    if kind == "actuals" and result.source_id:
        # New actuals: tracked cycles raise their alerts now, as after a CLI or page import.
        from calibration.tracking import service as tracking_service

        tracking_service.evaluate_all(cur, user)
    return {
        "kind": result.kind,
        "file_name": result.file_name,
        "rows": result.rows,
        "new": result.inserted,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "source_id": result.source_id,
    }


def rejection(exc: importer.ImportRejected) -> dict:
    """The 422 body: the first problems (file, row, column, English reason, and the reason's
    translation key and params) and their total."""
    return {
        "error": "rejected",
        "message": f"{exc.total} problem(s); nothing was imported.",
        "problems": [
            {
                "file": p.file,
                "row": p.row,
                "column": p.column,
                "reason": p.reason,
                "key": p.key,
                "params": p.params,
            }
            for p in exc.problems
        ],
        "total": exc.total,
    }


def cycles(cur: duckdb.DuckDBPyConnection, user: User) -> list[dict]:
    """Every cycle, newest first (the fields `python -m calibration cycles --json` prints)."""
    access.require(user, "cycle.list")
    return neg.cycle_summaries(cur)


def targets(cur: duckdb.DuckDBPyConnection, user: User, cycle_id: int) -> pd.DataFrame:
    """A cycle's targets per region for OKR tools: the agreed value once agreed."""
    access.require(user, "targets.export")
    cycle = neg.get_cycle(cur, cycle_id)
    state = neg.cycle_state(cur, cycle_id, viewer=user)
    return pd.DataFrame(
        {
            "cycle_id": cycle["id"],
            "cycle": cycle["name"],
            "metric": cycle["metric"],
            "period": cycle["period"],
            "cycle_status": cycle["status"],
            "region": state["region"],
            "region_status": state["status"],
            "suggestion": state["suggestion"],
            "agreed_value": state["agreed_value"],
            "current_value": state["current_value"],
            "current_source": state["current_source"],
        },
        columns=list(TARGET_COLUMNS),
    )


def targets_bytes(
    cur: duckdb.DuckDBPyConnection, user: User, cycle_id: int, fmt: str
) -> tuple[bytes, str]:
    """The targets as (bytes, media type) in csv, json or xlsx; text cells formula-safe."""
    if fmt not in TARGET_FORMATS:
        raise ValueError(f"format must be one of {', '.join(TARGET_FORMATS)}")
    frame = targets(cur, user, cycle_id)
    if fmt == "csv":
        return exports.csv_bytes(frame), "text/csv; charset=utf-8"
    if fmt == "xlsx":
        return exports.xlsx_bytes(frame, sheet=f"cycle {cycle_id}"), XLSX
    rows = [
        {k: _json_value(v) for k, v in row.items()}
        for row in exports.neutralise_frame(frame).to_dict("records")
    ]
    body = {"cycle_id": int(cycle_id), "targets": rows}
    return json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json"


def _json_value(value: object) -> object:
    # Missing numbers are null in JSON, not NaN (which JSON cannot carry).
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        return value.item()  # numpy scalars
    return value


def decisions_bytes(
    cur: duckdb.DuckDBPyConnection, user: User, cycle_id: int, fmt: str
) -> tuple[bytes, str]:
    """The decision log as (bytes, media type) in csv or xlsx (as `audit export` writes it)."""
    if fmt not in DECISION_FORMATS:
        raise ValueError(f"format must be one of {', '.join(DECISION_FORMATS)}")
    data = neg.export_log(cur, user, cycle_id, fmt)
    return data, ("text/csv; charset=utf-8" if fmt == "csv" else XLSX)


def backup_zip(con: duckdb.DuckDBPyConnection, user: User) -> Path:
    """An online backup (the `backup` command's folder) zipped into a temporary file."""
    access.require(user, "database.backup")
    work = Path(tempfile.mkdtemp(prefix="calibrate-backup-"))
    try:
        folder = work / "backup"
        store_backup.backup(con, folder)
        target = work / "backup.zip"
        # Parquet is compressed already: storing is as small and much faster.
        with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as zf:
            for path in sorted(folder.iterdir()):
                zf.write(path, path.name)
        shutil.rmtree(folder)
        return target
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def backup_to_folder(con: duckdb.DuckDBPyConnection, user: User) -> dict:
    """An online backup written into the configured folder (CALIBRATE_BACKUP_DIR)."""
    access.require(user, "database.backup")
    base = settings.backup_dir()
    if base is None:
        raise LookupError("no backup folder is configured (set CALIBRATE_BACKUP_DIR)")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = base / f"calibrate-{stamp}"
    manifest = store_backup.backup(con, folder)
    return {
        "folder": str(folder),
        "tables": len(manifest["tables"]),
        "rows": sum(manifest["tables"].values()),
    }


def extract_backup(data: bytes, out_dir: Path) -> int:
    """Unpack a backup zip from the API into out_dir (new or empty); returns the file count."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ValueError(f"{out_dir} is not empty; choose a new folder for the backup")
    out_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        # Flat file names only: a member cannot write outside the folder.
        if any(Path(n).name != n or n in ("", ".", "..") for n in names):
            raise ValueError("the backup archive holds unexpected paths")
        for name in names:
            (out_dir / name).write_bytes(zf.read(name))
    return len(names)


def verify(cur: duckdb.DuckDBPyConnection, user: User, anchors: list[dict]) -> dict:
    """The decision record checked as `audit verify` does, with extra anchors (backups)."""
    access.require(user, "audit.verify")
    pairs = []
    for i, anchor in enumerate(anchors):
        if not isinstance(anchor, dict):
            raise ValueError("each anchor must be an object with events, head and mac")
        source = str(anchor.get("source") or f"anchor {i + 1}")
        try:
            pairs.append(
                (
                    source,
                    {
                        "events": int(anchor.get("events", 0)),
                        "head": str(anchor.get("head", "")),
                        "mac": str(anchor.get("mac", "")),
                    },
                )
            )
        except (TypeError, ValueError):
            raise ValueError("an anchor's events must be a number") from None
    report = events.verify(cur, pairs)
    return {"ok": report.ok, "events": report.events, "problems": list(report.problems)}
