"""Live board: table, headline, allocations, change marks, charts, join links."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from calibration.accounts import auth, join
from calibration.board import charts as charts_board
from calibration.board import table as board

# A fresh database per test comes from the `con` fixture in tests/conftest.py
# (calibration.store.connect on a file in tmp_path).


def make_state(**overrides: list) -> pd.DataFrame:
    """Three regions a, b, c in the negotiation module's cycle_state shape."""
    n = 3
    base = {
        "region": ["a", "b", "c"],
        "suggestion": [100.0, 200.0, 400.0],
        "lower80": [90.0, 150.0, 300.0],
        "upper80": [150.0, 250.0, 450.0],
        "run_id": [1] * n,
        "proposal_value": [np.nan] * n,
        "proposed_at": [pd.NaT] * n,
        "proposed_by": [None] * n,
        "justification": [None] * n,
        "flagged": [False] * n,
        "review_outcome": [None] * n,
        "response": [None] * n,
        "counter_value": [np.nan] * n,
        "status": ["none"] * n,
        "agreed_value": [np.nan] * n,
        "last_event_id": [np.nan] * n,
        "last_change_at": [pd.NaT] * n,
        "answered_older_run": [False] * n,
    }
    base.update(overrides)
    return pd.DataFrame(base)


def make_history() -> pd.DataFrame:
    """Quarterly history for 2025; the target period is 2026Q1."""
    vals = {
        "a": [80, 100, 100, 120],
        "b": [160, 140, 150, 150],
        "c": [360, 200, 200, 240],
    }
    rows = []
    for region, values in vals.items():
        for q, v in enumerate(values, start=1):
            rows.append((region, f"2025Q{q}", 2025 * 4 + q - 1, float(v)))
    return pd.DataFrame(rows, columns=["region", "period", "ordinal", "value"])


def make_signals() -> pd.DataFrame:
    """AE headcount: a planned 5 (quarterly), b planned monthly 9/10/11, c only 2025Q4 = 5."""
    rows = [
        ("a", "headcount_ae", "2026Q1", 2026 * 4, "capacity", 5.0),
        ("a", "headcount_ae", "2025Q4", 2025 * 4 + 3, "capacity", 4.0),
        ("b", "headcount_ae", "2026-01", 2026 * 12, "capacity", 9.0),
        ("b", "headcount_ae", "2026-02", 2026 * 12 + 1, "capacity", 10.0),
        ("b", "headcount_ae", "2026-03", 2026 * 12 + 2, "capacity", 11.0),
        ("c", "headcount_ae", "2025Q3", 2025 * 4 + 2, "capacity", 3.0),
        ("c", "headcount_ae", "2025Q4", 2025 * 4 + 3, "capacity", 5.0),
        ("c", "search_index", "2026Q1", 2026 * 4, "market", 99.0),
    ]
    return pd.DataFrame(
        rows, columns=["region", "signal", "period", "ordinal", "dimension", "value"]
    )


REGIONS = pd.DataFrame(
    {
        "region": ["a", "b", "c", "north", "south"],
        "name_en": ["Alpha", "Beta", "Gamma", "North", "South"],
        "name_zh": ["甲", "乙", "丙", "北区", "南区"],
        "parent": ["north", "north", "south", None, None],
        "lead": ["lead_a", "lead_b", "lead_c", None, None],
    }
)


# ---------------------------------------------------------------------------- headline


def test_headline_seed_example_980_vs_1200_is_22_percent():
    state = make_state(
        suggestion=[300.0, 300.0, 400.0],
        proposal_value=[280.0, np.nan, 400.0],
        status=["proposed", "none", "agreed"],
        agreed_value=[np.nan, np.nan, 400.0],
    )
    h = board.headline(state, 1200, signed_count=1)
    assert h["current_sum"] == 980
    assert h["suggestion_sum"] == 1000
    assert h["gap"] == 220
    assert round(h["gap_pct"]) == 22
    assert h["gap_pct"] == pytest.approx(220 / 980 * 100)
    assert h["gap_share_of_target_pct"] == pytest.approx(220 / 1200 * 100)
    assert h["agreed_sum"] == 400
    assert (h["proposed"], h["agreed"], h["signed"], h["regions"]) == (2, 1, 1, 3)
    assert h["all_agreed"] is False


def test_headline_counts_flagged_and_no_target():
    state = make_state(
        proposal_value=[70.0, 200.0, np.nan],
        flagged=[True, False, False],
        status=["flagged", "countered", "none"],
    )
    h = board.headline(state, None)
    assert h["flagged"] == 1 and h["countered"] == 1 and h["proposed"] == 2
    assert h["current_sum"] == 70 + 200 + 400
    assert np.isnan(h["gap"]) and np.isnan(h["gap_pct"])


# ---------------------------------------------------------------------------- table


def test_board_table_columns_and_values():
    state = make_state(
        proposal_value=[120.0, np.nan, 300.0],
        status=["proposed", "none", "flagged"],
        flagged=[False, False, True],
        justification=[
            "**Two** new AEs start in <b>January</b>; see [plan](http://x)",
            None,
            "大客户续约存在不确定性" * 12,
        ],
        answered_older_run=[True, False, False],
        last_event_id=[5, np.nan, 7],
    )
    table = board.board_table(state, REGIONS, make_history(), "2026Q1", "en")
    assert list(table.columns) == list(board.BOARD_COLUMNS)
    a = table.set_index("region").loc["a"]
    assert a["name"] == "Alpha" and a["parent_name"] == "North"
    assert a["last_actual"] == 120 and a["last_actual_period"] == "2025Q4"
    assert a["same_period_last_year"] == 80
    assert a["current"] == 120 and a["delta_pct"] == pytest.approx(20.0)
    assert a["vs_last_year_pct"] == pytest.approx(50.0)
    assert a["older_run"] and a["position"] == "within"
    assert a["justification_preview"] == "Two new AEs start in January; see plan"
    b = table.set_index("region").loc["b"]
    assert b["current"] == 200 and np.isnan(b["delta_pct"]) and b["status_label"] == "Waiting"
    c = table.set_index("region").loc["c"]
    assert c["position"] == "within" and c["flagged"]
    assert len(c["justification_preview"]) <= board.PREVIEW_CHARS
    assert c["justification_preview"].endswith("…")
    zh = board.board_table(state, REGIONS, make_history(), "2026Q1", "zh")
    assert zh.set_index("region").loc["c", "name"] == "丙"

    roll = board.rollup(table)
    assert list(roll.columns) == list(board.ROLLUP_COLUMNS)
    north = roll.set_index("parent").loc["north"]
    assert north["regions"] == 2 and north["suggestion"] == 300 and north["current"] == 320
    assert north["proposed"] == 1 and north["name"] == "North"
    assert board.rollup(board.board_table(state, REGIONS.assign(parent=None), None, "2026Q1")).empty


def test_preview_plain_text():
    assert board.preview("# Plan\n\n- **lead_east** hires _two_ AEs<br>in `Q1`") == (
        "Plan lead_east hires two AEs in Q1"
    )
    assert board.preview(None) == "" and board.preview(float("nan")) == ""
    long = "word " * 40
    out = board.preview(long)
    assert len(out) <= board.PREVIEW_CHARS and out.endswith("…") and "  " not in out


def test_changes_since():
    before = make_state(last_event_id=[1, np.nan, 3])
    after = make_state(last_event_id=[1, 4, 5])
    assert board.changes_since(before, after) == {"b", "c"}
    assert board.changes_since(None, after) == set()
    assert board.changes_since(after, after) == set()
    grown = pd.concat([after, make_state(region=["d", "e", "f"]).iloc[:1]], ignore_index=True)
    assert board.changes_since(after, grown) == {"d"}


def test_position_vs_interval():
    pos = board.position_vs_interval(
        pd.Series([1.0, 5.0, 10.0, 11.0, 3.0]),
        pd.Series([2.0, 2.0, 2.0, 2.0, np.nan]),
        pd.Series([10.0, 10.0, 10.0, 10.0, 4.0]),
    )
    assert list(pos) == ["below", "within", "within", "above", None]


def test_renamed_state_column_fails_loudly():
    # Issue 14: a renamed negotiation column used to be filled with NaN, so board cells went
    # blank without a word; the board reads cycle_state's names and fails with a KeyError.
    state = make_state(proposal_value=[120.0, 210.0, np.nan], agreed_value=[np.nan, 210.0, np.nan])
    state = state.rename(columns={"agreed_value": "agreed_val"})
    with pytest.raises(KeyError, match="agreed_value"):
        board.board_table(state, REGIONS, make_history(), "2026Q1")
    with pytest.raises(KeyError, match="agreed_value"):
        board.headline(state, 1000)


def test_negotiation_object_columns():
    # The negotiation module builds its frame from dicts: None in number columns.
    state = make_state(status=["proposed", "agreed", "flagged"], flagged=[False, False, True])
    state = state.assign(
        proposal_value=pd.Series([120.0, 210.0, None], dtype=object),
        agreed_value=pd.Series([None, 210.0, None], dtype=object),
        proposed_at=None,
        proposed_by=None,
        last_event_id=pd.Series([3, 4, None], dtype=object),
        extra_column="ignored",
    )
    h = board.headline(state, 1000)
    assert h["current_sum"] == 120 + 210 + 400 and h["agreed_sum"] == 210
    assert h["flagged"] == 1 and h["awaiting_review"] == 1
    table = board.board_table(state, REGIONS, make_history(), "2026Q1")
    assert list(table["current"]) == [120, 210, 400]
    alloc = board.allocate("suggestion", 1000, state, make_history(), None, "2026Q1")
    assert alloc.set_index("region").loc["b", "implied"] == 210
    assert alloc["implied"].sum() == 1000
    assert board.changes_since(state, state.assign(last_event_id=[3, 5, None])) == {"b"}


# ---------------------------------------------------------------------------- allocation

HAND = {
    # target 1000; see make_state / make_history / make_signals for the inputs.
    # suggestion 100:200:400 → 142.86, 285.71, 571.43 → floors 998, +1 to the two largest
    # remainders (a .86, b .71).
    "suggestion": [143, 286, 571],
    # upper 150:250:450 (850) → 176.47, 294.12, 529.41 → +1 to a.
    "stretch": [177, 294, 529],
    # headcount a 5 (plan), b mean(9, 10, 11) = 10 (monthly plan), c 5 (last known) → 1:2:1.
    "capacity": [250, 500, 250],
    # 2025Q1 80:160:360 (600) → everyone ×1.667 → 133.33, 266.67, 600 → +1 to b.
    "equal_growth": [133, 267, 600],
    # 2025 totals 400:600:1000 → 20%, 30%, 50%.
    "prior_share": [200, 300, 500],
}


@pytest.mark.parametrize("method", board.METHODS)
def test_allocation_sums_to_target_and_matches_hand(method):
    alloc = board.allocate(method, 1000, make_state(), make_history(), make_signals(), "2026Q1")
    assert list(alloc.columns) == list(board.ALLOCATION_COLUMNS)
    assert alloc["implied"].sum() == 1000
    assert list(alloc["implied"]) == HAND[method]
    assert not alloc["kept"].any()
    assert alloc["label_en"].str.len().gt(0).all() and alloc["label_zh"].str.len().gt(0).all()


def test_equal_growth_gives_everyone_the_same_growth():
    alloc = board.allocate(
        "equal_growth", 1200, make_state(), make_history(), None, "2026Q1", integer=False
    )
    assert alloc["implied"].sum() == pytest.approx(1200, abs=1e-9)
    assert np.allclose(alloc["vs_last_year_pct"], 100.0)


def test_allocation_keeps_agreed_regions():
    state = make_state(agreed_value=[np.nan, np.nan, 450.0], status=["none", "none", "agreed"])
    alloc = board.allocate("suggestion", 1000, state, make_history(), None, "2026Q1")
    c = alloc.set_index("region")
    assert c.loc["c", "implied"] == 450 and c.loc["c", "kept"]
    # remainder 550 split 100:200 → 183.33, 366.67 → +1 to b.
    assert (c.loc["a", "implied"], c.loc["b", "implied"]) == (183, 367)
    assert alloc["implied"].sum() == 1000
    assert c.loc["c", "label_en"] == "Already agreed: kept as it is"


def test_allocation_position_and_labels():
    alloc = board.allocate(
        "suggestion", 1000, make_state(), make_history(), None, "2026Q1"
    ).set_index("region")
    # a 143 in [90, 150]; b 286 > 250; c 571 > 450.
    assert list(alloc["position"]) == ["within", "above", "above"]
    assert alloc.loc["b", "label_en"] == "43% above the suggestion, beyond what the data supports"
    assert "超出数据支持的范围" in alloc.loc["b", "label_zh"]
    low = board.allocate("suggestion", 500, make_state(), make_history(), None, "2026Q1").set_index(
        "region"
    )
    assert low.loc["b", "position"] == "below" and "below" in low.loc["b", "label_en"]


def test_capacity_imputes_missing_headcount_from_suggestion():
    signals = make_signals()
    signals = signals[signals["region"] != "c"]
    alloc = board.allocate("capacity", 1000, make_state(), make_history(), signals, "2026Q1")
    c = alloc.set_index("region")
    # a 5, b 10 per 300 of suggestion → c (400) counts as 20 AEs: 5:10:20.
    assert c.loc["c", "basis_imputed"] and c.loc["c", "basis"] == pytest.approx(20)
    assert list(alloc["implied"]) == [143, 286, 571]


def test_allocation_errors():
    with pytest.raises(board.AllocationError) as e:
        board.allocate("peanut_butter", 1000, make_state(), make_history(), None, "2026Q1")
    assert e.value.key == "board.err_method"
    agreed = make_state(agreed_value=[600.0, 600.0, np.nan])
    with pytest.raises(board.AllocationError) as e:
        board.allocate("suggestion", 1000, agreed, make_history(), None, "2026Q1")
    assert e.value.key == "board.err_agreed_exceed"
    with pytest.raises(board.AllocationError) as e:
        board.allocate("capacity", 1000, make_state(), make_history(), None, "2026Q1")
    assert e.value.key == "board.err_no_basis"
    assert "AE" in board.t(e.value.key, "en", **e.value.values)


def test_empty_cycle():
    empty = make_state().iloc[0:0]
    table = board.board_table(empty, REGIONS, make_history(), "2026Q1")
    assert list(table.columns) == list(board.BOARD_COLUMNS) and table.empty
    assert board.rollup(table).empty
    h = board.headline(empty, 100)
    assert h["regions"] == 0 and h["current_sum"] == 0 and np.isnan(h["gap_pct"])
    results = board.allocate_all(100, empty, make_history(), None, "2026Q1")
    assert all(isinstance(r, board.AllocationError) for r in results.values())


def test_allocate_all_reports_each_method():
    results = board.allocate_all(1000, make_state(), make_history(), None, "2026Q1")
    assert set(results) == set(board.METHODS)
    assert isinstance(results["capacity"], board.AllocationError)
    assert list(results["suggestion"]["implied"]) == HAND["suggestion"]


def test_allocation_floats_for_non_count_metrics():
    history = make_history().assign(value=lambda d: d["value"] + 0.5)
    alloc = board.allocate("prior_share", 1234.5, make_state(), history, None, "2026Q1")
    assert alloc["implied"].sum() == pytest.approx(1234.5, abs=1e-9)
    assert not alloc["implied"].apply(float.is_integer).all()


# ---------------------------------------------------------------------------- charts


def test_charts_build_and_serialise():
    state = make_state(proposal_value=[120.0, 180.0, np.nan], agreed_value=[np.nan, np.nan, 400.0])
    table = board.board_table(state, REGIONS, make_history(), "2026Q1", "zh")
    h = board.headline(state, 1200)
    alloc = board.allocate("stretch", 1200, state, make_history(), None, "2026Q1")
    for big in (False, True):
        specs = [
            charts_board.regions_chart(table, "zh", big=big).to_dict(),
            charts_board.bridge_chart(h, table, "zh", big=big).to_dict(),
            charts_board.allocation_chart(alloc, "zh", big=big).to_dict(),
        ]
        for spec in specs:
            assert spec["config"]["axis"]["labelFontSize"] == (20 if big else 12)
    text = json.dumps(specs, ensure_ascii=False)
    assert "模型建议" in text and "超出数据支持的范围" in text


def test_bridge_steps_end_at_target():
    state = make_state(proposal_value=[120.0, 180.0, np.nan])
    table = board.board_table(state, REGIONS, make_history(), "2026Q1")
    steps = charts_board.bridge_steps(board.headline(state, 1200), table, "en")
    assert list(steps["role"]) == ["start", "region", "region", "gap"]
    assert steps["end"].iloc[0] == 700
    assert steps["start"].iloc[-1] == 700 and steps["end"].iloc[-1] == 1200
    assert steps["delta"].iloc[-1] == 500
    many = charts_board.bridge_steps(board.headline(state, 1200), table, "en", max_regions=1)
    assert list(many["role"]) == ["start", "region", "other", "gap"]


# ---------------------------------------------------------------------------- join links


@pytest.fixture
def people(con):
    cur = con.cursor()
    for name, role, regions in (
        ("exec", "executive", []),
        ("analyst", "analyst", []),
        ("lead_a", "lead", ["a"]),
        ("lead_b", "lead", ["b"]),
    ):
        auth.add_user(cur, auth.SYSTEM, name, role, "password-123", regions)
    return {n: auth.load_user(cur, n) for n in ("exec", "analyst", "lead_a", "lead_b")}


def _token(url: str) -> str:
    return url.split("join=", 1)[1]


def test_join_create_and_redeem_once(con, people):
    cur = con.cursor()
    links = join.create_join_links(
        cur, people["exec"], 7, "https://calibrate.example/?lang=zh", ["lead_a", "lead_b"]
    )
    assert [lead for lead, _ in links] == ["lead_a", "lead_b"]
    url = links[0][1]
    assert url.startswith("https://calibrate.example/?lang=zh&join=")
    assert join.redeem(cur, _token(url)) == ("lead_a", 7)
    with pytest.raises(join.JoinError) as e:
        join.redeem(cur, _token(url))
    assert e.value.key == "join.err_used"
    with pytest.raises(join.JoinError) as e:
        join.redeem(cur, "not-a-token")
    assert e.value.key == "join.err_invalid"
    status = join.link_status(cur, 7).set_index("username")
    assert pd.notna(status.loc["lead_a", "used_at"])
    assert pd.isna(status.loc["lead_b", "used_at"])


def test_join_expiry_with_injected_clock(con, people):
    cur = con.cursor()
    t0 = datetime(2026, 11, 23, 9, 0)
    (_, url), (_, url_b) = join.create_join_links(
        cur, people["exec"], 1, "http://localhost:8501", ["lead_a", "lead_b"], now=t0
    )
    with pytest.raises(join.JoinError) as e:
        join.redeem(cur, _token(url), now=t0 + timedelta(hours=2))
    assert e.value.key == "join.err_expired"
    assert join.redeem(cur, _token(url_b), now=t0 + timedelta(hours=1, minutes=59)) == (
        "lead_b",
        1,
    )
    # The expired attempt did not consume the token: it still reports expired, not used.
    with pytest.raises(join.JoinError) as e:
        join.redeem(cur, _token(url), now=t0 + timedelta(hours=3))
    assert e.value.key == "join.err_expired"


def test_only_executives_create_links(con, people):
    cur = con.cursor()
    for who in ("analyst", "lead_a"):
        with pytest.raises(PermissionError):
            join.create_join_links(cur, people[who], 1, "http://x", ["lead_a"])
    admin = auth.User("root", "Root", "admin")
    assert len(join.create_join_links(cur, admin, 1, "http://x", ["lead_a"])) == 1
    with pytest.raises(join.JoinError) as e:
        join.create_join_links(cur, people["exec"], 1, "http://x", ["lead_a", "analyst"])
    assert e.value.key == "join.err_not_lead"
    # The failing batch wrote nothing.
    assert len(join.link_status(cur, 1)) == 1


def test_lead_accounts(con, people):
    cur = con.cursor()
    leads = join.lead_accounts(cur, people["exec"])
    assert [(x["username"], x["regions"]) for x in leads] == [("lead_a", ["a"]), ("lead_b", ["b"])]
    with pytest.raises(PermissionError):
        join.lead_accounts(cur, people["lead_a"])


def test_join_token_stored_only_as_hash(con, people):
    cur = con.cursor()
    links = join.create_join_links(cur, people["exec"], 3, "http://x", ["lead_a", "lead_b"])
    join.redeem(cur, _token(links[0][1]))
    tables = [
        r[0] for r in cur.execute("SELECT table_name FROM information_schema.tables").fetchall()
    ]
    dump = " ".join(
        cur.execute(f'SELECT * FROM "{name}"').df().astype(str).to_csv() for name in tables
    )
    for _, url in links:
        token = _token(url)
        assert token not in dump
        assert join.token_hash(token) in dump


def test_qr_codes():
    url = "https://calibrate.example/?join=abc"
    assert join.qr_svg(url).startswith("<svg")
    assert join.qr_png(url).startswith(b"\x89PNG")


def test_board_and_join_strings_have_both_languages_and_same_placeholders():
    import string

    from calibration.i18n import catalog

    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    keys = [k for k in catalog() if k.startswith(("board.", "join."))]
    assert len(keys) > 50
    for key in keys:
        texts = catalog()[key]
        assert texts.get("en") and texts.get("zh"), key
        assert fields(texts["en"]) == fields(texts["zh"]), key


def test_lock_hint_says_who_can_lock() -> None:
    from calibration.i18n import t

    # Issue 15: "Possible once every region is agreed" had no subject.
    assert t("board.lock_help", "en").startswith(
        "You can lock the cycle once every region is agreed"
    )
    assert t("board.lock_help", "zh").startswith("所有区域达成一致后,您即可锁定本周期")


def test_bridge_labels_write_changes_as_the_rest_of_the_app():
    """The waterfall's labels: "+13" and "−43" (U+2212, calibration/numbers.py), no "-43"."""
    state = make_state(proposal_value=[120.0, 180.0, np.nan])
    table = board.board_table(state, REGIONS, make_history(), "2026Q1")
    h = board.headline(state, 1200)
    spec = charts_board.bridge_chart(h, table, "en", big=False).to_dict()
    labels = [row["text"] for data in spec["datasets"].values() for row in data if "text" in row]
    changes = [s for s in labels if s[0] in "+-\u2212"]
    assert changes and not [s for s in changes if s.startswith("-")], labels
    assert any(s.startswith("\u2212") for s in changes), labels
