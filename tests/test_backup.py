"""Backup and restore round trip through the CLI."""

from __future__ import annotations

from calibration.cli import main as cli_main
from calibration.store import connect
from tests.factories import snapshot


def test_backup_restore_round_trip(tmp_path, small_demo, monkeypatch, capsys):
    monkeypatch.setenv("CALIBRATE_DEMO_DIR", str(small_demo))
    db = tmp_path / "a.duckdb"
    assert cli_main(["demo", "--db", str(db)]) == 0
    con = connect(db)
    before = snapshot(con.cursor())
    con.close()
    out = tmp_path / "backup"
    assert cli_main(["backup", "--db", str(db), "--out", str(out)]) == 0
    restored = tmp_path / "b.duckdb"
    assert cli_main(["restore", str(out), "--db", str(restored)]) == 0
    con = connect(restored)
    assert snapshot(con.cursor()) == before
    con.close()
    # Refuses to overwrite, and refuses a damaged backup, with a clear message.
    assert cli_main(["restore", str(out), "--db", str(restored)]) == 3
    assert "already exists" in capsys.readouterr().err
    victim = next(p for p in out.iterdir() if p.suffix == ".parquet")
    victim.write_bytes(b"damaged")
    assert cli_main(["restore", str(out), "--db", str(tmp_path / "c.duckdb")]) == 3
    assert "missing or damaged" in capsys.readouterr().err
