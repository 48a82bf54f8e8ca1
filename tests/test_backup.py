"""Backup and restore through the CLI: round trip, keyed manifest, all-or-nothing restore."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from calibration.cli import main as cli_main
from calibration.store import connect
from tests.factories import snapshot, write_small_demo


def _key(db: Path) -> str:
    return str(db) + ".audit-key"


@pytest.fixture(scope="module")
def backed_up_once(tmp_path_factory) -> tuple[Path, Path]:
    """A demo database and a backup of it, made once for the module (a demo costs seconds)."""
    folder = tmp_path_factory.mktemp("backed_up")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CALIBRATE_DEMO_DIR", str(write_small_demo(folder / "demo")))
        db = folder / "a.duckdb"
        assert cli_main(["demo", "--db", str(db)]) == 0
    out = folder / "backup"
    assert cli_main(["backup", "--db", str(db), "--out", str(out)]) == 0
    return db, out


@pytest.fixture
def backed_up(backed_up_once, tmp_path):
    """A private copy of the database, its audit key and its backup: (db, backup folder)."""
    made_db, made_out = backed_up_once
    db = tmp_path / made_db.name
    # The file and what lives beside it (audit key, checkpoints).
    for path in made_db.parent.glob(made_db.name + "*"):
        shutil.copy2(path, db.parent / path.name)
    out = tmp_path / made_out.name
    shutil.copytree(made_out, out)
    return db, out


def test_backup_restore_round_trip(backed_up, tmp_path, capsys):
    db, out = backed_up
    con = connect(db)
    before = snapshot(con.cursor())
    con.close()
    restored = tmp_path / "b.duckdb"
    assert cli_main(["restore", str(out), "--db", str(restored), "--key-file", _key(db)]) == 0
    con = connect(restored)
    assert snapshot(con.cursor()) == before
    con.close()
    # The restored database carries its key and verifies.
    assert cli_main(["audit", "verify", "--db", str(restored)]) == 0
    # Refuses to overwrite, and refuses a damaged backup, with a clear message.
    args = ["--key-file", _key(db)]
    assert cli_main(["restore", str(out), "--db", str(restored), *args]) == 3
    assert "already exists" in capsys.readouterr().err
    victim = next(p for p in out.iterdir() if p.suffix == ".parquet")
    victim.write_bytes(b"damaged")
    assert cli_main(["restore", str(out), "--db", str(tmp_path / "c.duckdb"), *args]) == 3
    assert "missing or damaged" in capsys.readouterr().err


def _rewrite_events(out: Path, sql: str) -> None:
    # Edit events.parquet and recompute the manifest as someone without the key would.
    events = out / "events.parquet"
    raw = duckdb.connect()
    raw.execute(f"CREATE TABLE e AS SELECT * FROM read_parquet('{events}')")
    raw.execute(sql)
    raw.execute(f"COPY e TO '{events}' (FORMAT parquet)")
    raw.close()
    manifest_path = out / "calibrate-backup.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["events.parquet"] = hashlib.sha256(events.read_bytes()).hexdigest()
    manifest["tables"]["events"] = len(duckdb.sql(f"SELECT * FROM '{events}'").fetchall())
    body = {k: v for k, v in manifest.items() if k != "mac"}
    manifest["mac"] = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    manifest_path.write_text(json.dumps(manifest, indent=2))


def test_edited_events_with_recomputed_manifest_is_refused(backed_up, tmp_path, capsys):
    db, out = backed_up
    _rewrite_events(out, "UPDATE e SET value = 1 WHERE kind = 'proposal'")
    target = tmp_path / "b.duckdb"
    capsys.readouterr()
    assert cli_main(["restore", str(out), "--db", str(target), "--key-file", _key(db)]) == 3
    assert "manifest" in capsys.readouterr().err
    assert not target.exists()


def test_chain_check_is_part_of_restore(backed_up, tmp_path, capsys, monkeypatch):
    # Even with a valid manifest tag (here: the attacker knows nothing but we re-tag with the
    # real key to reach the last step), a truncated decision record is refused.
    from calibration import events
    from calibration.store import backup

    db, out = backed_up
    _rewrite_events(out, "DELETE FROM e WHERE id = (SELECT max(id) FROM e)")
    key = events.read_key_file(Path(_key(db)))
    manifest_path = out / "calibrate-backup.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["mac"] = backup.manifest_mac(key, manifest)
    manifest_path.write_text(json.dumps(manifest, indent=2))
    target = tmp_path / "b.duckdb"
    capsys.readouterr()
    assert cli_main(["restore", str(out), "--db", str(target), "--key-file", _key(db)]) == 3
    assert "decision record" in capsys.readouterr().err
    assert not target.exists()
    assert not list(tmp_path.glob(".b.duckdb*"))
    # And audit verify refuses to call a missing database "OK, 0 events".
    assert cli_main(["audit", "verify", "--db", str(target)]) == 2


def test_missing_backup_or_key_gives_plain_message(backed_up, tmp_path, capsys):
    db, out = backed_up
    target = tmp_path / "b.duckdb"
    capsys.readouterr()
    assert cli_main(["restore", str(tmp_path / "nope"), "--db", str(target)]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err
    assert (
        cli_main(["restore", str(out), "--db", str(target), "--key-file", str(tmp_path / "nokey")])
        == 2
    )
    assert cli_main(["restore", str(out), "--db", str(target)]) == 3
    assert "--key-file" in capsys.readouterr().err
    assert (
        cli_main(["backup", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "o")])
        == 2
    )
    assert not target.exists()


def test_verify_compares_with_backup_anchor(backed_up, capsys):
    db, out = backed_up
    raw = duckdb.connect(str(db))
    raw.execute("DELETE FROM events WHERE id = (SELECT max(id) FROM events)")
    raw.close()
    Path(str(db) + ".audit-checkpoints").unlink()
    capsys.readouterr()
    assert cli_main(["audit", "verify", "--db", str(db), "--backup", str(out)]) == 1
    assert "backup" in capsys.readouterr().err
