"""AppTest: the live board page with a cycle, proposals, what-if and join links."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from calibration.accounts import auth
from calibration.demo import workshop as demo
from calibration.negotiation import service as neg
from calibration.store import connect
from tests.apptest_helpers import login, place
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


def _board(at, tab: str | None = None):
    at.switch_page("pages/board.py")
    if tab:
        # The board's action tabs are stateful (they survive live reruns): choose by key.
        at.session_state["board_action_tab"] = tab
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_board_renders_headline_table_and_charts(seeded, lang):
    at = _board(login("exec", lang=lang))
    assert at.title[0].value in ("Live board", "实时看板")
    assert len(at.metric) == 4
    assert at.metric[0].value == "1,200"
    # The first screen: headline and table; charts and the allocation wait to be asked for.
    assert len(at.dataframe) == 1
    assert not at.get("vega_lite_chart")
    assert not at.error
    at.session_state["board_charts"] = True
    at.session_state["board_method"] = "suggestion"
    at.run()
    assert not at.exception, at.exception
    # The regions chart, the allocation's chart and table (and its send form).
    assert len(at.get("vega_lite_chart")) == 2
    assert len(at.dataframe) >= 2
    assert not at.error


def test_board_respond_accept(seeded):
    at = _board(login("exec"), "Respond")
    form_buttons = [b for b in at.button if b.label == "Send response"]
    assert form_buttons
    at.radio[0].set_value("accept")
    form_buttons[0].click()
    at.run()
    assert not at.exception, at.exception
    # The only proposal is flagged: accepting waits for HR (issue 12) unless overridden.
    assert any("waiting for HR review" in e.value for e in at.error), [e.value for e in at.error]
    at.text_area(key="board_respond_override").input("HR partner is away; decided in the room.")
    [b for b in at.button if b.label == "Send response"][0].click()
    at.run()
    assert any("Response recorded" in s.value for s in at.success), [e.value for e in at.error]


def test_board_join_links(seeded):
    at = _board(login("exec"), "Join links")
    at.multiselect[0].set_value(["lead_east", "lead_south"])
    [b for b in at.button if b.label == "Create sign-in links"][0].click()
    at.run()
    assert not at.exception, at.exception
    links = at.session_state["board_links"]
    assert [lead for lead, _ in links] == ["lead_east", "lead_south"]
    assert all("?join=" in url for _, url in links)


def test_analyst_sees_board_read_only(seeded):
    at = _board(login("analyst"), "Respond")
    assert any("read-only" in i.value for i in at.info)


def _join_app() -> None:
    import streamlit as st

    from ui import context as ctx
    from ui.join_link import accept_join_link

    ok = accept_join_link(ctx.cursor())
    user = st.session_state.get("user")
    st.write(f"ok={ok} user={user.username if user else None}")


def test_join_link_signs_the_lead_in_once(seeded, app_env):
    from streamlit.testing.v1 import AppTest

    from calibration.accounts import join

    con = connect(app_env)
    [(_, url)] = join.create_join_links(
        con.cursor(), auth.load_user(con.cursor(), "exec"), seeded, "http://x/", ["lead_east"]
    )
    con.close()
    token = url.split("join=", 1)[1]
    at = AppTest.from_function(_join_app)
    at.query_params["join"] = token
    at.run()
    assert not at.exception, at.exception
    assert at.markdown[-1].value == "ok=True user=lead_east"
    assert at.session_state["cycle_id"] == seeded
    assert "join" not in at.query_params
    again = AppTest.from_function(_join_app)
    again.query_params["join"] = token
    again.run()
    assert again.markdown[-1].value == "ok=False user=None"
    assert [e.value for e in again.error] == [
        "This sign-in link has already been used. Each link works once: ask the session host "
        "for a new one."
    ]


def test_board_marks_and_announces_a_new_proposal(seeded):
    from ui import context as ctx

    at = _board(login("exec"))
    assert not at.toast
    # The app's own connection: a second one to the same file is not allowed in-process.
    cur = ctx.connection().cursor()
    lead = auth.load_user(cur, "lead_south")
    region = sorted(lead.regions)[0]
    neg.propose(
        cur,
        lead,
        seeded,
        region,
        123,
        GOOD["justification"],
        GOOD["support"],
        GOOD["risk"],
        GOOD["confidence"],
        expected_last_event=None,
    )
    at.run()  # the board's cache is keyed on the cycle's version: no wait needed
    assert not at.exception, at.exception
    assert any("123" in t.value for t in at.toast), [t.value for t in at.toast]
    assert "●" in at.dataframe[0].value.iloc[:, 0].tolist()
    from ui import cache

    # The page's rerun built the new version from the one it showed (one row, not the board).
    assert cache.board_cache(cache.board_db()).builds["incremental"] == 1


def test_a_board_mark_fades_after_the_configured_time(seeded, monkeypatch):
    from ui import context as ctx

    at = _board(login("exec"))
    cur = ctx.connection().cursor()
    lead = auth.load_user(cur, "lead_south")
    region = sorted(lead.regions)[0]
    neg.propose(cur, lead, seeded, region, 123, *GOOD.values(), expected_last_event=None)
    at.run()
    assert "●" in at.dataframe[0].value.iloc[:, 0].tolist()
    # Marked for 15 s by default; a company may want it shorter (CALIBRATE_BOARD_HIGHLIGHT).
    monkeypatch.setenv("CALIBRATE_BOARD_HIGHLIGHT", "1")
    time.sleep(1.1)
    at.run()
    assert not at.exception, at.exception
    assert "●" not in at.dataframe[0].value.iloc[:, 0].tolist()


def test_board_counter_needs_a_value_and_a_reason(seeded):
    at = _board(login("exec"), "Respond")
    at.radio[0].set_value("counter")
    next(b for b in at.button if b.label == "Send response").click()
    at.run()
    assert not at.exception, at.exception
    assert "Enter a number of 0 or more." in [e.value for e in at.error]
    at.radio[0].set_value("counter")
    at.number_input(key="board_respond_value").set_value(140)
    at.text_area(key="board_respond_reason").input(
        "The new AE starts in February; 140 is within reach."
    )
    next(b for b in at.button if b.label == "Send response").click()
    at.run()
    assert any("Response recorded" in s.value for s in at.success), [e.value for e in at.error]


def test_board_counts_signed_letters_of_a_closed_cycle(seeded, app_env):
    from calibration.board import service as board_service
    from calibration.letters import service as letters

    con = connect(app_env)
    cur = con.cursor()
    done = [c for c in neg.list_cycles(cur) if c["status"] in letters.LETTER_STATUSES]
    if not done:
        pytest.skip("the demo has no locked cycle")
    snap = board_service.snapshot(cur, auth.load_user(cur, "exec"), done[0]["id"])
    assert snap["signed"] > 0
    assert board_service.snapshot(cur, auth.load_user(cur, "exec"), seeded)["signed"] == 0
    con.close()


def _tick_every_region(at, regions: int) -> None:
    """Tick Send on every row of the what-if counter-offer editor (it starts unticked)."""
    key = next(k for k in at.session_state if str(k).startswith("board_send_editor_"))
    at.session_state[key] = {
        "edited_rows": {str(i): {"Send": True} for i in range(regions)},
        "added_rows": [],
        "deleted_rows": [],
    }


def test_board_sends_an_allocation_as_counter_offers(seeded, app_env):
    at = login("exec")
    at.session_state["board_method"] = "suggestion"
    at = _board(at, "What-if allocation")
    regions = len(neg.cycle_state(connect(app_env).cursor(), seeded))
    # Nothing is ticked until the executive chooses: sending now names that, once.
    next(b for b in at.button if b.label == "Send counter-offers").click()
    at.run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["Choose at least one region to send a counter-offer to."]
    _tick_every_region(at, regions)
    next(b for b in at.button if b.label == "Send counter-offers").click()
    at.run()
    assert not at.exception, at.exception
    # No reason anywhere: one error naming every region (not one "Required." per region).
    (error,) = [e.value for e in at.error]
    assert "Reason" in error and all(n in error for n in ("East", "North", "Southwest")), error
    _tick_every_region(at, regions)
    at.text_area(key="board_send_reason").input("Allocated in proportion to the suggestion.")
    next(b for b in at.button if b.label == "Send counter-offers").click()
    at.run()
    assert not at.exception, at.exception
    assert any("counter-offers sent" in s.value for s in at.success), [e.value for e in at.error]
    from ui import context as ctx

    state = neg.cycle_state(ctx.connection().cursor(), seeded)
    assert (state["status"] == "countered").all()
    assert state["counter_value"].notna().all()


def test_board_lock_asks_for_confirmation(seeded):
    from ui import context as ctx

    cur = ctx.connection().cursor()
    exec_user = auth.load_user(cur, "exec")
    state = neg.cycle_state(cur, seeded)
    offers = [
        {
            "region": r,
            "value": 100.0,
            "reason": "Agreed in the room.",
            "expected_last_event": None if pd.isna(e) else int(e),
        }
        for r, e in zip(state["region"], state["last_event_id"], strict=True)
    ]
    neg.send_counters(cur, exec_user, seeded, offers)
    leads = {
        r: u
        for (u,) in cur.execute("SELECT username FROM users WHERE role = 'lead'").fetchall()
        for r in auth.load_user(cur, u).regions
    }
    for region, event in zip(
        *neg.cycle_state(cur, seeded)[["region", "last_event_id"]].T.to_numpy(), strict=True
    ):
        neg.accept_counter(
            cur, auth.load_user(cur, leads[region]), seeded, region, expected_last_event=int(event)
        )
    at = _board(login("exec"), "Respond")
    next(b for b in at.button if b.label == "Lock the cycle").click()
    at.run()
    assert not at.exception, at.exception
    assert neg.get_cycle(cur, seeded)["status"] == "open"  # not yet: a confirmation first
    # The dialog states the agreed total against the company target (issue 12).
    total = 100 * len(state)
    want = f"{total:,} agreed, {1200 - total:,} below the company's 1,200."
    assert any(want in m.value for m in at.markdown), [m.value for m in at.markdown]
    next(b for b in at.button if b.label == "Lock now").click()
    at.run()
    assert not at.exception, at.exception
    assert neg.get_cycle(cur, seeded)["status"] == "locked"
    assert any("Cycle locked" in s.value for s in at.success), [s.value for s in at.success]


def test_board_presentation_mode_and_pause(seeded):
    at = _board(login("exec"))
    at.toggle(key="board_paused_toggle").set_value(True)
    at.toggle(key="board_big_toggle").set_value(True)
    at.run()
    assert not at.exception, at.exception
    # The projector table is a large-type static table, and the sidebar is hidden.
    assert len(at.table) == 1
    assert any("Paused" in c.value for c in at.caption), [c.value for c in at.caption]
    # The toggles are hidden in presentation mode; one exit control brings them back.
    assert not at.toggle
    next(b for b in at.button if b.label == "Exit presentation").click()
    at.run()
    assert not at.exception, at.exception
    assert at.toggle(key="board_big_toggle").value is False
    assert at.toggle(key="board_paused_toggle").value is True


def test_executive_creates_and_opens_a_cycle_from_the_board(seeded):
    from ui import context as ctx

    at = _board(login("exec"))
    at.text_input[0].set_value("")  # the name is required
    next(b for b in at.button if b.label == "Create draft cycle").click()
    at.run()
    assert not at.exception, at.exception
    assert any(e.value.startswith("Name:") for e in at.error), [e.value for e in at.error]
    at.text_input[0].set_value("2026Q2 stretch")
    at.text_input[1].set_value("Q2 2026")  # not a period form the app reads
    at.number_input[0].set_value(1300)
    next(b for b in at.button if b.label == "Create draft cycle").click()
    at.run()
    assert any(e.value.startswith("Target period:") for e in at.error), [e.value for e in at.error]
    at.text_input[1].set_value("2026Q2")
    next(b for b in at.button if b.label == "Create draft cycle").click()
    at.run()
    assert not at.exception, at.exception
    cur = ctx.connection().cursor()
    made = next(c for c in neg.list_cycles(cur) if c["name"] == "2026Q2 stretch")
    assert (made["status"], made["period"], made["company_target"]) == ("draft", "2026Q2", 1300)
    assert at.session_state["cycle_id"] == made["id"]
    assert any("Waiting for the analyst" in i.value for i in at.info)

    neg.publish_run(
        cur,
        auth.load_user(cur, "analyst"),
        made["id"],
        make_run(7, {"east": 230.0, "south": 210.0}, period="2026Q2"),
    )
    at.run()
    next(b for b in at.button if b.label == "Open for proposals").click()
    at.run()
    assert not at.exception, at.exception
    assert neg.get_cycle(cur, made["id"])["status"] == "open"
    assert any("is open" in s.value for s in at.success), [s.value for s in at.success]


def test_board_shows_the_counter_and_the_agreed_number_beside_its_delta(seeded, app_env):
    import streamlit as st

    from ui import context as ctx

    # The board caches by (cycle, version); another test's database can share both.
    st.cache_data.clear()

    cur = ctx.connection().cursor()
    exec_user = auth.load_user(cur, "exec")
    state = neg.cycle_state(cur, seeded).set_index("region")
    region = "south"
    seen = state.loc[region, "last_event_id"]
    neg.respond(
        cur,
        exec_user,
        seeded,
        region,
        "counter",
        counter_value=203,
        reason="Pipeline supports it.",
        expected_last_event=None if pd.isna(seen) else int(seen),
    )
    at = _board(login("exec"))
    shown = at.dataframe[0].value
    row = shown[shown["Region"] == "South"].iloc[0]
    suggestion = float(str(row["Suggestion"]).replace(",", ""))
    assert (row["Current number"], row["From"]) == ("203", "counter-offer")
    assert row["Δ vs suggestion"] == f"{(203 - suggestion) / suggestion * 100:+.1f}%"
    lead = auth.load_user(cur, "lead_south")
    neg.accept_counter(
        cur,
        lead,
        seeded,
        region,
        expected_last_event=int(
            neg.cycle_state(cur, seeded).set_index("region").loc[region, "last_event_id"]
        ),
    )
    st.cache_data.clear()
    at = _board(login("exec"))
    shown = at.dataframe[0].value
    row = shown[shown["Region"] == "South"].iloc[0]
    assert (row["Current number"], row["From"]) == ("203", "agreed")


def test_regions_total_below_the_suggestion_is_not_shown_as_good_news(seeded):
    """The change under "Regions now" has no sign (the arrow says it): its colour must
    follow the arrow, not the unsigned number (a "↓ 52" in green read as good news)."""
    from streamlit.proto.Metric_pb2 import Metric as MetricProto

    at = _board(login("exec"))
    current = at.metric[1].proto
    expected = {
        MetricProto.MetricDirection.DOWN: MetricProto.MetricColor.RED,
        MetricProto.MetricDirection.UP: MetricProto.MetricColor.GREEN,
        MetricProto.MetricDirection.NONE: MetricProto.MetricColor.GRAY,
    }
    assert current.direction != MetricProto.MetricDirection.NONE  # the seeded board differs
    assert current.color == expected[current.direction]


RESPOND_TYPED = ("board_respond_value", "board_respond_reason", "board_respond_override")


def test_the_respond_form_keeps_its_place_whatever_shows_above_it(seeded):
    """Field errors, kept messages and "nothing to answer" come and go (a live tick reruns
    the page) while the executive types; the form's widgets must not move (a moved block
    is drawn again empty in the browser, losing the typing: tests/browser/test_typing_race.py)."""
    at = _board(login("exec"), "Respond")

    def places() -> dict:
        return {key: place(at, key) for key in RESPOND_TYPED}

    base = places()
    assert None not in base.values(), base
    at.radio[0].set_value("counter")
    next(b for b in at.button if b.label == "Send response").click()
    at.run()  # refused: the errors show above the form, once
    assert "Enter a number of 0 or more." in [e.value for e in at.error]
    assert places() == base
    at.run()
    assert not at.error
    assert places() == base
    at.radio[0].set_value("counter")
    at.number_input(key="board_respond_value").set_value(140)
    at.text_area(key="board_respond_reason").input("The new AE starts in February.")
    next(b for b in at.button if b.label == "Send response").click()
    at.run()  # "Response recorded", and nothing is left to answer
    assert any("Response recorded" in s.value for s in at.success)
    assert places() == base
    at.run()
    assert places() == base
    from ui import context as ctx

    cur = ctx.connection().cursor()  # the app's own connection (one per file in-process)
    lead = auth.load_user(cur, "lead_south")
    region = sorted(lead.regions)[0]
    neg.propose(cur, lead, seeded, region, 123, *GOOD.values(), expected_last_event=None)
    at.run()  # as the live tick would: a new proposal is marked and announced
    assert any("123" in t.value for t in at.toast)
    assert places() == base
