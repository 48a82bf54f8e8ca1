"""Real browser, issue 12: every write lands on what the person saw, the HR gate holds,
and the numbers people agreed on are the ones shown."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.browser.conftest import Server, _demo_server, number_text, page_report, wait_idle
from tests.browser.steps import (
    fill_proposal,
    goto_my_region,
    new_person,
    read_db,
    submit_proposal,
    wait_board_counts,
)

pytestmark = pytest.mark.browser
FADE_SECONDS = 4
SOUTH_REASON = "South's pipeline supports more: two partner deals close in March."


def _respond_form(page):
    page.get_by_role("tab", name="Respond").click()
    form = page.locator(".st-key-board_respond_form")
    form.wait_for(timeout=30_000)
    return form


def _pick(page, form, region: str) -> None:
    """Choose a region in the Respond form, as a person would: open the list, click it."""
    option = page.get_by_role("option", name=region, exact=True)
    for _ in range(5):
        # A rerun still in flight (the tab's on_change, a tick's app rerun) closes an open
        # list; the person opens it again. Every region is always among the options.
        wait_idle(page)
        form.get_by_label("Region").first.click()
        try:
            option.wait_for(timeout=5_000)
            break
        except PlaywrightTimeoutError:
            continue
    option.click()


def _shows(form, region: str) -> bool:
    """Whether the form's Region select shows this region as its choice (as text or as the
    value of its search input, depending on the select's rendering)."""
    box = form.locator("[data-testid='stSelectbox']").first
    shown = box.evaluate(
        "el => [el.textContent, ...[...el.querySelectorAll('input')].map(i => i.value),"
        " ...[...el.querySelectorAll('[aria-label],[title]')].map("
        "x => (x.getAttribute('aria-label') || '') + ' ' + (x.getAttribute('title') || ''))]"
        ".join(' | ')"
    )
    print(f"select shows: {shown!r}")
    return re.search(rf"(^|\W){re.escape(region)}(\W|$)", shown.replace("Region", "")) is not None


def _half_fill_counter(page, form, region: str, value: int, reason: str) -> None:
    _pick(page, form, region)
    form.get_by_text("Counter with another number", exact=True).click()
    form.get_by_label("Counter value").fill(str(value))
    form.get_by_label("Reason (required for a counter)").fill(reason)


def _responses(db) -> list[tuple]:
    con = read_db(db)
    try:
        # Only the demo's open workshop cycle (the demo also holds a locked 2025Q4 cycle).
        rows = con.execute(
            "SELECT region, kind, value, payload FROM events"
            " WHERE kind IN ('response', 'hr_override') AND cycle_id ="
            " (SELECT max(cycle_id) FROM cycles WHERE name LIKE '2026Q1 new customers%')"
            " ORDER BY id"
        ).fetchall()
    finally:
        con.close()
    return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]


@pytest.fixture
def quick_fade_server(tmp_path, demo_template, monkeypatch) -> Iterator[Server]:
    """A demo server whose board marks fade after 4 s rather than 15 (the wait below)."""
    monkeypatch.setenv("CALIBRATE_BOARD_HIGHLIGHT", str(FADE_SECONDS))
    yield from _demo_server(tmp_path, demo_template)


def test_respond_form_survives_live_changes(quick_fade_server, browser, shot) -> None:
    server = quick_fade_server
    board_ctx, board = new_person(browser, server.url, "exec")
    lead_ctx, lead = new_person(browser, server.url, "lead_central")
    try:
        board.get_by_role("heading", name="Live board").first.wait_for()
        form = _respond_form(board)

        # The executive half fills a counter for South ...
        _half_fill_counter(board, form, "South", 214, SOUTH_REASON)
        # ... while Central's lead proposes: the live tick reruns the executive's page.
        goto_my_region(lead)
        fill_proposal(
            lead,
            131,
            "Two distributors paused orders until the spring fair.",
            "None beyond the plan.",
            "Distributor payments may slip.",
        )
        submit_proposal(lead, server.log)
        lead.get_by_text("Proposal saved.").wait_for()
        wait_board_counts(board, timeout_s=30, proposed=4)
        wait_idle(board)
        shot(board, "live_session_01_form_after_other_region")
        form = board.locator(".st-key-board_respond_form")
        assert _shows(form, "South") and not _shows(form, "Central")
        expect(form.get_by_label("Counter value")).to_have_value(number_text("214"), timeout=15_000)
        expect(form.get_by_label("Reason (required for a counter)")).to_have_value(
            SOUTH_REASON, timeout=15_000
        )
        form.get_by_role("button", name="Send response").click()
        board.get_by_text("Response recorded for South.").wait_for(timeout=30_000)
        wait_idle(board)

        # The executive's own answer arrives on the tick while the next form is half filled.
        form = board.locator(".st-key-board_respond_form")
        _half_fill_counter(board, form, "North", 199, "North can stretch with the new partner.")
        # The highlight of the own answer fades: a whole-page rerun.
        board.wait_for_timeout((FADE_SECONDS + 2) * 1000)
        wait_idle(board)
        form = board.locator(".st-key-board_respond_form")
        assert _shows(form, "North")
        expect(form.get_by_label("Counter value")).to_have_value(number_text("199"), timeout=15_000)
        form.get_by_role("button", name="Send response").click()
        board.get_by_text("Response recorded for North.").wait_for(timeout=30_000)
    finally:
        board_ctx.close()
        lead_ctx.close()
    server.stop()
    answers = _responses(server.db)
    assert [(r, k, v, p.get("action")) for r, k, v, p in answers][-2:] == [
        ("south", "response", 214.0, "counter"),
        ("north", "response", 199.0, "counter"),
    ]
    assert answers[-2][3]["reason"] == SOUTH_REASON
    # Nothing for Central: it only proposed.
    assert not [a for a in answers if a[0] == "central"]


def test_hr_gate_and_paused_board_refuse_and_agreed_numbers_show(server, browser, shot) -> None:
    """An accept on a flagged region is refused; a paused board's stale accept is refused;
    the lead sees the number agreed (one server and one executive for the three)."""
    board_ctx, board = new_person(browser, server.url, "exec")
    north_ctx, north = new_person(browser, server.url, "lead_north")
    south_ctx, south = new_person(browser, server.url, "lead_south")
    try:
        board.get_by_role("heading", name="Live board").first.wait_for()
        form = _respond_form(board)
        # East is flagged (20% below the model) and HR has not resolved it.
        _pick(board, form, "East")
        form.get_by_text("Accept the proposal", exact=True).click()
        form.get_by_role("button", name="Send response").click()
        board.get_by_text(re.compile("East is waiting for HR review")).wait_for(timeout=30_000)
        shot(board, "live_session_00_hr_gate")

        board.get_by_text("Pause live updates").click()
        wait_idle(board)
        form = _respond_form(board)
        _pick(board, form, "North")
        form.get_by_text("Accept the proposal", exact=True).click()
        # North's lead revises down while the executive's paused board still shows the old one.
        goto_my_region(north)
        fill_proposal(
            north,
            50,
            "A large customer moved its budget to next year entirely.",
            "Two more account executives.",
            "The partner contract is not live yet.",
        )
        submit_proposal(north, server.log)
        north.get_by_text(re.compile("Proposal saved")).wait_for()
        form.get_by_role("button", name="Send response").click()
        board.get_by_text(
            re.compile(
                r"North changed: Zhang Jing 张静 \(North\) proposed 50 at \d\d:\d\d UTC\. "
                r"Check and send again\."
            )
        ).wait_for(timeout=30_000)
        shot(board, "live_session_02_stale_refused")

        # A counter for South of 203; the lead sees the counter, accepts it, sees 203 agreed.
        form = board.locator(".st-key-board_respond_form")
        _half_fill_counter(board, form, "South", 203, "Conversion recovers after the fix.")
        form.get_by_role("button", name="Send response").click()
        board.get_by_text("Response recorded for South.").wait_for(timeout=30_000)
        goto_my_region(south)
        metric = south.locator("[data-testid='stMetric']").filter(
            has_text="Current number (counter-offer)"
        )
        metric.wait_for(timeout=30_000)
        assert "203" in metric.inner_text()
        # The lead reads the offer on a page that has finished drawing, then accepts it.
        wait_idle(south)
        south.get_by_role("button", name="Accept counter-offer").click()
        wait_idle(south)
        metric = south.locator("[data-testid='stMetric']").filter(
            has_text="Current number (agreed)"
        )
        try:
            metric.wait_for(timeout=30_000)
        except PlaywrightTimeoutError as exc:
            # Seen twice under the full suite's load: say what the lead's page showed.
            raise AssertionError(f"no agreed number: {page_report(south, server.log)}") from exc
        assert "203" in metric.inner_text()
        mine = south.locator("[data-testid='stMetric']").filter(
            has_text=re.compile("^Your proposal")
        )
        assert not mine.count()
        shot(south, "live_session_03_my_region_agreed")
    finally:
        board_ctx.close()
        north_ctx.close()
        south_ctx.close()
    server.stop()
    answers = _responses(server.db)
    # The demo holds no answer for North; the refused accept recorded none.
    assert not [a for a in answers if a[0] == "north"]
    # The demo already holds a counter for East; no accept and no override were recorded.
    assert not [
        a
        for a in answers
        if a[0] == "east" and (a[1] == "hr_override" or a[3].get("action") == "accept")
    ]
