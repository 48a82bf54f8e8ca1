"""Backup and restore of a whole database as a folder of Parquet files plus its schema.

The manifest lists every file's SHA-256, the table counts and the decision record's head
(an anchor), and is tagged with the audit key (HMAC), so an edited file with a recomputed
manifest is refused. A restore goes to a temporary file that is moved into place only when
every check passed, the decision-record check last.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from calibration.store.core import StoreError, connect, transaction
from calibration.store.data import table_counts

MANIFEST = "calibrate-backup.json"


class BackupMissing(StoreError):
    """The backup folder, its manifest or a key file named on the command line is missing."""


def _literal(path: Path) -> str:
    # EXPORT/IMPORT DATABASE take no bound parameters; the path is quoted as a SQL literal.
    text = str(path.resolve())
    if "\x00" in text or "\n" in text:
        raise StoreError(f"unusable path: {text!r}")
    return "'" + text.replace("'", "''") + "'"


def manifest_mac(key: bytes, manifest: dict) -> str:
    """The keyed tag of a manifest (every field but the tag itself)."""
    from calibration import events

    body = {k: v for k, v in manifest.items() if k != "mac"}
    return events.mac(key, "manifest:" + json.dumps(body, sort_keys=True))


def backup(con: duckdb.DuckDBPyConnection, out_dir: Path) -> dict:
    """Write the database to out_dir (must be new or empty); returns the manifest."""
    from calibration import events

    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise StoreError(f"{out_dir} is not empty; choose a new folder for the backup")
    cur = con.cursor()
    key = events.audit_key(cur, create=True)
    assert key is not None
    out_dir.mkdir(parents=True, exist_ok=True)
    # One transaction, so one snapshot: the head, the exported rows and the counts agree
    # even while a running server keeps writing (an online backup restores cleanly).
    with transaction(cur):
        anchor = events.head(cur)
        cur.execute(f"EXPORT DATABASE {_literal(out_dir)} (FORMAT parquet)")
        counts = table_counts(cur)
    anchor["mac"] = events.anchor_mac(key, anchor)
    files = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out_dir.iterdir())
        if p.is_file()
    }
    manifest = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tables": counts,
        "files": files,
        "chain": anchor,
    }
    manifest["mac"] = manifest_mac(key, manifest)
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def read_manifest(backup_dir: Path) -> dict:
    """The manifest of a backup folder (BackupMissing / StoreError in plain words)."""
    backup_dir = Path(backup_dir)
    if not backup_dir.is_dir():
        raise BackupMissing(f"{backup_dir} does not exist or is not a folder")
    path = backup_dir / MANIFEST
    if not path.is_file():
        raise BackupMissing(f"{backup_dir} is not a Calibrate backup (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not all(isinstance(manifest.get(k), dict) for k in ("tables", "files")):
            raise ValueError("fields missing")
    except (ValueError, UnicodeDecodeError) as exc:
        raise StoreError(f"the manifest {path} is damaged ({exc})") from exc
    return manifest


def manifest_anchor(backup_dir: Path) -> dict:
    """The decision-record anchor a backup recorded ({} for a backup made without one)."""
    chain = read_manifest(backup_dir).get("chain")
    return chain if isinstance(chain, dict) else {"events": 0, "head": "", "mac": ""}


def _restore_key(db_path: Path, key_file: Path | None) -> bytes:
    from calibration import events

    if os.environ.get(events.KEY_ENV, "").strip():
        return events.resolve_key(None)  # type: ignore[return-value]
    if key_file is not None:
        if not Path(key_file).is_file():
            raise BackupMissing(f"the key file {key_file} does not exist")
        return events.read_key_file(Path(key_file))
    if events.key_path(db_path).exists():
        return events.read_key_file(events.key_path(db_path))
    raise StoreError(
        "a restore needs the audit key of the database the backup was made from: pass "
        f"--key-file (its {events.KEY_SUFFIX} file) or set {events.KEY_ENV}"
    )


def _remove(path: Path) -> None:
    for p in (path, Path(str(path) + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def restore(backup_dir: Path, db_path: Path, key_file: Path | None = None) -> dict[str, int]:
    """Load a backup folder into a new database file; returns its table counts.

    Every check (manifest tag, file digests, row counts, then the decision record against
    the manifest's anchor) runs on a temporary file; only then is it moved to db_path, so
    a failed restore leaves no database behind.
    """
    from calibration import events

    backup_dir = Path(backup_dir)
    manifest = read_manifest(backup_dir)
    db_path = Path(db_path)
    if db_path.exists():
        raise StoreError(f"{db_path} already exists; restore into a new file")
    key = _restore_key(db_path, key_file)
    if manifest.get("mac") != manifest_mac(key, manifest):
        raise StoreError(
            "the backup manifest was not made with this audit key, or was edited; nothing restored"
        )
    for name, digest in manifest["files"].items():
        path = backup_dir / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise StoreError(f"backup file {name} is missing or damaged")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.parent / f".{db_path.name}.restoring-{os.getpid()}"
    _remove(tmp)
    try:
        raw = duckdb.connect(str(tmp))
        try:
            raw.execute(f"IMPORT DATABASE {_literal(backup_dir)}")
        finally:
            raw.close()
        con = connect(tmp)  # applies any migration newer than the backup
        try:
            cur = con.cursor()
            counts = table_counts(cur)
            for table, n in manifest["tables"].items():
                if counts.get(table) != n:
                    raise StoreError(
                        f"restored table {table} has {counts.get(table)} rows, expected {n}"
                    )
            # Last: the decision record, against the head the backup recorded.
            anchor = manifest.get("chain") or {}
            report = events.verify(cur, [("the backup manifest", anchor)], key=key)
            if not report.ok:
                raise StoreError(f"the restored decision record is broken: {report.reason}")
        finally:
            con.close()
        os.replace(tmp, db_path)
    except BaseException:
        _remove(tmp)
        raise
    _install_key(db_path, key_file)
    con = connect(db_path)
    try:
        events.write_checkpoint(con.cursor())
    finally:
        con.close()
    return counts


def _install_key(db_path: Path, key_file: Path | None) -> None:
    # The restored database keeps using the key its record was made with.
    from calibration import events

    target = events.key_path(db_path)
    if key_file is None or target.exists() or os.environ.get(events.KEY_ENV, "").strip():
        return
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(Path(key_file).read_bytes())
