"""Store: migrations upgrade older databases; a locked file gives a clear message."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from calibration.store import StoreError, connect
from calibration.store.core import _split_sql, migrations
from tests.factories import ROOT


def test_fresh_database_has_every_migration(tmp_path, cur):
    # A new file (the `cur` fixture copies a template that was migrated the same way).
    fresh = connect(tmp_path / "fresh.duckdb")
    try:
        for c in (fresh, cur):
            versions = [
                r[0] for r in c.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()
            ]
            assert versions == [v for v, _, _ in migrations()]
    finally:
        fresh.close()


def test_older_database_upgrades_on_open(tmp_path):
    path = tmp_path / "old.duckdb"
    first_version, first_name, first_sql = migrations()[0]
    raw = duckdb.connect(str(path))
    raw.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TIMESTAMP NOT NULL)"
    )
    for stmt in _split_sql(first_sql):
        raw.execute(stmt)
    raw.execute("INSERT INTO schema_version VALUES (?, ?, now())", [first_version, first_name])
    raw.execute("INSERT INTO regions (region, name_en) VALUES ('east', 'East')")
    raw.close()
    con = connect(path)
    versions = [
        r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()
    ]
    assert versions == [v for v, _, _ in migrations()]
    assert con.execute("SELECT name_en FROM regions").fetchall() == [("East",)]


def test_second_process_gets_a_clear_message(tmp_path):
    path = tmp_path / "busy.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, duckdb; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
            " sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreError, match="in use by another program"):
            connect(path)
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
