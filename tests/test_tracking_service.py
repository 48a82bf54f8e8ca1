"""Tracking service: actuals import, board, evaluate idempotence, inbox routing, root causes,
commitments and forecast value added (fresh DuckDB per test)."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
from datetime import date

import pandas as pd
import pytest

from calibration.accounts.auth import SYSTEM
from calibration.data import importer
from calibration.store import tracking as tq
from calibration.tracking import service as ts
from tests.factories import ROOT, snapshot
from tests.tracking_fixtures import (
    ANALYST,
    EXEC,
    LEAD_EAST,
    LEAD_SOUTH,
    METRIC,
    TARGETS,
    actuals_csv,
    load_scenario,
    negotiated_cycle,
    scenario_cycle,
)

GOOD = "region,date,metric,value\neast,2026-01-05,n,3\neast,2026/1/6,n,2\n"


def load(cur, text: str | bytes, cumulative: bool = False, name: str = "a.csv"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return importer.import_bytes(cur, SYSTEM, "actuals", name, data, cumulative=cumulative)


# ----------------------------------------------------------------------------- import


def test_good_actuals_both_date_forms_and_reimport_changes_nothing(cur):
    result = load(cur, GOOD)
    assert (result.rows, result.inserted, result.updated) == (2, 2, 0)
    stored = tq.load_actuals(cur, "n")
    assert stored["value"].tolist() == [3.0, 2.0]
    assert [d.date() for d in pd.to_datetime(stored["date"])] == [
        date(2026, 1, 5),
        date(2026, 1, 6),
    ]
    before = snapshot(cur)
    again = load(cur, GOOD)
    assert again.source_id is None
    assert snapshot(cur) == before


def test_cumulative_actuals_are_stored_daily_with_chinese_headers(cur):
    text = "区域,日期,指标,数值\neast,2026-01-01,n,3\neast,2026-01-02,n,3\neast,2026/1/3,n,7\n"
    load(cur, text.encode("gbk"), cumulative=True)
    assert tq.load_actuals(cur, "n")["value"].tolist() == [3.0, 0.0, 4.0]


def test_xlsx_actuals(cur):
    buf = io.BytesIO()
    frame = pd.DataFrame(
        {"region": ["east"], "date": [pd.Timestamp("2026-01-05")], "metric": ["n"], "value": [4]}
    )
    frame.to_excel(buf, index=False)
    load(cur, buf.getvalue(), name="a.xlsx")
    assert tq.load_actuals(cur, "n")["value"].tolist() == [4.0]


BAD = {
    "negative daily": (
        "region,date,metric,value\neast,2026-01-05,n,3\neast,2026-01-06,n,-1\n",
        False,
        [(3, "value", "negative daily values are not allowed")],
    ),
    "bad dates": (
        "region,date,metric,value\neast,05.01.2026,n,3\neast,2026-02-30,n,1\neast,,n,1\n",
        False,
        [
            (2, "date", "unrecognised date"),
            (3, "date", "unrecognised date"),
            (4, "date", "value is missing"),
        ],
    ),
    "duplicate": (
        "region,date,metric,value\neast,2026-01-05,n,3\neast,2026/1/5,n,4\n",
        False,
        [(3, "date", "duplicate of row 2")],
    ),
    "not a number": (
        "region,date,metric,value\neast,2026-01-05,n,three\n",
        False,
        [(2, "value", "not a number")],
    ),
    "missing column": ("region,day,metric,value\neast,2026-01-05,n,3\n", False, [(1, "date", "")]),
    "cumulative decreases": (
        "region,date,metric,value\neast,2026-01-01,n,5\neast,2026-01-02,n,4\n"
        "south,2026-01-01,n,1\nsouth,2026-01-02,n,2\n",
        True,
        [(3, "value", "region east decreases on 2026-01-02")],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_actuals_files_are_refused_and_change_nothing(cur, case):
    load(cur, GOOD)
    before = snapshot(cur)
    text, cumulative, expected = BAD[case]
    with pytest.raises(importer.ImportRejected) as info:
        load(cur, text, cumulative, name="bad.csv")
    got = [(p.row, p.column, p.reason) for p in info.value.problems]
    assert len(got) == len(expected), got
    for (row, col, reason), (erow, ecol, ereason) in zip(got, expected, strict=True):
        assert (row, col) == (erow, ecol) and ereason in reason, got
    assert all(p.file == "bad.csv" for p in info.value.problems)
    assert snapshot(cur) == before


def test_cli_import_actuals_cumulative(tmp_path):
    db = tmp_path / "cli.duckdb"
    path = tmp_path / "acts.csv"
    path.write_text("region,date,metric,value\neast,2026-01-01,n,2\neast,2026-01-02,n,5\n")
    cmd = [sys.executable, "-m", "calibration", "import", "actuals", str(path), "--db", str(db)]
    done = subprocess.run([*cmd, "--cumulative"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "2 actuals rows" in done.stdout
    path.write_text("region,date,metric,value\neast,2026-01-01,n,5\neast,2026-01-02,n,2\n")
    bad = subprocess.run([*cmd, "--cumulative"], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "decreases on 2026-01-02" in bad.stderr


def test_only_analyst_or_admin_imports(cur):
    with pytest.raises(PermissionError):
        importer.import_bytes(cur, LEAD_EAST, "actuals", "a.csv", GOOD.encode())


# ----------------------------------------------------------------------------- board


def test_board_statuses_ranking_and_lead_visibility(cur):
    cycle = load_scenario(cur)
    hq = ts.board(cur, EXEC, cycle)
    assert hq.as_of == date(2026, 2, 4)
    assert hq.regions == ["east", "south"]  # worst projected shortfall first
    snap = hq.snapshot.set_index("region")
    assert snap.loc["east", "status"] == "red" and snap.loc["south", "status"] == "green"
    assert snap.loc["east", "shortfall"] > 0
    # Exactly on plan: no warning from float noise.
    assert not snap.loc["south", "warning"]
    lead = ts.board(cur, LEAD_SOUTH, cycle)
    assert lead.regions == ["south"]
    assert set(lead.path["region"]) == {"south"} and set(lead.weekly["region"]) == {"south"}
    # Same numbers for the lead as for HQ.
    assert lead.snapshot.iloc[0]["projected"] == pytest.approx(snap.loc["south", "projected"])
    _, _, company = ts.company_view(hq)
    assert company["target"] == 1350.0


def test_planned_path_uses_past_profile(cur):
    cycle = load_scenario(cur)
    # Front-loaded history for south only: its plan should be front-loaded too.
    lines = ["region,date,metric,value"]
    for i, d in enumerate(pd.date_range("2025-07-01", "2025-09-30")):
        lines.append(f"south,{d.date()},{METRIC},{20 if i < 30 else 1}")
    load(cur, "\n".join(lines) + "\n")
    path = ts.planned_paths(cur, cycle).set_index(["region", "date"])["planned_cum"]
    feb1 = pd.Timestamp("2026-02-01")
    assert path.loc[("south", feb1)] / 450 > path.loc[("east", feb1)] / 900
    assert path.loc[("east", pd.Timestamp("2026-03-31"))] == pytest.approx(900)


# ----------------------------------------------------------------------------- evaluate


def test_evaluate_records_ladder_once_and_routes_inbox(cur):
    cycle = load_scenario(cur)
    first = ts.evaluate(cur, SYSTEM, cycle)
    kinds = [(e["region"], e["kind"]) for e in first.events]
    assert ("east", "alert") in kinds and ("east", "reminder") in kinds
    assert ("east", "escalation") in kinds and ("east", "warning") in kinds
    assert all(r == "east" for r, _ in kinds)
    before = snapshot(cur)
    again = ts.evaluate(cur, SYSTEM, cycle)
    assert again.recorded == 0 and again.notifications == 0
    assert snapshot(cur) == before
    lead = set(ts.inbox(cur, LEAD_EAST)["kind"])
    assert lead == {"alert", "reminder", "warning", "root_cause_request"}
    execs = set(ts.inbox(cur, EXEC)["kind"])
    assert execs == {"alert", "warning", "escalation"}
    assert ts.inbox(cur, LEAD_SOUTH).empty and ts.inbox(cur, ANALYST).empty
    zh = ts.inbox(cur, EXEC, "zh")
    assert any("升级" in text for text in zh["text"])


def test_evaluate_day_by_day_adds_only_new_rungs(cur):
    cycle = load_scenario(cur)
    early = ts.evaluate(cur, SYSTEM, cycle, date(2026, 1, 10))
    assert {e["kind"] for e in early.events} == {"alert", "warning"}
    later = ts.evaluate(cur, SYSTEM, cycle, date(2026, 2, 4))
    assert {e["kind"] for e in later.events} == {"reminder", "escalation"}
    assert len(tq.list_events(cur, 1)) == 4


def test_evaluate_needs_hq(cur):
    cycle = load_scenario(cur)
    with pytest.raises(PermissionError):
        ts.evaluate(cur, LEAD_EAST, cycle)


def test_inbox_read_markers_are_appended_and_per_user(cur):
    cycle = load_scenario(cur)
    ts.evaluate(cur, SYSTEM, cycle)
    mine = ts.inbox(cur, LEAD_EAST)
    assert ts.unread_count(cur, LEAD_EAST) == len(mine) == 4
    theirs = ts.inbox(cur, EXEC)["notification_id"].tolist()
    # Someone else's ids are ignored.
    assert ts.mark_read(cur, LEAD_EAST, theirs) == 0
    assert ts.mark_read(cur, LEAD_EAST, mine["notification_id"].tolist()[:2]) == 2
    assert ts.mark_read(cur, LEAD_EAST, mine["notification_id"].tolist()[:2]) == 0
    assert ts.unread_count(cur, LEAD_EAST) == 2
    assert ts.unread_count(cur, EXEC) == len(theirs)
    assert ts.inbox(cur, LEAD_EAST)["read"].sum() == 2


# ----------------------------------------------------------------------------- root cause


def test_root_cause_only_by_the_regions_lead(cur):
    cycle = load_scenario(cur)
    ts.evaluate(cur, SYSTEM, cycle)
    pending = ts.pending_root_causes(cur, LEAD_EAST, cycle)
    assert len(pending) == 1
    esc_id = int(pending.iloc[0]["event_id"])
    assert ts.pending_root_causes(cur, LEAD_SOUTH, cycle).empty
    for other in (LEAD_SOUTH, EXEC, ANALYST):
        with pytest.raises(PermissionError):
            ts.submit_root_cause(cur, other, esc_id, "resource_gap", "no AE yet")
    with pytest.raises(ValueError):
        ts.submit_root_cause(cur, LEAD_EAST, esc_id, "bad_luck", "x")
    with pytest.raises(ValueError):
        ts.submit_root_cause(cur, LEAD_EAST, esc_id, "resource_gap", "  ")
    alert_id = int(tq.list_events(cur, 1).query("kind == 'alert'").iloc[0]["event_id"])
    with pytest.raises(LookupError):
        ts.submit_root_cause(cur, LEAD_EAST, alert_id, "resource_gap", "x")
    ts.submit_root_cause(cur, LEAD_EAST, esc_id, "resource_gap", "The new AE starts in March.")
    assert ts.pending_root_causes(cur, LEAD_EAST, cycle).empty
    ev = ts.events(cur, EXEC, cycle).set_index("event_id")
    assert ev.loc[esc_id, "root_cause"] == "resource_gap"
    assert "root_cause_submitted" in set(ts.inbox(cur, EXEC)["kind"])
    assert "Resource gap" in ts.inbox(cur, EXEC).iloc[0]["text"]


# ----------------------------------------------------------------------------- commitments


def test_commitments_executive_only_and_red_region_says_undelivered(cur):
    cycle = load_scenario(cur)
    status = ts.commitment_status(cur, cycle)
    assert status[["region", "item", "status"]].values.tolist() == [
        ["east", "One more account executive", "pending"]
    ]
    for who in (LEAD_EAST, ANALYST):
        with pytest.raises(PermissionError):
            ts.set_commitment_status(cur, who, 1, "east", "One more account executive", True)
    with pytest.raises(ValueError):
        ts.set_commitment_status(cur, EXEC, 1, "east", " ", True)
    ts.set_commitment_status(cur, EXEC, 1, "east", "One more account executive", False, "hiring")
    row = ts.board(cur, EXEC, cycle).snapshot.set_index("region").loc["east"]
    assert row["status"] == "red"
    assert "not delivered: One more account executive" in row["support_note"]
    ts.set_commitment_status(cur, EXEC, 1, "east", "One more account executive", True)
    assert ts.board(cur, EXEC, cycle).snapshot.set_index("region").loc["east", "support_note"] == ""
    # Append-only: both changes are kept.
    assert cur.execute("SELECT count(*) FROM commitment_events").fetchall()[0][0] == 2
    assert ts.commitment_status(cur, cycle, LEAD_SOUTH).empty


# ----------------------------------------------------------------------------- FVA


def test_fva_after_the_period_per_region_and_lead_with_exports(cur):
    cycle = load_scenario(cur)
    assert not ts.fva_ready(cur, cycle)
    rest = actuals_csv(date(2026, 2, 5), 55, {"east": 6, "south": 5})
    load(cur, rest, name="rest.csv")
    assert ts.fva_ready(cur, cycle)
    table = ts.fva(cur, EXEC, cycle).set_index("region")
    assert table.loc["east", "actual"] == 540.0 and table.loc["south", "actual"] == 450.0
    assert table.loc["east", "lead"] == "lead_east"
    # East: suggestion 950, agreed 900, actual 540 → the workshop's number was closer.
    assert table.loc["east", "fva"] > 0
    assert list(ts.fva(cur, LEAD_EAST, cycle)["region"]) == ["east"]
    leads = ts.fva_leads(cur, EXEC, cycle)
    assert sorted(leads["lead"]) == ["lead_east", "lead_south"]
    text = ts.fva_export(cur, EXEC, cycle, "csv").decode("utf-8-sig")
    assert text.splitlines()[0].startswith("region,lead,suggestion,proposal,agreed,actual")
    back = pd.read_excel(
        io.BytesIO(ts.fva_export(cur, EXEC, cycle, "xlsx", by="lead")), engine="calamine"
    )
    assert len(back) == 2
    closed = scenario_cycle(status="closed")
    assert ts.fva_ready(cur, closed)


# ----------------------------------------------------------------------------- negotiation


def test_lookup_reads_a_locked_negotiation_cycle(cur):
    load_scenario(cur)
    open_id = negotiated_cycle(cur, TARGETS, lock=False)
    still_open = ts.lookup_cycle(cur, open_id)
    assert still_open.status == "open" and not still_open.tracked
    assert ts.evaluate(cur, SYSTEM, still_open).recorded == 0
    cid = negotiated_cycle(cur, TARGETS)
    cycle = ts.lookup_cycle(cur, cid)
    assert cycle.tracked and cycle.metric == METRIC and cycle.period == "2026Q1"
    rows = cycle.regions.set_index("region")
    assert rows["target"].to_dict() == TARGETS
    assert rows.loc["east", "commitments"] == ["Account executive"]
    # South listed no items: its written support is the commitment, as on its letter.
    assert rows.loc["south", "commitments"] == ["None beyond the current plan."]
    # The actuals were in before the lock, so the lock evaluated at once (issue 12: not a
    # page visit); evaluating every live cycle of the metric again adds nothing.
    assert set(ts.events(cur, SYSTEM, cid)["kind"]) >= {"alert", "reminder", "escalation"}
    (result,) = ts.evaluate_all(cur, SYSTEM, METRIC)
    assert result.recorded == 0
    assert ts.evaluate(cur, SYSTEM, cid).recorded == 0
    assert ts.evaluate_all(cur, SYSTEM, "revenue") == []
    with pytest.raises(LookupError):
        ts.lookup_cycle(cur, 999)


def test_no_events_yet_gives_empty_tables_with_columns(cur):
    cycle = load_scenario(cur, weeks=0)
    for who in (EXEC, LEAD_EAST):
        ev = ts.events(cur, who, cycle)
        assert ev.empty and {"event_id", "region", "kind", "root_cause"} <= set(ev.columns)
        assert ts.pending_root_causes(cur, who, cycle).empty
    assert ts.board(cur, EXEC, cycle).as_of is None
    assert ts.evaluate(cur, SYSTEM, cycle).recorded == 0
    assert list(ts.commitment_status(cur, cycle, LEAD_SOUTH).columns)[:3] == [
        "region",
        "item",
        "status",
    ]


def test_concurrent_evaluations_record_each_event_once(con):
    cycle = load_scenario(con.cursor())
    errors: list[BaseException] = []

    def run() -> None:
        try:
            ts.evaluate(con.cursor(), SYSTEM, cycle)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    cur = con.cursor()
    assert len(tq.list_events(cur, 1)) == 4
    assert len(ts.inbox(cur, LEAD_EAST)) == 4


def test_board_replays_an_earlier_day(cur):
    cycle = load_scenario(cur)
    ts.evaluate(cur, SYSTEM, cycle)
    assert ts.last_actual_day(cur, cycle) == date(2026, 2, 4)
    early = ts.snapshot(cur, EXEC, cycle, date(2026, 1, 10)).set_index("region")
    assert early.loc["east", "days_elapsed"] == 10
    # Only what had been raised by then: the warning (after the alert), not the later rungs.
    assert early.loc["east", "escalation"] == "warning"
    assert (
        ts.snapshot(cur, EXEC, cycle).set_index("region").loc["east", "escalation"] == "escalation"
    )


def test_lookup_fails_loudly_when_negotiation_renames_a_column(cur, monkeypatch):
    # Issue 14: a renamed state column used to turn every target into NaN, so the cycle
    # silently tracked no region; it must fail with the missing column's name instead.
    from calibration.negotiation import service as neg

    load_scenario(cur)
    cid = negotiated_cycle(cur, TARGETS)
    real = neg.cycle_state
    monkeypatch.setattr(
        neg, "cycle_state", lambda c, i: real(c, i).rename(columns={"agreed_value": "agreed_val"})
    )
    with pytest.raises(KeyError, match="agreed_value"):
        ts.lookup_cycle(cur, cid)
