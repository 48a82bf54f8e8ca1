"""Faults seen by a user: a held database file, a read-only database, a corrupt upload."""

from __future__ import annotations

import subprocess
import sys

from tests.apptest_helpers import errors, login, new_app, scoped
from tests.factories import ROOT


def test_database_held_by_another_process_gives_a_clear_message(app_env):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, duckdb; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
            " sys.stdin.read()",
            str(app_env),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        at = new_app()
        assert not at.exception
        assert any("in use by another program" in e for e in errors(at)), errors(at)
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)


def test_read_only_database_refuses_writes_with_a_message(app_env, monkeypatch):
    monkeypatch.setenv("CALIBRATE_READ_ONLY", "1")
    # Signing in works on a read-only file (the attempt is not written) ...
    at = new_app()
    at.text_input(key="login_username").input("lead_east")
    at.text_input(key="login_password").input("calibrate-demo")
    at.button[0].click()
    at.run()
    assert not at.exception and not errors(at), errors(at)
    # ... and a write from a callback gets the plain message through the app's guard.
    at.run()
    at.switch_page("app.py")  # later runs start at app.py, as the server's do
    at.run()
    at.text_area(key=scoped(at, "nego_comment")).input("Pipeline review on Monday.")
    next(b for b in at.button if b.label == "Post").click()
    at.run()
    assert not at.exception
    assert any("could not save this change" in e for e in errors(at)), errors(at)


def test_corrupt_upload_is_refused_with_a_message(app_env):
    at = login("analyst")
    at.switch_page("pages/data.py")
    at.run()
    uploader = at.get("file_uploader")
    if not uploader:
        import pytest

        pytest.skip("this Streamlit's AppTest exposes no file_uploader")
    uploader[0].upload("history.xlsx", b"PK\x03\x04not really a workbook", "application/zip")
    at.run()
    assert not at.exception
    assert any("refused" in e for e in errors(at)), errors(at)
