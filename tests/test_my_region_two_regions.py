"""AppTest: a lead with two regions; what belongs to one region never shows on the other."""

from __future__ import annotations

from calibration.accounts import auth
from calibration.accounts.auth import SYSTEM
from calibration.negotiation import service as neg
from calibration.store import connect
from tests.apptest_helpers import login
from tests.nego_fixtures import ANALYST, EXEC, make_run

PASSWORD = "two-regions-Passw0rd!"


def test_field_errors_of_one_region_do_not_show_on_the_other(app_env):
    con = connect(app_env)
    cur = con.cursor()
    # app_env is already a copy of the seeded demo (seeding it again cost 10-30 s).
    cid = neg.create_cycle(cur, EXEC, "2026Q1 new customers", "new_customers", "2026Q1", 1200)
    neg.publish_run(cur, ANALYST, cid, make_run(1, {"east": 220.0, "south": 200.0}))
    neg.open_cycle(cur, EXEC, cid)
    auth.add_user(cur, SYSTEM, "lead_two", "lead", PASSWORD, ["east", "south"], "Two")
    con.close()
    at = login("lead_two", PASSWORD)
    at.switch_page("pages/my_region.py")
    at.run()
    assert at.selectbox(key="nego_region").value == "east"
    # Submitted with empty fields: east's form says what is missing.
    next(b for b in at.button if b.label == "Submit proposal").click()
    at.run()
    assert not at.exception, at.exception
    east_errors = [e.value for e in at.error]
    assert east_errors
    at.selectbox(key="nego_region").set_value("south")
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="nego_region").value == "south"
    assert [e.value for e in at.error] == []
