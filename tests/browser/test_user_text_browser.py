"""Real browser: hostile Markdown and HTML in names and answers (`<img onerror=alert(1)>`,
links, images, bold) show as literal text and never run, for the executive, the lead and
the HRBP; tables with user text offer no built-in CSV download (it would carry formulas to a
spreadsheet)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import Server, _need_browser, wait_idle
from tests.browser.steps import new_person
from tests.factories import copy_demo
from tests.user_text_fixtures import HOSTILE, make_hostile

pytestmark = pytest.mark.browser

WORD_JOINER = "\u2060"  # plain() puts one before "http" so GFM does not link a bare URL


@pytest.fixture(scope="module")
def hostile_server(
    tmp_path_factory: pytest.TempPathFactory, demo_template: Path
) -> Iterator[Server]:
    """An app server on a copy of the demo whose user-typed fields are HOSTILE (shared by
    this module's tests, which only read)."""
    _need_browser()
    db = copy_demo(demo_template, tmp_path_factory.mktemp("hostile") / "hostile.duckdb")
    make_hostile(db)  # before the server opens the file (one process per DuckDB file)
    srv = Server(db, {**os.environ, "CALIBRATE_DB": str(db)}, people=("lead_east", "exec", "hrbp"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def dialogs() -> list[str]:
    """Every alert/confirm any page of the module opened (an onerror handler that ran)."""
    return []


@pytest.fixture(scope="module")
def lead_east(hostile_server: Server, browser, dialogs) -> Iterator:
    """East's lead on My region, signed in once for the module's tests (which only read)."""
    ctx, lead = new_person(browser, hostile_server.url, "lead_east", dialogs=dialogs)
    try:
        lead.get_by_text("My region:").first.wait_for()
        yield lead
    finally:
        ctx.close()


def _assert_inert(page, app: str) -> None:
    """No link or image to another host, no colour span, and the literal text is visible."""
    host = urlsplit(app).netloc
    hrefs = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
    assert [h for h in hrefs if urlsplit(h).netloc not in ("", host)] == [], hrefs
    srcs = page.evaluate("() => [...document.querySelectorAll('img')].map(i => i.src)")
    assert [
        s for s in srcs if urlsplit(s).scheme in ("http", "https") and urlsplit(s).netloc != host
    ] == [], srcs
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("strong", has_text="bold").count() == 0
    assert page.locator("b", has_text="bold").count() == 0
    main = page.locator("[data-testid='stMain']").inner_text().replace(WORD_JOINER, "")
    assert HOSTILE in main


def test_inbox_my_region_and_review_show_hostile_text_that_never_runs(
    hostile_server, lead_east, browser, dialogs, shot
) -> None:
    exec_ctx, ex = new_person(browser, hostile_server.url, "exec", dialogs=dialogs)
    try:
        ex.get_by_role("link", name=re.compile(r"^Inbox")).first.click()  # "Inbox (N)"
        wait_idle(ex)
        ex.get_by_text("submitted a root cause").first.wait_for()
        shot(ex, "user_text_01_exec_inbox")
        _assert_inert(ex, hostile_server.url)
    finally:
        exec_ctx.close()
    shot(lead_east, "user_text_02_lead_my_region")
    _assert_inert(lead_east, hostile_server.url)
    # East's proposal is far below the suggestion: the HRBP reviews its hostile
    # justification, support and risk, each as plain text.
    hr_ctx, hr = new_person(browser, hostile_server.url, "hrbp", dialogs=dialogs)
    try:
        hr.get_by_role("heading", name="Review queue").first.wait_for()
        shown = hr.get_by_text(HOSTILE, exact=True)
        shown.first.wait_for()
        assert shown.count() >= 3
        shot(hr, "user_text_04_review_queue")
        _assert_inert(hr, hostile_server.url)
        hr.wait_for_timeout(1000)  # an onerror handler would have fired by now
    finally:
        hr_ctx.close()
    assert dialogs == []


def test_tables_with_user_text_offer_no_builtin_csv_download(lead_east, shot) -> None:
    lead = lead_east
    grid = lead.locator("[data-testid='stDataFrame']").first
    grid.scroll_into_view_if_needed()
    grid.hover()
    wait_idle(lead)
    # The toolbar is drawn on hover; its other actions show it is there.
    lead.get_by_role("button", name="Search").first.wait_for()
    shot(lead, "user_text_03_grid_toolbar")
    assert lead.get_by_role("button", name="Download as CSV").count() == 0
