"""AppTest: the lead's My region page and the HRBP's Review queue."""

from __future__ import annotations

import pytest

from calibration.negotiation import service as neg
from calibration.store import connect
from tests.apptest_helpers import errors, login, place, scoped
from tests.nego_fixtures import ANALYST, EXEC, GOOD, counter, last_id, make_run

JUST = "Search interest fell 12% and a key renewal slipped to Q2."


@pytest.fixture
def seeded(app_env):
    """The app's database with the demo accounts and an open cycle (hand-made run)."""
    con = connect(app_env)
    cur = con.cursor()
    # app_env is already a copy of the seeded demo (seeding it again cost 10-30 s).
    cid = neg.create_cycle(cur, EXEC, "2026Q1 new customers", "new_customers", "2026Q1", 1200)
    neg.publish_run(cur, ANALYST, cid, make_run(1, {"east": 220.0, "south": 200.0, "north": 180.0}))
    neg.open_cycle(cur, EXEC, cid)
    con.close()
    return app_env, cid


def my_region(lang: str = "en"):
    at = login("lead_east", lang=lang)
    at.switch_page("pages/my_region.py")
    at.run()
    assert not at.exception, at.exception
    return at


def fill(
    at,
    value: float,
    justification: str = JUST,
    support: str = "One more AE",
    risk: str = "Renewal in doubt",
):
    at.number_input(
        key=next(k for k in at.session_state if str(k).startswith("nego_value_"))
    ).set_value(value)
    at.text_area(key=scoped(at, "nego_just")).input(justification)
    at.text_area(key=scoped(at, "nego_support")).input(support)
    at.text_area(key=scoped(at, "nego_risk")).input(risk)


def submit(at):
    next(b for b in at.button if b.label == "Submit proposal").click()
    at.run()
    assert not at.exception, at.exception


def test_form_labels_in_english_and_chinese(seeded):
    at = my_region()
    labels = {w.label for w in at.text_area} | {w.label for w in at.number_input}
    assert {"Proposed target", "Justification", "Support needed", "Risk"} <= labels
    assert at.radio(key=scoped(at, "nego_conf")).label == "Confidence"
    assert any(b.label == "Submit proposal" for b in at.button)
    zh = my_region("zh")
    assert {"提报目标", "理由", "所需支持", "风险"} <= (
        {w.label for w in zh.text_area} | {w.label for w in zh.number_input}
    )
    assert any(b.label == "提交提报" for b in zh.button)


def test_lead_submits_and_field_errors_show(seeded):
    path, cid = seeded
    at = my_region()
    fill(at, 210, justification="short", support=" ", risk="ok")
    submit(at)
    texts = errors(at)
    assert "Explain your number in at least 20 characters." in texts
    assert "Required." in texts
    con = connect(path)
    assert neg.cycle_state(con.cursor(), cid).set_index("region").loc["east", "status"] == "none"
    fill(at, 210)
    submit(at)
    assert not errors(at)
    assert any("Proposal saved." in s.value for s in at.success)
    row = neg.cycle_state(con.cursor(), cid).set_index("region").loc["east"]
    assert (row["proposal_value"], row["justification"], row["status"]) == (210.0, JUST, "proposed")
    con.close()
    # a revision starts from the stored text; no widget/session-state warnings
    assert at.text_area(key=scoped(at, "nego_just")).value == JUST
    assert at.radio(key=scoped(at, "nego_conf")).value == "medium"
    assert not [w.value for w in at.warning if "Session State" in w.value]
    at.run()
    assert at.text_area(key=scoped(at, "nego_just")).value == JUST and not at.exception


def test_dissent_warning_before_submit_and_hr_resolves(seeded):
    path, cid = seeded
    at = my_region()
    key = next(k for k in at.session_state if str(k).startswith("nego_value_"))
    at.number_input(key=key).set_value(150).run()  # 32% below 220
    assert any("will go to HR review" in w.value for w in at.warning)
    fill(at, 150, justification="<b>bold?</b> " + JUST)
    submit(at)
    assert any("went to HR review" in s.value for s in at.success)

    hr = login("hrbp")
    hr.switch_page("pages/review.py")
    hr.run()
    assert not hr.exception, hr.exception
    assert any("East" in h.value and "31.8%" in h.value for h in hr.subheader)
    shown = [t.value for t in hr.text]
    assert "<b>bold?</b> " + JUST in shown  # plain text, never HTML
    hr.radio(key="nego_outcome_east").set_value("needs coaching")
    hr.text_area(key="nego_note_east").input("Talked to the lead; renewal risk is real.")
    next(b for b in hr.button if b.label == "Resolve").click()
    hr.run()
    assert not hr.exception and not errors(hr), errors(hr)
    assert any("Review saved." in s.value for s in hr.success)
    assert any("Nothing to review." in i.value for i in hr.info)
    con = connect(path)
    row = neg.cycle_state(con.cursor(), cid).set_index("region").loc["east"]
    assert (row["review_outcome"], row["reviewed_by"]) == ("coaching", "hrbp")
    assert neg.verify_chain(con.cursor()).ok
    con.close()


def test_stale_write_shows_reload_message(seeded):
    path, cid = seeded
    con = connect(path)
    cur = con.cursor()
    from calibration.accounts.auth import load_user

    neg.propose(
        cur, load_user(cur, "lead_east"), cid, "east", 200, **GOOD, expected_last_event=None
    )
    at = my_region()  # the lead's page now shows that proposal
    counter(cur, cid, "east", 215, "Pipeline")
    fill(at, 205)
    submit(at)
    # What changed, by region name (issue 12).
    # The message is Markdown with its punctuation escaped (typed names inside it).
    shown = [e.replace("\\", "") for e in errors(at)]
    assert any(
        e.startswith("East changed: Chen Wei 陈伟 (Executive) countered with 215 at")
        and e.endswith("Check and send again.")
        for e in shown
    ), shown
    # the page now shows the counter-offer; accepting it works
    # The counter's heading names the executive by display name, not the username.
    assert any("Counter-offer from Chen Wei" in h.value for h in at.subheader)
    next(b for b in at.button if b.label == "Accept counter-offer").click()
    at.run()
    assert not errors(at)
    row = neg.cycle_state(cur, cid).set_index("region").loc["east"]
    assert (row["status"], row["agreed_value"]) == ("agreed", 215.0)
    con.close()


def test_comment_on_my_region(seeded):
    path, cid = seeded
    at = my_region()
    at.text_area(key=scoped(at, "nego_comment")).input("=cmd|' /C calc'!A0 <script>x</script>")
    next(b for b in at.button if b.label == "Post").click()
    at.run()
    assert not at.exception and not errors(at)
    assert "=cmd|' /C calc'!A0 <script>x</script>" in [t.value for t in at.text]


def test_chinese_field_errors(seeded):
    at = my_region("zh")
    fill(at, 210, justification="太短了", support="一名客户经理", risk="续约")
    next(b for b in at.button if b.label == "提交提报").click()
    at.run()
    assert not at.exception, at.exception
    assert "请用至少 20 个字符说明理由。" in errors(at)


def test_attachment_listed_with_download(seeded):
    path, cid = seeded
    con = connect(path)
    cur = con.cursor()
    from calibration.accounts.auth import load_user

    neg.add_attachment(
        cur,
        load_user(cur, "lead_east"),
        cid,
        "east",
        "renewal.pdf",
        b"%PDF-1.4\n%%EOF\n",
        note="Renewal status",
    )
    con.close()
    at = my_region()
    assert "Renewal status" in [t.value for t in at.text]
    assert any(d.label == "Download renewal.pdf" for d in at.get("download_button"))


def test_an_agreed_counter_below_the_proposal_shows_one_minus_sign(seeded):
    """The current number's change against the lead's proposal is written like every other
    signed number (U+2212, as calibration/numbers.py), not with a hyphen ("-20")."""
    path, cid = seeded
    con = connect(path)
    cur = con.cursor()
    from calibration.accounts.auth import load_user

    lead = load_user(cur, "lead_east")
    neg.propose(cur, lead, cid, "east", 220, **GOOD, expected_last_event=None)
    counter(cur, cid, "east", 200, "Plan")
    neg.accept_counter(cur, lead, cid, "east", expected_last_event=last_id(cur, cid, "east"))
    con.close()
    at = my_region()
    (current,) = [m for m in at.metric if m.proto.body == "200"]
    assert current.proto.delta.startswith("\u221220 "), current.proto.delta


# The widgets a person types into on My region (the comment box below the form too).
TYPED_INTO = ("nego_just", "nego_support", "nego_hc", "nego_budget", "nego_risk", "nego_conf")


def form_places(at) -> dict[str, tuple[int, ...] | None]:
    """Where each widget a person types into sits on the page (see apptest_helpers.place)."""
    places = {name: place(at, scoped(at, name)) for name in TYPED_INTO}
    places["comment"] = place(at, scoped(at, "nego_comment"))
    return places


def test_the_form_keeps_its_place_whatever_shows_above_it(seeded):
    """The dissent warning, field errors, a kept message and a counter-offer come and go
    while a lead types; the form's widgets must not move (a moved block is drawn again
    empty in the browser, losing the typing: tests/browser/test_typing_race.py)."""
    path, cid = seeded
    at = my_region()
    base = form_places(at)
    assert None not in base.values(), base
    key = scoped(at, "nego_value")
    at.number_input(key=key).set_value(150).run()  # the dissent warning
    assert any("will go to HR review" in w.value for w in at.warning)
    assert form_places(at) == base
    fill(at, 210, justification="short", support=" ", risk="ok")
    submit(at)  # field errors under the number's neighbours
    assert errors(at)
    assert form_places(at) == base
    fill(at, 210)
    submit(at)  # "Proposal saved." above the page, once
    assert any("Proposal saved." in s.value for s in at.success)
    assert form_places(at) == base
    at.run()
    assert not at.success
    assert form_places(at) == base
    con = connect(path)
    counter(con.cursor(), cid, "east", 215, "Pipeline")
    con.close()
    at.run()  # the executive's counter-offer box above the form
    assert any("Counter-offer" in h.value for h in at.subheader)
    assert form_places(at) == base


def test_the_review_box_keeps_its_place_when_the_region_moves_on(seeded):
    """The HR partner types a note while the executive counters the flagged region: the
    "now at" line that appears above the note must not move the note's box."""
    path, cid = seeded
    at = my_region()
    fill(at, 150)
    submit(at)
    hr = login("hrbp")
    hr.switch_page("pages/review.py")
    hr.run()
    base = place(hr, "nego_note_east")
    assert base is not None
    con = connect(path)
    counter(con.cursor(), cid, "east", 215, "Pipeline")
    con.close()
    hr.run()
    assert not hr.exception, hr.exception
    assert any("215" in c.value for c in hr.caption), [c.value for c in hr.caption]
    assert place(hr, "nego_note_east") == base


def test_typing_survives_a_visit_to_another_page(seeded):
    """A lead types the justification, looks at the Inbox and comes back: the text is still
    in the form (Streamlit drops a widget's value on a page without it) and in the draft."""
    at = my_region()
    at.text_area(key=scoped(at, "nego_just")).input(JUST).run()
    at.switch_page("pages/inbox.py")
    at.run()
    assert not at.exception, at.exception
    at.switch_page("pages/my_region.py")
    at.run()
    assert not at.exception, at.exception
    assert at.text_area(key=scoped(at, "nego_just")).value == JUST
    at.text_area(key=scoped(at, "nego_risk")).input("Renewal in doubt").run()  # saves the draft
    assert at.text_area(key=scoped(at, "nego_just")).value == JUST
