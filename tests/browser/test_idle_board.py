"""Real browser: an idle live board signs itself out when the session expires (issue 13)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import Server, _need_browser
from tests.browser.steps import new_person
from tests.factories import copy_demo

pytestmark = pytest.mark.browser


@pytest.fixture
def idle_server(tmp_path: Path, demo_template: Path) -> Iterator[Server]:
    """A server whose sessions expire after 20 idle seconds (the board ticks every 3 s)."""
    _need_browser()
    env = dict(os.environ)
    db = copy_demo(demo_template, tmp_path / "idle.duckdb")
    env.update(CALIBRATE_DB=str(db), CALIBRATE_IDLE_MINUTES="0.33")
    srv = Server(db, env)
    srv.start()
    yield srv
    srv.stop()


def test_an_idle_board_stops_polling_and_shows_sign_in_without_error(idle_server, browser, shot):
    context, board = new_person(browser, idle_server.url, "exec")
    try:
        board.get_by_role("heading", name="Live board").first.wait_for()
        # Nobody touches the board: the tick alone must notice the expiry and leave the
        # board for the sign-in page (before the fix it kept polling for ever).
        board.get_by_label("Username").wait_for(timeout=150_000)
        shot(board, "idle_01_signed_out")
        assert board.get_by_text("session expired", exact=False).first.is_visible()
        assert not board.get_by_text("Something went wrong").count()
        assert not board.get_by_role("heading", name="Live board").count()
        assert not board.locator("[data-testid='stException']").count()
    finally:
        context.close()
