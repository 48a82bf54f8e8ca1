"""Shared fixtures: a fresh database per test, small data, app settings."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from calibration.store import connect  # noqa: E402
from tests.factories import write_small_demo  # noqa: E402


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Path of a fresh database file for this test."""
    return tmp_path / "test.duckdb"


@pytest.fixture
def con(db_path: Path):
    """A fresh, migrated DuckDB connection for this test."""
    connection = connect(db_path)
    yield connection
    connection.close()


@pytest.fixture
def cur(con):
    """A cursor on the fresh database."""
    return con.cursor()


@pytest.fixture
def small_demo(tmp_path: Path) -> Path:
    """A folder with small regions/history/signals CSVs."""
    return write_small_demo(tmp_path / "demo")


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app at a fresh database seeded from the shipped demo data."""
    path = tmp_path / "app.duckdb"
    monkeypatch.setenv("CALIBRATE_DB", str(path))
    monkeypatch.chdir(ROOT)
    if not (ROOT / "data" / "demo" / "history.csv").exists():
        monkeypatch.setenv("CALIBRATE_DEMO_DIR", str(write_small_demo(tmp_path / "demo")))
    return path


def pytest_report_header(config):  # noqa: D103
    return f"CALIBRATE_DB={os.environ.get('CALIBRATE_DB', '(default)')}"
