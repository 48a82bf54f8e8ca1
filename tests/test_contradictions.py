"""Issue 15: what one part of a page says, no other part contradicts (demo workshop).

Each test reproduces one contradiction a person saw: a green "On track" banner beside a
projection below the target, "nothing recorded" under a red heatmap, "no support was
promised" when the lead wrote what support is needed, and two upload limits for evidence.
"""

from __future__ import annotations

from datetime import date

import pytest

from calibration.negotiation import service as neg
from calibration.tracking import service as ts
from tests.apptest_helpers import login
from tests.tracking_fixtures import TARGETS, negotiated_cycle

CLOSED = 2  # the demo's closed 2025Q4 cycle


def tracking_page(username: str, cycle_id: int, lang: str = "en"):
    """The Tracking page of a demo cycle, as username."""
    at = login(username, lang=lang)
    at.session_state["cycle_id"] = cycle_id
    at.switch_page("pages/tracking.py")
    at.run()
    assert not at.exception, at.exception
    return at


def test_banner_follows_the_projection(app_env) -> None:
    # 24 December 2025: East's pace is 97% (green by pace) but it projects 230 of 234.
    at = tracking_page("lead_east", CLOSED)
    at.date_input[0].set_value(date(2025, 12, 24))
    at.run()
    assert not at.exception, at.exception
    on_track = "On track"
    assert not any(on_track in s.value for s in at.success), [s.value for s in at.success]
    banner = [w.value for w in at.warning if "230" in w.value and "234" in w.value]
    assert banner, [w.value for w in at.warning]


def test_outlook_levels() -> None:
    row = {"status": "green", "warning": False, "projected": 240.0, "target": 234.0}
    assert ts.outlook(row) == "green"
    assert ts.outlook({**row, "projected": 230.0}) == "amber"
    assert ts.outlook({**row, "warning": True}) == "amber"
    assert ts.outlook({**row, "status": "red", "projected": 230.0}) == "red"
    # Rounded as people read it: 233.6 of 234 is not a miss.
    assert ts.outlook({**row, "projected": 233.6}) == "green"


def test_no_escalations_is_said_truthfully_for_a_closed_cycle(app_env) -> None:
    # The 2025Q4 heatmap has red weeks in every region, but the cycle was closed before its
    # actuals came in: the tracker (evaluate) never ran on it, by its rules.
    at = tracking_page("exec", CLOSED)
    captions = [c.value for c in at.caption]
    assert "Nothing recorded yet." not in captions
    assert any("closed" in c for c in captions), captions


def test_written_support_becomes_the_commitment(cur) -> None:
    from tests.tracking_fixtures import add_users

    add_users(cur)
    cid = negotiated_cycle(cur, TARGETS)
    rows = ts.commitment_status(cur, cid).set_index("region")
    # South wrote its support as free text only; it is what its letter lists, too.
    assert rows.loc["south", "item"] == "None beyond the current plan."
    assert rows.loc["east", "item"] == "Account executive"


def test_evidence_limit_is_stated_once(app_env) -> None:
    at = login("lead_east")
    at.switch_page("pages/my_region.py")
    at.run()
    assert not at.exception, at.exception
    (uploader,) = [u for u in at.get("file_uploader") if "evidence" in u.label.lower()]
    # The uploader states the limit itself ("10MB per file"): the same as the service's.
    assert uploader.proto.max_upload_size_mb == neg.MAX_ATTACHMENT_BYTES // (1024 * 1024)
    assert "MB" not in uploader.label


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_evaluation_toast_has_plural_forms(lang: str) -> None:
    one = ts.evaluation_summary(ts.Evaluation(None, [{}], 1), lang)
    many = ts.evaluation_summary(ts.Evaluation(None, [{}] * 3, 6), lang)
    assert "(s)" not in one + many
    if lang == "en":
        assert one == "1 new event, 1 notification."
        assert many == "3 new events, 6 notifications."
    else:
        assert many == "新增 3 个事件,6 条通知。"
