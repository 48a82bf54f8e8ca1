"""Real browser: sign in as a demo lead, see the Data page, in both languages."""

from __future__ import annotations

import pytest

from tests.browser.conftest import open_page, sign_in, wait_idle

pytestmark = pytest.mark.browser
# Both tests only sign in and read: they share one server (module_server).


def test_lead_signs_in_and_sees_data_page(module_server, browser, shot):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(module_server.url)
    page.get_by_label("Username").wait_for()
    page.get_by_text("Demo accounts").wait_for()
    shot(page, "01_login_en")
    sign_in(page, module_server.url, "lead_east")
    open_page(page, "Data")
    page.get_by_role("heading", name="Data").first.wait_for()
    assert page.get_by_text("DEMO DATA").first.is_visible()
    assert "Traceback" not in page.content()
    page.wait_for_selector("canvas, svg.marks", timeout=20_000)
    shot(page, "02_data_en")
    page.close()


def test_chinese_login_and_data_page(module_server, browser, shot):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{module_server.url}/?lang=zh")
    page.get_by_label("用户名").wait_for()
    page.get_by_text("演示账户").wait_for()
    shot(page, "01_login_zh")
    sign_in(page, module_server.url, "analyst", lang="zh")
    shot(page, "03_after_login_zh")
    open_page(page, "数据")
    page.get_by_role("heading", name="数据").first.wait_for()
    assert page.get_by_text("演示数据").first.is_visible()
    page.wait_for_selector("canvas, svg.marks", timeout=20_000)
    shot(page, "04_data_zh")
    page.get_by_role("tab", name="上传").click()
    wait_idle(page)
    shot(page, "05_upload_zh")
    page.close()
