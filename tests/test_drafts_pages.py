"""AppTest (issue 16): the HR partner's note and comment drafts come back in a new session
(a reload), are the writer's alone, and are gone once sent."""

from __future__ import annotations

import pytest

from calibration.accounts import auth, drafts
from calibration.demo import workshop as demo
from calibration.negotiation import service as neg
from calibration.store import connect
from tests.apptest_helpers import errors, login
from tests.nego_fixtures import ANALYST, EXEC, make_run

NOTE = "Talked to the lead; half of this note was typed before the reload."
COMMENT = "Can you share the renewal email? (typed, not posted yet)"


@pytest.fixture
def flagged(app_env):
    """An open cycle where East's proposal went to HR review."""
    con = connect(app_env)
    cur = con.cursor()
    demo.load_demo(cur)
    cid = neg.create_cycle(cur, EXEC, "2026Q1 new customers", "new_customers", "2026Q1", 1200)
    neg.publish_run(cur, ANALYST, cid, make_run(1, {"east": 220.0, "south": 200.0, "north": 180.0}))
    neg.open_cycle(cur, EXEC, cid)
    lead = auth.load_user(cur, "lead_east")
    last = neg.cycle_state(cur, cid).set_index("region").loc["east", "last_event_id"]
    neg.propose(
        cur,
        lead,
        cid,
        "east",
        150,
        "Search interest fell 12% this quarter.",
        "One more AE",
        "Renewal in doubt",
        "medium",
        expected_last_event=last,
    )
    con.close()
    return app_env, cid


def review():
    at = login("hrbp")
    at.switch_page("pages/review.py")
    at.run()
    assert not at.exception, at.exception
    return at


def test_hr_note_and_comment_drafts_survive_a_new_session_and_go_when_sent(flagged):
    first = review()
    first.text_area(key="nego_note_east").input(NOTE)
    first.text_area(key="nego_hr_comment_east").input(COMMENT)
    first.run()
    assert not first.exception, first.exception

    again = review()  # a reload: a new Streamlit session of the same person
    assert again.text_area(key="nego_note_east").value == NOTE
    assert again.text_area(key="nego_hr_comment_east").value == COMMENT

    again.radio(key="nego_outcome_east").set_value("needs coaching")
    next(b for b in again.button if b.label == "Resolve").click()
    again.run()
    assert not errors(again), errors(again)
    assert any("Review saved." in s.value for s in again.success)

    path, cid = flagged
    con = connect(path)
    hrbp = auth.load_user(con.cursor(), "hrbp")
    note = drafts.load(con.cursor(), hrbp, drafts.form_key("review", cid, "east"))
    comment = drafts.load(con.cursor(), hrbp, drafts.form_key("comment", cid, "east"))
    con.close()
    assert note is None  # sent: the draft is gone
    assert comment.fields == {"text": COMMENT}  # not sent: kept
