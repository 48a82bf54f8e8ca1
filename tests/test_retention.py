"""Retention of access records (calibration/accounts/retention.py): old API calls, sign-in
attempts and identities, sessions, drafts and finished deliveries are forgotten; decisions,
notifications, pending deliveries and the audit chain are not."""

from __future__ import annotations

import asyncio
import concurrent.futures
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from calibration import events
from calibration.accounts import retention
from tests.factories import ROOT

NOW = datetime(2026, 11, 30, 12, 0)
OLD = NOW - timedelta(days=500)
RECENT = NOW - timedelta(days=10)


def _seed(cur) -> None:
    """One old and one recent row in every table retention looks at (and an old pending
    delivery, which must stay)."""
    for n, at in enumerate((OLD, RECENT)):
        cur.execute(
            "INSERT INTO api_calls VALUES (?, 'erp', 'POST', '/api/v1/import/actuals', 200, 10, 1.5)",
            [at],
        )
        cur.execute("INSERT INTO login_attempts VALUES ('exec', ?, false)", [at])
        cur.execute("INSERT INTO sso_sign_ins VALUES (?, 'sso#x', 'exec', 'ok', ?)", [f"t{n}", at])
        cur.execute(
            "INSERT INTO sessions (session_id, username, method, created_at, last_seen_at)"
            " VALUES (?, 'exec', 'password', ?, ?)",
            [f"s{n}", at, at],
        )
        cur.execute("INSERT INTO drafts VALUES ('exec', ?, '{}', NULL, ?)", [f"f{n}", at])
        for status, base in (("sent", 100), ("failed", 200), ("pending", 300)):
            cur.execute(
                "INSERT INTO deliveries VALUES (?, 1, 'email', 'a@b.example', 'en', ?, ?, 1, ?,"
                " NULL, ?, NULL)",
                [base + n, f"k{base + n}", status, at, at],
            )


def _counts(cur) -> dict[str, int]:
    return {
        t: cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in (*retention.TABLES, "events", "notifications")
    }


def test_old_access_records_are_forgotten_and_everything_else_kept(cur):
    _seed(cur)
    before = _counts(cur)
    forgotten = retention.prune(cur, 400, now=NOW)
    assert forgotten == {
        "api_calls": 1,
        "login_attempts": 1,
        "sso_sign_ins": 1,
        "sessions": 1,
        "drafts": 1,
        "deliveries": 2,  # the old sent and failed ones; the old pending one stays
    }
    after = _counts(cur)
    assert {t: before[t] - after[t] for t in after} == {
        **forgotten,
        "events": 0,
        "notifications": 0,
    }
    # What is left is what came recently (and the delivery still waiting to be sent).
    assert cur.execute("SELECT min(called_at) FROM api_calls").fetchone()[0] >= RECENT
    statuses = cur.execute(
        "SELECT status FROM deliveries WHERE created_at = ? ORDER BY status", [OLD]
    ).fetchall()
    assert statuses == [("pending",)]
    # The audit chain does not cover these tables: it still verifies.
    assert events.verify(cur).ok


def test_a_dry_run_counts_and_changes_nothing(cur):
    _seed(cur)
    before = _counts(cur)
    assert retention.prune(cur, 400, now=NOW, dry_run=True)["deliveries"] == 2
    assert _counts(cur) == before


def test_retention_of_less_than_a_day_is_refused(cur):
    with pytest.raises(ValueError):
        retention.prune(cur, 0, now=NOW)


def test_the_servers_housekeeper_follows_the_setting(con, monkeypatch):
    cur = con.cursor()
    _seed(cur)
    keeper = retention.Housekeeper(lambda: con)
    monkeypatch.setenv("CALIBRATE_RETENTION_DAYS", "0")
    assert keeper.run_once() is None  # off: nothing forgotten
    assert cur.execute("SELECT count(*) FROM api_calls").fetchone()[0] == 2
    monkeypatch.setenv("CALIBRATE_RETENTION_DAYS", "400")
    assert keeper.run_once()["api_calls"] == 1


def test_cli_prune_reports_per_table(db_path, con):
    _seed(con.cursor())
    con.close()
    out = subprocess.run(
        [sys.executable, "-m", "calibration", "prune", "--days", "400", "--db", str(db_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "forgot access records older than 400 days: api_calls 1," in out.stdout
    assert "deliveries 2" in out.stdout


def test_the_servers_lifespan_runs_the_housekeeper_beside_the_notify_worker(con):
    from calibration.notify import worker as notify_worker

    async def serve() -> dict:
        lifespan = retention.lifespan(lambda: con, notify_worker.lifespan(lambda: con))
        async with lifespan(None) as state:
            assert state["housekeeper"].alive
            return state

    # On a thread of its own: a browser test earlier in this worker may have left an event
    # loop running on this one (Playwright's sync API), where asyncio.run is refused.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        state = pool.submit(asyncio.run, serve()).result(timeout=60)
    assert "notify_worker" in state  # the inner lifespan's state is passed on
    assert not state["housekeeper"].alive  # stopped with the server
