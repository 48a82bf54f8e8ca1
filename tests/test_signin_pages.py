"""AppTest: sign-in view, idle expiry, read-only sign-in and the error guard around callbacks."""

from __future__ import annotations

import errno
import logging

import duckdb
import pytest

from calibration.accounts.auth import username_tag
from calibration.demo import workshop as demo
from calibration.negotiation import service as neg
from calibration.store import connect
from tests.apptest_helpers import errors, login, new_app, scoped
from tests.nego_fixtures import ANALYST, EXEC, make_run

SECRET_NAME = "Hunter2-correct-horse-battery"
DISK_FULL = "The disk is full; nothing was saved."


@pytest.fixture
def seeded(app_env):
    """The app's database with the demo accounts and an open cycle."""
    con = connect(app_env)
    cur = con.cursor()
    # app_env is already a copy of the seeded demo (seeding it again cost 10-30 s).
    cid = neg.create_cycle(cur, EXEC, "2026Q1 new customers", "new_customers", "2026Q1", 1200)
    neg.publish_run(cur, ANALYST, cid, make_run(1, {"east": 220.0, "south": 200.0, "north": 180.0}))
    neg.open_cycle(cur, EXEC, cid)
    con.close()
    return app_env, cid


def sign_in(at, username: str, password: str) -> None:
    """Type into the sign-in form and submit."""
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button[0].click()
    at.run()


def via_app(at) -> None:
    """Make later runs go through app.py as the server's do.

    After st.navigation, AppTest reruns the page file alone, without app.py's frame;
    switching to the entry file once makes every later run start at app.py.
    """
    at.run()
    at.switch_page("app.py")
    at.run()
    assert not at.exception, at.exception


def test_idle_expiry_shows_the_sign_in_page_without_an_error(app_env, monkeypatch):
    at = login("exec", lang="zh")
    via_app(at)
    # The stored session's idle limit is now 0 minutes: it has expired by the next run.
    monkeypatch.setenv("CALIBRATE_IDLE_MINUTES", "0")
    at.run()
    assert not at.exception, at.exception
    assert errors(at) == []
    assert at.text_input(key="login_username").label == "用户名"  # the language survives
    assert at.warning, "the person is told the session expired"
    assert "user" not in at.session_state


def test_read_only_mode_lets_people_sign_in_and_read(app_env, monkeypatch):
    monkeypatch.setenv("CALIBRATE_READ_ONLY", "1")
    at = new_app()
    sign_in(at, "analyst", demo.DEMO_PASSWORD)
    assert not at.exception, at.exception
    assert errors(at) == []
    assert at.session_state["user"].username == "analyst"


def test_failed_sign_in_logs_a_hash_of_the_typed_name(app_env, caplog):
    at = new_app()
    with caplog.at_level(logging.INFO, logger="calibrate"):
        sign_in(at, SECRET_NAME, "whatever")
    assert errors(at) == ["Wrong username or password."]
    assert SECRET_NAME not in caplog.text
    assert username_tag(SECRET_NAME) in caplog.text


@pytest.mark.parametrize(
    "fault",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        duckdb.IOException(
            'IO Error: Could not write file "calibrate.duckdb.wal": No space left on device'
        ),
    ],
    ids=["oserror", "duckdb"],
)
def test_a_full_disk_in_a_widget_callback_says_so(seeded, monkeypatch, fault):
    at = login("lead_east")  # My region is a lead's first page
    via_app(at)

    def full_disk(*args, **kwargs):
        raise fault

    monkeypatch.setattr(neg, "add_comment", full_disk)
    at.text_area(key=scoped(at, "nego_comment")).input("Pipeline review on Monday.")
    next(b for b in at.button if b.label == "Post").click()
    at.run()
    assert not at.exception, at.exception
    assert DISK_FULL in errors(at)
    assert at.text_area(key=scoped(at, "nego_comment")).label  # still on My region
