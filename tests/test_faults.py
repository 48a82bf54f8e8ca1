"""Faults: a writer killed mid-burst loses no acknowledged submission; clear messages on errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from calibration.accounts import auth
from calibration.cli import main as cli_main
from calibration.negotiation import service as negotiation
from calibration.store import connect
from tests.factories import ROOT

pytestmark = pytest.mark.slow


def test_sigkill_mid_burst_keeps_every_acknowledged_submission(demo_db):
    con = connect(demo_db)
    cycle_id = next(c["id"] for c in negotiation.list_cycles(con.cursor()) if c["status"] == "open")
    con.close()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "fault_worker.py"), str(demo_db), str(cycle_id)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    acked = []
    try:
        while len(acked) < 40:
            line = proc.stdout.readline()
            if not line:
                pytest.fail(f"worker stopped early: {proc.stderr.read()[-2000:]}")
            acked.append(int(line.split()[1]))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    con = connect(demo_db)
    cur = con.cursor()
    report = negotiation.verify_chain(cur)
    assert report.ok, report
    stored = {
        r["id"] for r in negotiation.decision_log(cur, auth.SYSTEM, cycle_id).to_dict("records")
    }
    assert set(acked) <= stored
    con.close()
    assert cli_main(["audit", "verify", "--db", str(demo_db)]) == 0
