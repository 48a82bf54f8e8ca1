"""Notification pages: the admin's delivery status (counts, failures, retry) and a person's
own settings on the Inbox page (AppTest on a copy of the demo)."""

from __future__ import annotations

from calibration.notify import config, service
from calibration.store import connect
from calibration.store import notify as nq
from tests.apptest_helpers import errors, login

DOWN = "http://127.0.0.1:9/robot?key=TOKEN-NOT-FOR-EYES"


def test_admin_sees_delivery_status_and_retries_failures(app_env, monkeypatch):
    con = connect(app_env)
    company = config.Company(
        smtp=None, webhooks={"wecom": {"*": DOWN}}, secrets={}, timeout=2.0, max_attempts=1
    )
    result = service.run_pass(con, company)
    assert result.failed > 0 and result.sent == 0
    failed = result.failed
    con.close()
    monkeypatch.setenv("CALIBRATE_WECOM_WEBHOOKS", f"*={DOWN}")
    monkeypatch.setenv("CALIBRATE_SMTP_HOST", "smtp.example.com")
    monkeypatch.setenv("CALIBRATE_SMTP_PASSWORD", "PASSWORD-NOT-FOR-EYES")
    at = login("admin")
    at.switch_page("pages/admin.py")
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Pending": "0", "Sent": "0", "Failed": str(failed)}
    failures = at.dataframe[2].value  # accounts, channels, failures
    assert len(failures) == failed and set(failures["channel"]) == {"wecom"}
    assert failures["last_error"].str.len().gt(0).all()
    everything = repr([d.value for d in at.dataframe]) + repr([m.value for m in at.markdown])
    assert "NOT-FOR-EYES" not in everything
    next(b for b in at.button if b.label == "Retry failed deliveries now").click()
    at.run()
    assert not at.exception and not errors(at)
    assert [s.value for s in at.success] == [f"{failed} deliveries will be sent in the next pass."]
    assert {m.label: m.value for m in at.metric}["Pending"] == str(failed)


def test_a_person_sets_their_own_email_on_the_inbox_page(app_env):
    at = login("lead_east")
    at.switch_page("pages/inbox.py")
    at.run()
    assert not at.exception, at.exception
    save = next(b for b in at.button if b.label == "Save settings")
    at.text_input(key="notify_own_lead_east_email").input("not an address")
    save.click()
    at.run()
    assert errors(at) == ["That is not an e-mail address (name@example.com)."]
    at.text_input(key="notify_own_lead_east_email").input("wang.lei@example.com")
    at.selectbox(key="notify_own_lead_east_lang").select("zh")
    at.checkbox(key="notify_own_lead_east_wecom_on").uncheck()
    next(b for b in at.button if b.label == "Save settings").click()
    at.run()
    assert not errors(at) and [s.value for s in at.success] == ["Notification settings saved."]
    from ui import context

    cur = context.connection().cursor()
    prefs = nq.latest_prefs(cur, ["lead_east"])["lead_east"]
    assert (prefs["email"], prefs["lang"], prefs["wecom_on"], prefs["changed_by"]) == (
        "wang.lei@example.com",
        "zh",
        False,
        "lead_east",
    )
