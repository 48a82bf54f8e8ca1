"""AppTest: the Letters page on the demo workshop (open 2026Q1, signed 2025Q4)."""

from __future__ import annotations

import pytest

from calibration.accounts import auth
from calibration.demo.workshop import DEMO_PASSWORD
from calibration.letters import service as letters
from calibration.negotiation import service as neg
from calibration.store import connect
from tests.apptest_helpers import errors, login

PAGE = "pages/letters.py"


@pytest.fixture(autouse=True)
def _env(app_env):
    return app_env


def _open_letters(username: str, cycle_id: int | None = None, lang: str = "en"):
    at = login(username, lang=lang)
    if cycle_id is not None:
        at.session_state["cycle_id"] = cycle_id
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at


def _locked_cycle(app_env) -> int:
    con = connect(app_env)  # same process as the AppTest: DuckDB shares the open database
    (cycle,) = [c for c in neg.list_cycles(con.cursor()) if c["status"] in letters.LETTER_STATUSES]
    return cycle["id"]


def test_open_cycle_says_letters_come_with_the_lock_and_signed_cycle_lists_all(app_env):
    at = _open_letters("exec")
    assert any("issued when the cycle is locked" in i.value for i in at.info)
    cid = _locked_cycle(app_env)
    at.session_state["cycle_id"] = cid
    at.run()
    assert not at.exception and not errors(at)
    table = at.dataframe[0].value
    assert len(table) == 6 and set(table["Status"]) == {"Fully signed"}
    assert at.metric[0].value == "6 / 6"
    assert not at.get("form")  # nothing left to sign
    assert len(at.get("download_button")) == 4
    # Two corrected letters signed by their leads await the executive: one batch form.
    cur = connect(app_env).cursor()
    executive = auth.load_user(cur, "exec")
    for region in ("north", "south"):
        letters.correct_letter(cur, executive, cid, region, "risks", "Updated risk.", "update")
        lead = auth.load_user(cur, f"lead_{region}")
        letters.sign_letter(cur, lead, cid, region, DEMO_PASSWORD, archive=False)
    at.session_state["cycle_id"] = cid
    at.run()
    assert at.metric[0].value == "4 / 6" and at.metric[1].value == "2"
    at.text_input(key="letters_password_all").input(DEMO_PASSWORD)
    [b for b in at.button if b.label == "Sign all"][0].click()
    at.session_state["cycle_id"] = cid  # AppTest does not keep the sidebar's widget state
    at.run()
    assert not errors(at), errors(at)
    assert at.metric[0].value == "6 / 6"
    assert [letters.get_letter(cur, executive, cid, r).version for r in ("north", "south")] == [
        2,
        2,
    ]


def test_lead_sees_only_their_region_and_signs_a_corrected_letter(app_env):
    at = login("lead_east", lang="zh")  # seeds the demo database
    cid = _locked_cycle(app_env)
    cur = connect(app_env).cursor()
    executive = auth.load_user(cur, "exec")
    letters.correct_letter(
        cur,
        executive,
        cid,
        "east",
        "risks",
        "The distributor renegotiation slipped to February.",
        "update",
    )
    at.session_state["cycle_id"] = cid
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert list(table["区域"]) == ["华东"]
    assert at.selectbox(key="letters_region").options == ["华东"]
    at.text_input(key="letters_password").input("wrong-password")
    [b for b in at.button if b.label == "签署"][0].click()
    at.session_state["cycle_id"] = cid  # AppTest does not keep the sidebar's widget state
    at.run()
    assert "用户名或密码错误。" in errors(at)
    at.text_input(key="letters_password").input(DEMO_PASSWORD)
    [b for b in at.button if b.label == "签署"][0].click()
    at.session_state["cycle_id"] = cid  # AppTest does not keep the sidebar's widget state
    at.run()
    assert not errors(at), errors(at)
    assert any("已签署" in s.value for s in at.success)
    latest = letters.get_letter(cur, executive, cid, "east")
    assert (latest.version, latest.status) == (2, "lead_signed")
