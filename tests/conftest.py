"""Shared fixtures: a fresh database per test, small data, app settings."""

from __future__ import annotations

import fcntl
import os
import sys
import threading
from pathlib import Path

# Before numpy loads (here and in the servers the tests start, which inherit it): OpenBLAS's
# worker threads spin while they wait, so on 2 cores shared by pytest workers, servers and
# browsers the small matrices of model fits cost several times the CPU (a Holt-Winters
# backtest: 22.6 s CPU with threads, 3.7 s with one).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# Hundreds of sign-ins (AppTest and browsers): the cheapest argon2 profile, 0.26 s less each.
os.environ.setdefault("CALIBRATE_TEST_CHEAP_PASSWORDS", "1")

import functools  # noqa: E402

import pytest  # noqa: E402
from streamlit.components.v2 import manifest_scanner  # noqa: E402
from streamlit.testing.v1 import app_test, local_script_runner  # noqa: E402

# Each new AppTest's first run scans every installed package's metadata for Streamlit
# components (0.15 s of CPU; the suite makes hundreds of AppTests). The packages do not
# change during a test run: one scan per process.
manifest_scanner.scan_component_manifests = functools.cache(
    manifest_scanner.scan_component_manifests
)
# AppTest compiles app.py and the page it runs again on every run (with Streamlit's magic
# pass over the syntax tree: a tenth of an AppTest's CPU); a server compiles each script
# once. The scripts do not change during a test run: one cache per process.
_SCRIPTS = app_test.ScriptCache()
app_test.ScriptCache = lambda: _SCRIPTS  # the pages (st.navigation)
local_script_runner.ScriptCache = lambda: _SCRIPTS  # app.py itself

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from calibration.store import connect  # noqa: E402
from tests.factories import copy_demo, write_small_demo  # noqa: E402


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Path of a fresh database file for this test."""
    return tmp_path / "test.duckdb"


@pytest.fixture(scope="session")
def empty_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database with every migration applied, made once per test process.

    Copying it costs a file copy; running the migrations costs ~0.1 s of CPU and several
    commits per test, which hundreds of tests paid again and again.
    """
    path = tmp_path_factory.mktemp("empty") / "empty.duckdb"
    connect(path).close()
    return path


@pytest.fixture
def db_template(empty_template: Path) -> Path:
    """The file each test's `con` starts from: the empty migrated one (a module may override
    this with a database it built once, e.g. tests/test_letters.py)."""
    return empty_template


@pytest.fixture
def con(db_path: Path, db_template: Path):
    """A fresh, migrated DuckDB connection for this test (a copy of db_template)."""
    # With its audit key and checkpoints, when the template has appended events.
    copy_demo(db_template, db_path)
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


def _seed_demo(path: Path) -> None:
    """Seed the demo workshop into a new database file at path."""
    from calibration.demo.workshop import init_database

    connection = connect(path)
    init_database(connection.cursor())
    connection.execute("CHECKPOINT")
    connection.close()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workshop seeded once per test run; tests copy it (seeding takes seconds).

    Under pytest-xdist the workers share one seeded file: the parent of a worker's base
    temp folder is this run's own folder (pytest-N), so the file never outlives the run.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        path = tmp_path_factory.mktemp("template") / "demo.duckdb"
        _seed_demo(path)
        return path
    root = tmp_path_factory.getbasetemp().parent
    path = root / "demo-template.duckdb"
    with (root / "demo-template.lock").open("w") as lock:
        # The first worker seeds; the others wait here, then copy the same file.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.is_file():
            partial = root / "demo-template.partial.duckdb"
            partial.unlink(missing_ok=True)
            _seed_demo(partial)
            # The audit key and checkpoints beside the file move with it (see copy_demo).
            for suffix in (".audit-key", ".audit-checkpoints"):
                side = Path(str(partial) + suffix)
                if side.exists():
                    os.replace(side, str(path) + suffix)
            os.replace(partial, path)
    return path


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the seeded demo database for this test."""
    return copy_demo(demo_template, tmp_path / "demo.duckdb")


@pytest.fixture
def app_env(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app at a private copy of the seeded demo database."""
    monkeypatch.setenv("CALIBRATE_DB", str(demo_db))
    monkeypatch.chdir(ROOT)
    return demo_db


def pytest_sessionstart(session: pytest.Session) -> None:
    """In the controlling process, build the letters' cached base fonts in the background.

    On a fresh machine the first letter costs ~20 s of CPU for them; started here, the
    build is done before the workers need it (and the cache's lock makes the rest wait)."""
    if hasattr(session.config, "workerinput"):
        return

    def warm() -> None:
        try:
            from calibration.letters.pdf import render

            render.warm_fonts()
        except Exception:  # no CJK font here: the letter tests say so themselves
            pass

    threading.Thread(target=warm, name="warm-letter-fonts", daemon=True).start()


def pytest_report_header(config):  # noqa: D103
    return f"CALIBRATE_DB={os.environ.get('CALIBRATE_DB', '(default)')}"


# Files that take longest, started first. Under `make test` (-n 3 --dist loadfile
# --no-loadscope-reorder) a file runs whole on one worker; xdist's default reorder (most
# tests first) started the one-test browser files last, so the end-to-end workshop (the
# longest file) ran alone at the end of the run.
SLOW_FIRST = (
    "tests/browser/test_e2e_workshop.py",
    "tests/browser/test_every_screen.py",
    "tests/browser/test_every_screen_zh.py",
    "tests/browser/test_live_session.py",
    "tests/browser/test_sessions.py",
    "tests/browser/test_presentation.py",
    "tests/browser/test_api_server.py",
    "tests/browser/test_concurrency.py",
    "tests/browser/test_sso.py",
    "tests/browser/test_user_text_browser.py",
    "tests/browser/test_bomb_upload.py",
    "tests/browser/test_idle_board.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the slowest files first (see SLOW_FIRST), other browser files next, then the rest."""
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}

    def order(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        if path in rank:
            return rank[path]
        # A browser file not listed yet is still long (a server, Chromium, waits).
        return len(rank) if path.startswith("tests/browser/") else len(rank) + 1

    items.sort(key=order)  # stable: the order within each file stays as written
