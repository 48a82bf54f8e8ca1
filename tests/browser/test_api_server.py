"""Issue 17 (part A) on the real path: `streamlit run server.py` serves the API beside the app.

While an analyst's browser session stays open on the Data page, the CLI imports actuals and
takes an online backup through `--server`; the backup restores and verifies; the page keeps
working and says the actuals were refreshed by the API token. Without --server, the CLI
still gets the plain "in use" message, now with the way to go through the server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from calibration import events
from calibration.accounts.auth import SYSTEM
from calibration.api import tokens
from calibration.store import connect
from tests.browser.conftest import Server, _need_browser, wait_idle
from tests.browser.steps import new_person
from tests.factories import ROOT, copy_demo

pytestmark = pytest.mark.browser


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "calibration", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def api_server(tmp_path_factory, demo_template: Path) -> Iterator[tuple[Server, dict[str, str]]]:
    """A server on a demo copy with tokens made before it started (it then holds the file)."""
    _need_browser()
    tmp = tmp_path_factory.mktemp("api-server")
    db = copy_demo(demo_template, tmp / "served.duckdb")
    con = connect(db)
    made = {
        scope: tokens.add_token(con.cursor(), SYSTEM, f"nightly-{scope}", [scope])
        for scope in ("import", "backup", "audit")
    }
    con.close()
    env = {**os.environ, "CALIBRATE_DB": str(db)}
    srv = Server(db, env, people=("analyst",))
    srv.start()
    yield srv, made
    srv.stop()


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def test_cli_through_the_server_while_a_browser_session_keeps_working(
    api_server, browser, tmp_path: Path, shot
) -> None:
    srv, made = api_server
    status, kind, body = _get(f"{srv.url}/api/v1/health")
    assert status == 200 and json.loads(body)["database"] == "ok"
    # Streamlit would answer an unknown path with its page and 200; the API answers JSON.
    status, kind, body = _get(f"{srv.url}/api/v1/nope")
    assert (status, kind) == (404, "application/json")

    ctx, page = new_person(browser, srv.url, "analyst")
    try:
        page.get_by_role("link", name="Data", exact=True).first.click()
        wait_idle(page)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CALIBRATE_")}
        env["CALIBRATE_DB"] = str(srv.db)

        held = _cli("cycles", env=env)
        assert held.returncode == 3, held
        assert "in use by another program" in held.stderr and "--server" in held.stderr

        remote = ["--server", srv.url]
        actuals = tmp_path / "crm-actuals.csv"
        actuals.write_text("region,date,metric,value\neast,2026-02-20,new_customers,4\n")
        done = _cli("import", "actuals", str(actuals), *remote, "--token", made["import"], env=env)
        assert done.returncode == 0, done.stderr
        assert "crm-actuals.csv: 1 actuals rows — " in done.stdout

        folder = tmp_path / "online-backup"
        done = _cli("backup", "--out", str(folder), *remote, "--token", made["backup"], env=env)
        assert done.returncode == 0, done.stderr

        # The open session still works after both calls: its next run sees the import.
        page.get_by_role("link", name="Data", exact=True).first.click()
        wait_idle(page)
        page.get_by_role("tab", name="Sources").click()
        wait_idle(page)
        page.get_by_text("by API token nightly-import").first.wait_for(timeout=60_000)
        shot(page, "api_server_data_page_after_cli_import")
    finally:
        ctx.close()

    restored = tmp_path / "restored.duckdb"
    done = _cli(
        "restore",
        str(folder),
        "--db",
        str(restored),
        "--key-file",
        str(events.key_path(srv.db)),
        env=env,
    )
    assert done.returncode == 0, done.stderr
    done = _cli("audit", "verify", "--db", str(restored), env=env)
    assert done.returncode == 0 and done.stdout.startswith("OK, "), done.stderr
    con = connect(restored)
    try:
        (files,) = con.execute(
            "SELECT count(*) FROM sources WHERE file_name = 'crm-actuals.csv'"
        ).fetchone()
        assert files == 1  # the import made through the server is in the backup
    finally:
        con.close()
    done = _cli(
        "audit", "verify", "--backup", str(folder), *remote, "--token", made["audit"], env=env
    )
    assert done.returncode == 0 and done.stdout.startswith("OK, "), done.stderr
