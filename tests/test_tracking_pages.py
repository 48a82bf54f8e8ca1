"""AppTest: the Tracking and Inbox pages on a seeded database (cycle, actuals, evaluation)."""

from __future__ import annotations

from datetime import date

import pytest

from calibration import importer
from calibration import tracking_service as ts
from calibration.auth import SYSTEM
from calibration.demo import init_database
from calibration.store import connect
from tests.apptest_helpers import errors, login
from tests.tracking_fixtures import actuals_csv, scenario_cycle


@pytest.fixture
def seeded(app_env, monkeypatch):
    """The app's database with the demo, actuals and one evaluated cycle (stand-in lookup)."""
    cycle = scenario_cycle()
    monkeypatch.setattr(ts, "lookup_cycle", lambda cur, cycle_id: cycle)
    monkeypatch.setattr("ui.context.list_cycles", lambda cur: [{"id": 1, "label": cycle.name}])
    con = connect(app_env)
    try:
        cur = con.cursor()
        init_database(cur)
        data = actuals_csv(date(2026, 1, 1), 35, {"east": 6, "south": 5})
        importer.import_bytes(cur, SYSTEM, "actuals", "q1.csv", data.encode())
        ts.evaluate(cur, SYSTEM, cycle)
    finally:
        con.close()
    return cycle


def texts(at) -> str:
    """All visible text of the page, joined (markdown, captions, alerts, titles)."""
    parts = [e.value for e in (*at.markdown, *at.caption, *at.title, *at.subheader)]
    parts += [e.value for e in (*at.error, *at.warning, *at.success, *at.info)]
    return "\n".join(str(p) for p in parts)


def test_tracking_page_for_executive(seeded):
    at = login("exec")
    at.switch_page("pages/tracking.py")
    at.run()
    assert not at.exception, at.exception
    assert not errors(at)
    page = texts(at)
    assert "Tracking" in page and "Regions by projected shortfall" in page
    assert len(at.dataframe) >= 2
    # Drill to the red region: its status, and the undelivered support once recorded.
    at.selectbox(key="tracking_focus").set_value("east")
    at.run()
    assert "Intervene" in "\n".join(e.value for e in at.error)
    at.radio(key="commit_0").set_value("not_delivered")
    at.get("form_submit_button")[-1].click()
    at.run()
    assert not at.exception, at.exception
    assert "promised support not delivered" in "\n".join(e.value for e in at.error)


def test_tracking_page_lead_root_cause_form(seeded):
    at = login("lead_east", lang="zh")
    at.switch_page("pages/tracking.py")
    at.run()
    assert not at.exception, at.exception
    assert "根因分析表" in texts(at)
    at.text_area(key="rc_text").input("新 AE 三月才到岗。")
    at.get("form_submit_button")[0].click()
    at.run()
    assert not at.exception, at.exception
    assert "根因已提交" in texts(at)
    assert "根因分析表" not in texts(at)


def test_tracking_page_lead_sees_only_own_region(seeded):
    at = login("lead_south")
    at.switch_page("pages/tracking.py")
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="tracking_focus").options == ["South"]
    assert "Root-cause form" not in texts(at)


def test_inbox_page_mark_read(seeded):
    at = login("lead_east")
    at.switch_page("pages/inbox.py")
    at.run()
    assert not at.exception, at.exception
    page = texts(at)
    assert "4 unread" in page and "Root-cause form needed" in page
    at.button(key="inbox_all").click()
    at.run()
    assert not at.exception, at.exception
    assert "0 unread" in texts(at)


def test_inbox_page_empty_for_user_without_notifications(seeded):
    at = login("hrbp")
    at.switch_page("pages/inbox.py")
    at.run()
    assert not at.exception, at.exception
    assert "No notifications." in texts(at)
