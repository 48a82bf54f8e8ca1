"""AppTest: the live board page with a cycle, proposals, what-if and join links."""

from __future__ import annotations

import pytest

from calibration import auth, demo
from calibration import negotiation as neg
from calibration.store import connect
from tests.apptest_helpers import login
from tests.nego_fixtures import GOOD, make_run


@pytest.fixture
def seeded(app_env):
    """The app database with the demo data, an open cycle and two proposals."""
    con = connect(app_env)
    cur = con.cursor()
    demo.init_database(cur)
    regions = [r[0] for r in cur.execute("SELECT region FROM regions ORDER BY 1").fetchall()]
    suggestions = {r: 150.0 + 10 * i for i, r in enumerate(regions)}
    cid = neg.create_cycle(
        cur, auth.load_user(cur, "exec"), "2026Q1 NC", "new_customers", "2026Q1", 1200
    )
    neg.publish_run(cur, auth.load_user(cur, "analyst"), cid, make_run(1, suggestions))
    neg.open_cycle(cur, auth.load_user(cur, "exec"), cid)
    lead = auth.load_user(cur, "lead_east")
    region = sorted(lead.regions)[0]
    neg.propose(
        cur,
        lead,
        cid,
        region,
        suggestions[region] * 0.8,
        GOOD["justification"],
        GOOD["support"],
        GOOD["risk"],
        GOOD["confidence"],
        expected_last_event=None,
    )
    con.close()
    return cid


def _board(at):
    at.switch_page("pages/board.py")
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_board_renders_headline_table_and_charts(seeded, lang):
    at = _board(login("exec", lang=lang))
    assert at.title[0].value in ("Live board", "实时看板")
    assert len(at.metric) == 4
    assert at.metric[0].value == "1,200"
    assert len(at.dataframe) >= 2
    assert not at.error


def test_board_respond_accept(seeded):
    at = _board(login("exec"))
    form_buttons = [b for b in at.button if b.label == "Send response"]
    assert form_buttons
    at.radio[0].set_value("accept")
    form_buttons[0].click()
    at.run()
    assert not at.exception, at.exception
    assert any("Response recorded" in s.value for s in at.success), [e.value for e in at.error]


def test_board_join_links(seeded):
    at = _board(login("exec"))
    at.multiselect[0].set_value(["lead_east", "lead_south"])
    [b for b in at.button if b.label == "Create sign-in links"][0].click()
    at.run()
    assert not at.exception, at.exception
    links = at.session_state["board_links"]
    assert [lead for lead, _ in links] == ["lead_east", "lead_south"]
    assert all("?join=" in url for _, url in links)


def test_analyst_sees_board_read_only(seeded):
    at = _board(login("analyst"))
    assert any("read-only" in i.value for i in at.info)
