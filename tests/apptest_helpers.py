"""Helpers for Streamlit AppTest runs of app.py."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from calibration.demo.workshop import DEMO_PASSWORD
from tests.factories import ROOT

TIMEOUT = 60


def new_app() -> AppTest:
    """An AppTest of the entry file, run once (the sign-in view)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    return at


def login(username: str, password: str = DEMO_PASSWORD, lang: str = "en") -> AppTest:
    """An AppTest signed in as username."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    at.run()
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button[0].click()
    at.run()
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> list[str]:
    """Texts of the error messages on the page."""
    return [e.value for e in at.error]


def scoped(at: AppTest, name: str) -> str:
    """The session key of a widget whose key is scoped by cycle and region (My region)."""
    return next(k for k in at.session_state if str(k).startswith(f"{name}_"))
