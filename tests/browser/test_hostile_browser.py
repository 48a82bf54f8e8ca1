"""Real browser: a <script>/<img onerror> justification and comment show as text, never run."""

from __future__ import annotations

import pytest

from tests.browser.steps import enter, fill_proposal, goto_my_region, new_person, submit_proposal

pytestmark = pytest.mark.browser

PAYLOAD = "<script>alert(1)</script> <img src=x onerror=alert(1)> <b>bold?</b>"


def test_script_justification_is_visible_text_and_never_runs(server, browser, shot) -> None:
    dialogs: list[str] = []
    lead_ctx, lead = new_person(browser, server.url, "lead_southwest")
    hr_ctx = None
    try:
        # alert(1) would open a dialog; record it (and dismiss, so nothing hangs).
        lead.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        goto_my_region(lead)
        # 1 is far below any suggestion: the proposal is flagged, so the HRBP sees it.
        fill_proposal(lead, 1, justification=PAYLOAD, support=PAYLOAD, risk=PAYLOAD)
        submit_proposal(lead, server.log)
        lead.get_by_text("went to HR review").wait_for()
        enter(lead, lead.get_by_role("textbox", name="Comment", exact=True), PAYLOAD)
        lead.get_by_role("button", name="Post", exact=True).click()
        lead.get_by_text("<script>alert(1)</script>").first.wait_for()
        shot(lead, "hostile_01_lead_comment")

        # Signed in after the proposal (a reload would start a new, signed-out session).
        hr_ctx, hr = new_person(browser, server.url, "hrbp")
        hr.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        hr.get_by_role("heading", name="Review queue").first.wait_for()
        shown = hr.get_by_text(PAYLOAD, exact=True)
        shown.first.wait_for()
        # justification, support and risk (and the comment in the thread), each as plain text
        assert shown.count() >= 3
        shot(hr, "hostile_02_review_queue")

        for page in (lead, hr):
            page.wait_for_timeout(1000)  # an onerror handler would have fired by now
            assert page.locator("img[src='x']").count() == 0
            assert page.locator("b", has_text="bold?").count() == 0
            assert page.evaluate(
                "() => document.querySelectorAll('script:not([src])')"
                ".length === 0 || ![...document.querySelectorAll("
                "'script:not([src])')].some(s => s.text.includes('alert(1)'))"
            )
        assert dialogs == []
    finally:
        lead_ctx.close()
        if hr_ctx is not None:
            hr_ctx.close()
