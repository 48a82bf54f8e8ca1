"""AppTest: sign-in, role-based navigation, every page renders for every role."""

from __future__ import annotations

import pytest

from calibration import auth
from calibration.demo import DEMO_ACCOUNTS
from tests.apptest_helpers import errors, login, new_app
from tests.factories import ROOT

ROLE_USER = {role: name for name, _, role, _ in reversed(DEMO_ACCOUNTS)}


def page_files(role: str) -> list[str]:
    from app import PAGES  # noqa: PLC0415 - import the router's table only

    return [PAGES[k][0] for k in auth.pages_for(role) if (ROOT / PAGES[k][0]).exists()]


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
    assert at.session_state["user"] if "user" in at.session_state else True


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
        if k not in auth.pages_for(role) and (ROOT / v[0]).exists()
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
