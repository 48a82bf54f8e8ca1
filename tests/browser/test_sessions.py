"""Real browser (issue 16): a sign-in that survives reloads, tabs and dropped connections;
drafts that survive a reload; sign-out and revocation reach every tab; the cookie.

One server for the module (each test signs in its own people in their own contexts).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.conftest import Server, _need_browser, enter_as, number_text, sign_in, wait_idle
from tests.browser.steps import DESKTOP, enter
from tests.factories import copy_demo

pytestmark = pytest.mark.browser
ENDED = "Your session ended"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory, demo_template: Path) -> Iterator[Server]:
    """One app server on a private copy of the demo for the whole module."""
    _need_browser()
    db = copy_demo(demo_template, tmp_path_factory.mktemp("sessions") / "sessions.duckdb")
    # Each person who signs out or is revoked here appears in one test only (a shared session).
    people = ("exec", "lead_north", "lead_east", "lead_south", "admin")
    server = Server(db, {**os.environ, "CALIBRATE_DB": str(db)}, people=people)
    server.start()
    yield server
    server.stop()


def _signed_in(page) -> None:
    """The page shows the app (the sign-out button), not the sign-in form."""
    page.get_by_role("button", name="Sign out").wait_for(timeout=30_000)
    wait_idle(page)
    assert not page.get_by_label("Username").count()


def _open(page, title: str, path: str) -> None:
    """Open a page from the sidebar and wait until the browser is on it."""
    page.get_by_role("link", name=title, exact=True).click()
    page.wait_for_url(f"**/{path}", timeout=30_000)
    wait_idle(page)


def _reload(page) -> None:
    page.reload()
    wait_idle(page)


def _state(srv: Server, page) -> str:
    """What a failed assertion should show: the page's cycle, draft notes and server errors."""
    notes = [
        t
        for t in page.locator("[data-testid='stCaptionContainer']").all_inner_texts()
        if "Draft" in t
    ]
    try:
        sidebar = page.locator("[data-testid='stSidebar']").inner_text(timeout=2_000)
    except PlaywrightTimeout:
        sidebar = "(no sidebar)"
    cycle = " | ".join(line for line in sidebar.splitlines() if line.strip())[:300]
    errors = [line for line in srv.log.read_text(errors="replace").splitlines() if "Error" in line]
    return f"url={page.url} sidebar={cycle!r} notes={notes} server errors={errors[-8:]}"


def _has_value(srv: Server, page, label: str, value: str) -> None:
    """The text box shows value (the page may still be drawing it)."""
    box = page.get_by_role("textbox", name=label, exact=True)
    try:
        expect(box).to_have_value(value, timeout=15_000)
    except AssertionError as exc:
        raise AssertionError(f"{label}: {box.input_value()!r}; {_state(srv, page)}") from exc


def _respond_tab(page):
    page.get_by_role("tab", name="Respond").click()
    form = page.locator(".st-key-board_respond_form")
    form.wait_for(timeout=30_000)
    wait_idle(page)
    return form


def _pick(page, scope, label: str, text: str, exact: bool = False) -> None:
    """Pick an option of a selectbox by typing to filter it (again if a rerun closed it)."""
    for _ in range(3):
        scope.get_by_label(label).first.click()
        page.keyboard.type(text)
        option = page.get_by_role("option", name=text, exact=exact).first
        try:
            option.wait_for(timeout=10_000)
            option.click()
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    wait_idle(page)


def _choose_region(page, form, name: str) -> None:
    """Pick a region in the Respond form."""
    _pick(page, form, "Region", name, exact=True)


def test_reload_second_tab_and_dropped_connection_keep_the_person_on_their_page(srv, browser):
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        enter_as(page, srv.url, "exec")
        _open(page, "Tracking", "tracking")
        _reload(page)
        _signed_in(page)
        assert page.url.endswith("/tracking")
        # A second tab of the same browser opens signed in.
        other = context.new_page()
        other.goto(f"{srv.url}/tracking")
        _signed_in(other)
        other.close()
        # The connection drops for good: the server restarts (every Streamlit session in
        # memory is gone). The first visit after the restart opens a bookmarked page: the
        # app's router draws it (it ran the page file alone, a blank page, before).
        srv.stop()
        srv.start()
        bookmark = context.new_page()
        bookmark.goto(f"{srv.url}/letters")
        _signed_in(bookmark)
        expect(bookmark.get_by_role("heading", name="Consensus letters")).to_be_visible()
        bookmark.close()
        # The page reconnects by itself and is still signed in, still there.
        page.get_by_role("button", name="Sign out").wait_for(timeout=60_000)
        _signed_in(page)
        assert page.url.endswith("/tracking")
        _open(page, "Letters", "letters")  # and it answers the next action as the same person
        _signed_in(page)
    finally:
        context.close()


def test_signing_in_sets_an_httponly_cookie_without_loading_the_page_again(srv, browser):
    """A page load costs seconds on a slow laptop: the cookie is set in the background
    (HttpOnly, SameSite=Lax, for the whole site)."""
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto(f"{srv.url}/?lang=en")
        page.get_by_label("Username").fill("lead_central")
        page.get_by_label("Password", exact=True).fill("calibrate-demo")
        page.evaluate("window.__same_document = true")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("button", name="Sign out").wait_for(timeout=30_000)
        page.wait_for_function(
            "() => performance.getEntriesByType('resource').some("
            "e => e.name.endsWith('/auth/session'))",
            timeout=30_000,
        )
        wait_idle(page)
        assert page.evaluate("window.__same_document === true")
        # Out of the page's scripts' reach, sent only to this site's own requests.
        (cookie,) = [c for c in context.cookies() if c["name"] == "calibrate_session"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
        assert "calibrate_session" not in page.evaluate("document.cookie")
        assert cookie["value"] not in page.content()
        _reload(page)  # and the cookie it set keeps the person signed in
        _signed_in(page)
    finally:
        context.close()


def test_a_half_typed_proposal_survives_a_reload_and_keeps_its_stale_check(srv, browser):
    lead_ctx = browser.new_context(viewport=DESKTOP)
    exec_ctx = browser.new_context(viewport=DESKTOP)
    try:
        lead = lead_ctx.new_page()
        enter_as(lead, srv.url, "lead_north")
        typed = "Two renewals slipped into Q2; half-typed before the Wi-Fi dropped"
        # Nothing typed yet, so nothing kept yet: the note below is this field's save.
        assert not lead.get_by_text("Draft saved at", exact=False).count(), _state(srv, lead)
        box = lead.get_by_role("textbox", name="Justification", exact=True)
        box.fill(typed)
        box.press("Tab")  # leaving the field sends it (and saves the draft)
        # The form says when the draft was kept: only then is a reload safe.
        lead.get_by_text("Draft saved at", exact=False).wait_for(timeout=30_000)
        # A new tab of the same browser finds it, as the reloaded one must.
        other = lead_ctx.new_page()
        other.goto(lead.url)
        _signed_in(other)
        _has_value(srv, other, "Justification", typed)
        other.close()
        _reload(lead)
        _signed_in(lead)
        _has_value(srv, lead, "Justification", typed)
        assert lead.get_by_text("Draft restored", exact=False).count()
        # The region changes after the draft was typed: the executive counters North.
        board = exec_ctx.new_page()
        enter_as(board, srv.url, "exec")
        form = _respond_tab(board)
        _choose_region(board, form, "North")
        form.get_by_text("Counter with another number", exact=True).click()
        enter(board, form.get_by_label("Counter value"), "175")
        enter(
            board, form.get_by_label("Reason (required for a counter)"), "Pipeline supports more."
        )
        form.get_by_role("button", name="Send response").click()
        board.get_by_text("Response recorded for North.").wait_for(timeout=30_000)
        # The restored draft is still bound to what the lead saw when typing it.
        _reload(lead)
        _signed_in(lead)
        enter(lead, lead.get_by_role("textbox", name="Support needed", exact=True), "One more AE")
        enter(
            lead, lead.get_by_role("textbox", name="Risk", exact=True), "A key renewal is in doubt"
        )
        lead.get_by_role("button", name="Submit proposal").click()
        lead.get_by_text("North changed", exact=False).first.wait_for(timeout=30_000)
    finally:
        lead_ctx.close()
        exec_ctx.close()


def test_a_half_typed_counter_survives_a_reload_and_is_cleared_when_sent(srv, browser):
    context = browser.new_context(viewport=DESKTOP)
    try:
        board = context.new_page()
        enter_as(board, srv.url, "exec")
        form = _respond_tab(board)
        _choose_region(board, form, "South")
        form.get_by_text("Counter with another number", exact=True).click()
        wait_idle(board)
        form.get_by_label("Counter value").fill("205")
        reason = form.get_by_label("Reason (required for a counter)")
        reason.fill("Half-typed: the south pipeline")
        reason.press("Tab")
        wait_idle(board)
        form.get_by_text("Draft saved at", exact=False).wait_for(timeout=30_000)
        _reload(board)
        _signed_in(board)
        form = _respond_tab(board)
        # A restored widget mounts empty and takes its value an instant later: wait for it.
        expect(form.get_by_label("Counter value")).to_have_value(number_text("205"), timeout=15_000)
        expect(form.get_by_label("Reason (required for a counter)")).to_have_value(
            "Half-typed: the south pipeline", timeout=15_000
        )
        form.get_by_role("button", name="Send response").click()
        # South: the region the restored draft was typed for.
        board.get_by_text("Response recorded for South.").wait_for(timeout=30_000)
        _reload(board)
        form = _respond_tab(board)
        wait_idle(board)
        assert form.get_by_label("Reason (required for a counter)").input_value() == ""
    finally:
        context.close()


def test_sign_out_in_one_tab_ends_the_other_on_its_next_action(srv, browser):
    context = browser.new_context(viewport=DESKTOP)
    try:
        first = context.new_page()
        enter_as(first, srv.url, "lead_east")
        second = context.new_page()
        second.goto(f"{srv.url}/tracking")
        _signed_in(second)
        first.get_by_role("button", name="Sign out").click()
        first.get_by_label("Username").wait_for(timeout=30_000)
        assert not [c for c in context.cookies() if c["name"] == "calibrate_session"]
        # The other tab still shows the page until its next action, which signs it out.
        second.get_by_role("link", name="Letters", exact=True).click()
        second.get_by_label("Username").wait_for(timeout=30_000)
        second.get_by_text(f"{ENDED}: you signed out in another tab").wait_for()
        _reload(second)  # and a reload stays signed out, without the message again
        second.get_by_label("Username").wait_for(timeout=30_000)
        assert not second.get_by_text(ENDED).count()
    finally:
        context.close()


def test_an_administrator_revokes_a_session_and_it_returns_to_sign_in(srv, browser):
    lead_ctx = browser.new_context(viewport=DESKTOP)
    admin_ctx = browser.new_context(viewport=DESKTOP)
    try:
        lead = lead_ctx.new_page()
        enter_as(lead, srv.url, "lead_south")
        admin = admin_ctx.new_page()
        enter_as(admin, srv.url, "admin")
        _open(admin, "Accounts", "admin")
        sessions = admin.locator(".stForm").filter(has_text="Revoke this session")
        _pick(admin, sessions, "Session", "lead_south")
        sessions.get_by_role("button", name="Revoke all of this person's sessions").click()
        admin.get_by_text("session(s) revoked").wait_for(timeout=30_000)
        lead.get_by_role("link", name="Tracking", exact=True).click()
        lead.get_by_label("Username").wait_for(timeout=30_000)
        lead.get_by_text(f"{ENDED}: an administrator revoked it").wait_for()
    finally:
        lead_ctx.close()
        admin_ctx.close()


def test_signing_out_in_chinese_comes_back_to_the_chinese_sign_in_page(srv, browser):
    """The sign-out form carries the language to the cookie route (a field named `lang`
    was dropped by the page's HTML sanitiser: `form.lang` is a property of the form)."""
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        sign_in(page, srv.url, "hrbp", lang="zh")
        page.get_by_role("button", name="退出登录").click()
        page.get_by_label("用户名").wait_for(timeout=30_000)
        assert page.url.endswith("/?lang=zh"), page.url
    finally:
        context.close()
