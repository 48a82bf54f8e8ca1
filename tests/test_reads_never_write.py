"""Issue 12, reads never write: opening Letters or Tracking (twice) changes no table."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from calibration.accounts.auth import SYSTEM
from calibration.data import importer
from calibration.demo import workshop as demo
from calibration.demo.workshop import init_database
from calibration.letters import service as letters
from calibration.negotiation import service as neg
from calibration.store import connect
from calibration.store.core import table_row_counts
from calibration.tracking import service as ts
from tests.apptest_helpers import login
from tests.factories import ROOT, copy_demo, write_small_demo
from tests.tracking_fixtures import TARGETS, actuals_csv, negotiated_cycle


def _open_twice(username: str, page: str, db: Path, cycle_id: int) -> tuple[dict, dict]:
    """Row counts of every table after sign-in, and after two visits of page."""
    at = login(username)
    at.session_state["cycle_id"] = cycle_id
    cur = connect(db).cursor()  # same process as the AppTest: the open database is shared
    before = table_row_counts(cur)
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    at.run()
    assert not at.exception, at.exception
    return before, table_row_counts(cur)


def test_opening_letters_after_a_regions_import_writes_nothing(app_env):
    cur = connect(app_env).cursor()
    (cycle,) = [c for c in neg.list_cycles(cur) if c["status"] in letters.LETTER_STATUSES]
    regions = sorted(neg.cycle_state(cur, cycle["id"])["region"])
    # Every region of the signed cycle renamed and given another parent after the lock.
    rows = "".join(f"{r},{r.title()} Renamed,{r}区,elsewhere\n" for r in regions)
    importer.import_bytes(
        cur, SYSTEM, "regions", "regions.csv", f"region,name,name_zh,parent\n{rows}".encode()
    )
    for username in ("exec", f"lead_{regions[0]}"):
        before, after = _open_twice(username, "pages/letters.py", app_env, cycle["id"])
        assert after == before, {k: (before[k], after[k]) for k in after if after[k] != before[k]}


@pytest.fixture(scope="module")
def unevaluated_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """Small demo data, a locked cycle, then five weeks of actuals imported without any
    evaluation (as the importer alone does); built once, copied per test."""
    base = tmp_path_factory.mktemp("unevaluated")
    path = base / "seed.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CALIBRATE_DEMO_DIR", str(write_small_demo(base / "small")))
        mp.setattr(demo, "seed_features", lambda cur: [])
        con = connect(path)
        try:
            cur = con.cursor()
            init_database(cur)
            cycle_id = negotiated_cycle(cur, TARGETS)
            data = actuals_csv(date(2026, 1, 1), 35, {"east": 6, "south": 5})
            importer.import_bytes(cur, SYSTEM, "actuals", "q1.csv", data.encode())
        finally:
            con.close()
    return path, cycle_id


@pytest.fixture
def unevaluated(
    unevaluated_file: tuple[Path, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, int]:
    """This test's copy of unevaluated_file, where the app will open it."""
    seed, cycle_id = unevaluated_file
    path = copy_demo(seed, tmp_path / "app.duckdb")
    monkeypatch.setenv("CALIBRATE_DB", str(path))
    monkeypatch.chdir(ROOT)
    return path, cycle_id


def test_visiting_tracking_records_no_escalation(unevaluated):
    db, cycle_id = unevaluated
    before, after = _open_twice("exec", "pages/tracking.py", db, cycle_id)
    assert after == before, {k: (before[k], after[k]) for k in after if after[k] != before[k]}
    # There was something to record: the explicit evaluation records it.
    result = ts.evaluate(connect(db).cursor(), SYSTEM, cycle_id)
    assert result.recorded > 0


def test_tracking_evaluate_cli_records_every_live_cycle(unevaluated):
    db, cycle_id = unevaluated
    run = subprocess.run(
        [sys.executable, "-m", "calibration", "tracking", "evaluate", "--db", str(db)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    assert "0 new event(s)" not in run.stdout and "new event(s)" in run.stdout
    con = connect(db)
    try:
        assert len(ts.events(con.cursor(), SYSTEM, cycle_id)) > 0
    finally:
        con.close()
    again = subprocess.run(
        [sys.executable, "-m", "calibration", "tracking", "evaluate", "--db", str(db)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert "0 new event(s), 0 notification(s)" in again.stdout
