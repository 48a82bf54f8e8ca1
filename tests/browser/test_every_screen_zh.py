"""Every screen of the lead and the analyst, in English and Chinese: the check of
test_every_screen.py, in a file of its own so that pytest-xdist (--dist loadfile) runs it
on another worker beside the executive's, the HRBP's and the administrator's."""

from __future__ import annotations

import pytest

from tests.browser.test_every_screen import THERE, check_every_page, screen_server

__all__ = ["screen_server"]  # the module's fixture: one server for this file's tests

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("role", THERE)
def test_every_page_speaks_the_users_words_in_both_languages(
    screen_server, browser, role: str
) -> None:
    """No raw key, no English word on a Chinese page, no outside request."""
    check_every_page(screen_server, browser, role)
