"""No page asks any host but the app's own: company networks often block the internet.

Every request of the browser is recorded from the sign-in page through the board and My
region; requests to other hosts are aborted (so the test runs offline) and fail the test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from calibration.i18n import t
from tests.browser.conftest import Server, _need_browser, open_page, sign_in
from tests.browser.steps import DESKTOP
from tests.factories import copy_demo

pytestmark = pytest.mark.browser

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory, demo_template: Path) -> Iterator[Server]:
    """The demo workshop on a server of this module's own."""
    _need_browser()
    db = copy_demo(demo_template, tmp_path_factory.mktemp("offline") / "demo.duckdb")
    srv = Server(db, {**os.environ, "CALIBRATE_DB": str(db)})
    srv.start()
    yield srv
    srv.stop()


def watch(context) -> list[str]:
    """Record every request of the context; abort those to any other host."""
    outside: list[str] = []

    def route(r) -> None:
        if urlsplit(r.request.url).hostname in LOOPBACK or r.request.url.startswith("data:"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return outside


def test_no_request_leaves_the_machine(demo_server, browser) -> None:
    # One language: icons, fonts and the favicon are the same in both.
    lang = "en"
    seen: list[str] = []
    for username, pages in (("exec", ["board", "tracking"]), ("lead_east", ["my_region"])):
        context = browser.new_context(viewport=DESKTOP)
        try:
            outside = watch(context)
            page = context.new_page()
            page.on("request", lambda r: seen.append(r.url))
            sign_in(page, demo_server.url, username, lang=lang)
            for key in pages:
                open_page(page, t(f"page.{key}", lang))
                # Icons, fonts and the favicon load after the script has finished.
                page.wait_for_load_state("networkidle")
            assert not outside, f"{username} ({lang}) asked outside hosts: {sorted(set(outside))}"
        finally:
            context.close()
    # The recorder saw the app itself (the test would pass vacuously otherwise).
    assert any(urlsplit(u).hostname in LOOPBACK for u in seen)
