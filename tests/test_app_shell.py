"""AppTest: sign-in, role-based navigation, every page renders for every role."""

from __future__ import annotations

import pytest

from calibration import access
from calibration.accounts import auth
from calibration.demo.workshop import DEMO_ACCOUNTS
from tests.apptest_helpers import errors, login, new_app
from tests.factories import ROOT

ROLE_USER = {role: name for name, _, role, _ in reversed(DEMO_ACCOUNTS)}


def page_files(role: str) -> list[str]:
    from app import PAGES  # noqa: PLC0415 - import the router's table only

    return [
        PAGES[k][0]
        for k in access.pages_for(auth.User(role, role, role))
        if (ROOT / PAGES[k][0]).exists()
    ]


@pytest.fixture(autouse=True)
def _env(app_env):
    return app_env


def test_sign_in_view_shows_form_and_demo_badge():
    at = new_app()
    assert not at.exception
    assert at.title[0].value == "Calibrate"
    assert any("DEMO" in b.label for b in at.get("badge")) or any(
        "calibrate-demo" in i.value for i in at.info
    )


def test_wrong_password_is_refused_without_traceback():
    at = login("exec", "wrong-password")
    assert "Wrong username or password." in errors(at)
    # Nobody is signed in: no user kept, and the sign-in form is still what is drawn.
    assert "user" not in at.session_state
    assert at.title[0].value == "Calibrate" and at.text_input


def test_chinese_sign_in_error():
    at = login("exec", "wrong-password", lang="zh")
    assert "用户名或密码错误。" in errors(at)


@pytest.mark.parametrize("role", sorted(ROLE_USER))
def test_each_role_sees_exactly_its_pages(role):
    at = login(ROLE_USER[role])
    assert at.session_state["user"].role == role
    expected = page_files(role)
    for path in expected:
        at.switch_page(path)
        at.run()
        assert not at.exception, (path, at.exception)
        assert not errors(at), (path, errors(at))
    hidden = [
        v[0]
        for k, v in __import__("app").PAGES.items()
        if k not in access.pages_for(auth.User(role, role, role)) and (ROOT / v[0]).exists()
    ]
    # Navigation refuses the page; should it be reached anyway, the page refuses too.
    fresh = login(ROLE_USER[role])
    for path in hidden:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            fresh.switch_page(path)
        if expected:
            at.switch_page(expected[0])
            at.run()
            at.switch_page(path)
            at.run()
            assert "This page is not available for your role." in errors(at)


def test_join_link_through_the_router_signs_the_lead_in_once(app_env):
    from calibration.accounts import join
    from calibration.negotiation import service as neg
    from calibration.store import connect
    from tests.apptest_helpers import ROOT as APP_ROOT

    con = connect(app_env)
    cur = con.cursor()
    cycle_id = next(c["id"] for c in neg.list_cycles(cur) if c["status"] == "open")
    [(_, url)] = join.create_join_links(
        cur, auth.load_user(cur, "exec"), cycle_id, "http://x/", ["lead_east"]
    )
    token = url.split("join=", 1)[1]
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP_ROOT / "app.py"), default_timeout=60)
    at.query_params["join"] = token
    at.run()
    assert not at.exception
    assert at.session_state["user"].username == "lead_east"
    assert at.session_state["cycle_id"] == cycle_id
    again = AppTest.from_file(str(APP_ROOT / "app.py"), default_timeout=60)
    again.query_params["join"] = token
    again.run()
    assert not again.exception
    assert "user" not in again.session_state
    assert errors(again), "a used link must be refused with a message"
