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


def place(at: AppTest, key: str) -> tuple[int, ...] | None:
    """Where the widget with key sits: its index in each block on the way from the page.

    The browser keeps a widget (and what is being typed in it) only while every block on
    that way keeps its index; see tests/browser/test_typing_race.py.
    """

    def walk(node, path: tuple[int, ...]) -> tuple[int, ...] | None:
        for index, child in getattr(node, "children", {}).items():
            if getattr(child, "key", None) == key:
                return (*path, index)
            found = walk(child, (*path, index))
            if found is not None:
                return found
        return None

    return walk(at.main, ())
