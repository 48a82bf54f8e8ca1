"""AppTest: the Tracking and Inbox pages on a seeded database (cycle, actuals, evaluation)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from calibration.accounts.auth import SYSTEM
from calibration.data import importer
from calibration.demo import workshop as demo
from calibration.demo.workshop import init_database
from calibration.store import connect
from calibration.tracking import service as ts
from tests.apptest_helpers import errors, login
from tests.factories import ROOT, write_small_demo
from tests.tracking_fixtures import TARGETS, actuals_csv, negotiated_cycle


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory) -> Path:
    """One database for the module (copied per test): small demo data and accounts (no demo
    cycles), a locked negotiation cycle, five weeks of actuals, one evaluation."""
    base = tmp_path_factory.mktemp("tracking_pages")
    path = base / "seed.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CALIBRATE_DEMO_DIR", str(write_small_demo(base / "small")))
        mp.setattr(demo, "seed_features", lambda cur: [])
        con = connect(path)
        try:
            cur = con.cursor()
            init_database(cur)
            cycle_id = negotiated_cycle(cur, TARGETS)
            data = actuals_csv(date(2026, 1, 1), 35, {"east": 6, "south": 5})
            importer.import_bytes(cur, SYSTEM, "actuals", "q1.csv", data.encode())
            ts.evaluate(cur, SYSTEM, cycle_id)
        finally:
            con.close()
    return path


@pytest.fixture
def seeded(seeded_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's copy of the seeded database, where the app will open it (not the shared
    demo template: these tests need only the small data and a negotiated cycle)."""
    path = tmp_path / "app.duckdb"
    shutil.copyfile(seeded_file, path)
    monkeypatch.setenv("CALIBRATE_DB", str(path))
    monkeypatch.chdir(ROOT)
    return path


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
    # Four tracking notifications, plus the letter the lock issued waiting for the signature.
    assert "5 unread" in page and "Root-cause form needed" in page
    assert "Letter waiting for your signature" in page
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


def test_tracking_page_after_the_period_shows_fva_and_exports(seeded):
    con = connect(seeded)
    try:
        rest = actuals_csv(date(2026, 2, 5), 55, {"east": 6, "south": 5})
        importer.import_bytes(con.cursor(), SYSTEM, "actuals", "rest.csv", rest.encode())
    finally:
        con.close()
    at = login("exec")
    at.switch_page("pages/tracking.py")
    at.run()
    assert not at.exception, at.exception
    assert "Absolute % error" in texts(at)
    assert len(at.get("download_button")) == 3


def test_data_page_imports_cumulative_actuals(seeded):
    at = login("analyst")
    at.switch_page("pages/data.py")
    at.run()
    at.selectbox(key="upload_kind").set_value("actuals")
    at.run()
    uploader = at.get("file_uploader")
    if not uploader:
        pytest.skip("this Streamlit's AppTest exposes no file_uploader")
    at.checkbox(key="upload_cumulative").check()
    bad = "region,date,metric,value\nnorth,2026-01-01,new_customers,5\nnorth,2026/1/2,new_customers,4\n"
    uploader[0].upload("running.csv", bad.encode(), "text/csv")
    at.run()
    at.button(key="upload_go").click()
    at.run()
    assert not at.exception, at.exception
    assert any("refused" in e or "problem" in e for e in errors(at)), errors(at)
    good = bad.replace(",4\n", ",9\n")
    at.get("file_uploader")[0].upload("running.csv", good.encode(), "text/csv")
    at.run()
    at.button(key="upload_go").click()
    at.run()
    assert not at.exception, at.exception
    assert not errors(at), errors(at)
    assert at.success, "no import confirmation"


def test_tracking_page_for_a_lead_outside_the_cycle(seeded):
    at = login("lead_north")
    at.switch_page("pages/tracking.py")
    at.run()
    assert not at.exception, at.exception
    assert "None of your regions is tracked in this cycle." in texts(at)
