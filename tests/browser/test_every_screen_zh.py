"""Every screen in Chinese: the check of test_every_screen.py, in a file of its own so that
pytest-xdist (--dist loadfile) runs it on another worker beside the English one."""

from __future__ import annotations

import pytest

from tests.browser.test_every_screen import ROLES, check_every_page, screen_server

__all__ = ["screen_server"]  # the module's fixture: one server for this file's tests


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_speaks_the_users_words_in_chinese(screen_server, browser, role: str) -> None:
    """In Chinese: no raw key, no English word outside the allow-list, no outside request."""
    check_every_page(screen_server, browser, role, "zh")
