"""Tracking core: path, projection, status, warnings, escalations, FVA, actuals input, charts."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration.i18n import LANGS, t
from calibration.tracking import charts as ct
from calibration.tracking import path as tr

START = pd.Timestamp("2026-01-01")
N = 90  # days in 2026Q1


def even_path(targets: dict[str, float]) -> pd.DataFrame:
    return tr.planned_path(targets, "2026Q1")


def actuals_from_pace(path: pd.DataFrame, region: str, paces: list[float]) -> pd.DataFrame:
    """Daily actuals that give exactly the cumulative pace `paces[i]` on day i+1."""
    p = path[path["region"] == region].reset_index(drop=True)
    cum = np.asarray(paces) * p["planned_cum"].to_numpy()[: len(paces)]
    daily = np.diff(cum, prepend=0.0)
    return pd.DataFrame({"region": region, "date": p["date"][: len(paces)], "value": daily})


def back_loaded_history(regions: list[str], seed: int = 0) -> pd.DataFrame:
    """Daily history for 2025 where the last month of each quarter sells twice the rate."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2025-01-01", "2025-12-31", freq="D")
    rate = np.where((days.month - 1) % 3 == 2, 20.0, 10.0)
    frames = [
        pd.DataFrame({"region": r, "date": days, "value": rng.poisson(rate)}) for r in regions
    ]
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------------------------------
# Planned path
# ------------------------------------------------------------------------------------------


def test_even_path_without_history_ends_at_target() -> None:
    path = even_path({"East": 900.0, "West": 450.0})
    assert list(path.columns) == ["region", "date", "planned_cum"]
    assert len(path) == 2 * N
    east = path[path["region"] == "East"]["planned_cum"].to_numpy()
    assert east[-1] == 900.0
    np.testing.assert_allclose(east, 10.0 * np.arange(1, N + 1))
    assert path["date"].min() == START and path["date"].max() == pd.Timestamp("2026-03-31")


def test_path_follows_history_profile_and_ends_exactly_at_target() -> None:
    hist = back_loaded_history(["East"])
    path = tr.planned_path({"East": 1000.0, "North": 1000.0}, "2026Q1", hist)
    east = path[path["region"] == "East"].set_index("date")["planned_cum"]
    north = path[path["region"] == "North"].set_index("date")["planned_cum"]
    assert east.iloc[-1] == 1000.0 and north.iloc[-1] == 1000.0
    assert east.is_monotonic_increasing
    # Months of 2026Q1: 31, 28, 31 days at rates 1, 1, 2 -> half the target by end of February.
    expected = (31 + 28) / (31 + 28 + 2 * 31)
    assert east.loc["2026-02-28"] / 1000.0 == pytest.approx(expected, abs=0.03)
    # The last month carries about twice the daily plan of the first.
    jan = east.loc["2026-01-31"]
    mar = east.iloc[-1] - east.loc["2026-02-28"]
    assert mar / 31 > 1.7 * jan / 31
    # North has no history: even.
    np.testing.assert_allclose(north.to_numpy(), 1000.0 * np.arange(1, N + 1) / N)


def test_path_ignores_partial_and_future_periods() -> None:
    hist = back_loaded_history(["East"])
    # Only half of 2025Q1 (history file starts mid-quarter), plus a flat 2025Q2.
    hist = hist[(hist["date"] >= "2025-02-15") & (hist["date"] <= "2025-06-30")].copy()
    hist.loc[hist["date"] >= "2025-04-01", "value"] = 10
    path = tr.planned_path({"East": 900.0}, "2026Q1", hist, smooth_days=1)
    # Only the flat 2025Q2 counts: the path is (almost) even.
    np.testing.assert_allclose(
        path["planned_cum"].to_numpy(), 10.0 * np.arange(1, N + 1), rtol=0.03
    )


def test_same_season_profile() -> None:
    hist = back_loaded_history(["East"])
    # Make Q1 2025 front-loaded: with same_season only Q1 is used.
    q1 = hist["date"] < "2025-04-01"
    hist.loc[q1, "value"] = np.where(hist.loc[q1, "date"] < "2025-02-01", 30, 5)
    path = tr.planned_path({"East": 1000.0}, "2026Q1", hist, same_season=True)
    jan = path.set_index("date")["planned_cum"].loc["2026-01-31"]
    assert jan > 600.0


def test_path_rejects_missing_target() -> None:
    with pytest.raises(ValueError, match="target missing"):
        tr.planned_path({"East": float("nan")}, "2026Q1")


# ------------------------------------------------------------------------------------------
# Projection
# ------------------------------------------------------------------------------------------


def test_projection_on_toy_series_is_path_share_rule() -> None:
    path = even_path({"East": 90.0})  # 1 a day
    act = pd.DataFrame({"region": "East", "date": pd.date_range(START, periods=30), "value": 2.0})
    p = tr.project(path, act, settings=tr.ProjectionSettings(prior_days=0, recent_weight=0.0)).iloc[
        0
    ]
    assert p["as_of"] == pd.Timestamp("2026-01-30")
    assert (p["days_elapsed"], p["days_remaining"]) == (30, 60)
    assert p["actual_to_date"] == 60.0 and p["planned_to_date"] == pytest.approx(30.0)
    assert p["pace"] == pytest.approx(2.0)
    # actual / path share to date x target = 60 / (30/90) x 90
    assert p["projected"] == pytest.approx(180.0)
    assert p["projected_attainment"] == pytest.approx(2.0)
    # A perfectly steady series has no day-to-day variance.
    assert p["lower80"] == pytest.approx(180.0) and p["upper80"] == pytest.approx(180.0)


def test_projection_uses_path_share_not_calendar_share() -> None:
    hist = back_loaded_history(["East"])
    path = tr.planned_path({"East": 1000.0}, "2026Q1", hist)
    on_plan = path.assign(value=path["planned_cum"].diff().fillna(path["planned_cum"]))
    act = on_plan[on_plan["date"] <= "2026-02-15"][["region", "date", "value"]]
    p = tr.project(path, act).iloc[0]
    # Exactly on a back-loaded path: projected = target, not the (lower) calendar run rate.
    assert p["pace"] == pytest.approx(1.0)
    assert p["projected"] == pytest.approx(1000.0)


def test_projection_blends_recent_run_rate() -> None:
    path = even_path({"East": 90.0})
    vals = [1.0] * 30 + [3.0] * 14
    act = pd.DataFrame({"region": "East", "date": pd.date_range(START, periods=44), "value": vals})
    a, remaining = sum(vals), 90.0 - 44.0
    only_recent = tr.project(
        path, act, settings=tr.ProjectionSettings(prior_days=0, recent_weight=1.0)
    ).iloc[0]
    assert only_recent["projected"] == pytest.approx(a + remaining * 3.0)
    only_cum = tr.project(
        path, act, settings=tr.ProjectionSettings(prior_days=0, recent_weight=0.0)
    ).iloc[0]
    assert only_cum["projected"] == pytest.approx(a / 44 * 90)
    half = tr.project(
        path, act, settings=tr.ProjectionSettings(prior_days=0, recent_weight=0.5)
    ).iloc[0]
    assert half["projected"] == pytest.approx(
        (only_recent["projected"] + only_cum["projected"]) / 2
    )


def test_projection_as_of_and_interval_shrinks() -> None:
    rng = np.random.default_rng(3)
    path = even_path({"East": 900.0})
    act = pd.DataFrame(
        {"region": "East", "date": pd.date_range(START, periods=N), "value": rng.poisson(9, N)}
    )
    widths = []
    for day in ("2026-01-20", "2026-02-15", "2026-03-10", "2026-03-31"):
        p = tr.project(path, act, day).iloc[0]
        assert p["as_of"] == pd.Timestamp(day)
        assert p["lower80"] <= p["projected"] <= p["upper80"]
        assert p["lower80"] >= p["actual_to_date"]
        widths.append(p["upper80"] - p["lower80"])
    assert widths[0] > widths[1] > widths[2] > 0
    assert widths[3] == 0.0
    last = tr.project(path, act).iloc[0]
    assert last["projected"] == last["actual_to_date"] == act["value"].sum()


def test_projection_interval_coverage_is_about_80_percent() -> None:
    rng = np.random.default_rng(11)
    regions = [f"R{i:03d}" for i in range(300)]
    targets = dict(zip(regions, rng.uniform(200, 2000, len(regions)), strict=True))
    path = tr.planned_path(targets, "2026Q1")
    plan = path.groupby("region")["planned_cum"].diff().fillna(path["planned_cum"])
    rate = np.repeat(rng.uniform(0.7, 1.2, len(regions)), N)
    lam = plan.to_numpy() * rate * rng.gamma(4.0, 0.25, len(path))  # overdispersed counts
    act = path[["region", "date"]].assign(value=rng.poisson(lam))
    final = act.groupby("region")["value"].sum()
    for day in ("2026-01-31", "2026-02-28"):
        p = tr.project(path, act, day).set_index("region")
        covered = (final >= p["lower80"]) & (final <= p["upper80"])
        assert 0.7 <= covered.mean() <= 0.9


def test_projection_series_matches_project() -> None:
    rng = np.random.default_rng(5)
    path = even_path({"East": 900.0, "West": 300.0})
    act = path[["region", "date"]].assign(value=rng.poisson(8, len(path)))
    series = tr.projection_series(path, act)
    one = tr.project(path, act, "2026-02-10").set_index("region")
    row = series[series["as_of"] == "2026-02-10"].set_index("region")
    pd.testing.assert_frame_equal(one, row[one.columns])


# ------------------------------------------------------------------------------------------
# Status
# ------------------------------------------------------------------------------------------


def test_status_boundaries() -> None:
    paces = pd.Series([1.2, 0.95, 0.9499999, 0.85, 0.8499999, 0.0, np.nan])
    got = list(tr.status_of(paces))
    assert got == ["green", "green", "amber", "amber", "red", "red", "green"]
    assert tr.status_of(0.95) == "green"
    assert tr.status_of(0.8) == "red"


def test_status_thresholds_per_cycle() -> None:
    th = tr.StatusThresholds(green=1.0, amber=0.9)
    assert list(tr.status_of(np.array([1.0, 0.99, 0.9, 0.89]), th)) == [
        "green",
        "amber",
        "amber",
        "red",
    ]
    with pytest.raises(ValueError):
        tr.StatusThresholds(green=0.8, amber=0.9)


def test_status_boundary_through_snapshot() -> None:
    path = even_path({"G": 9000.0, "A": 9000.0, "R": 9000.0})  # 100 a day
    days = pd.date_range(START, periods=10)
    # 10 days: plan to date 1000; 950 -> pace exactly 0.95, 850 -> exactly 0.85.
    act = pd.concat(
        [
            pd.DataFrame({"region": r, "date": days, "value": v / 10})
            for r, v in (("G", 950.0), ("A", 850.0), ("R", 849.0))
        ]
    )
    snap = tr.snapshot(path, act).set_index("region")
    assert snap.loc["G", "pace"] == pytest.approx(0.95) and snap.loc["G", "status"] == "green"
    assert snap.loc["A", "pace"] == pytest.approx(0.85) and snap.loc["A", "status"] == "amber"
    assert snap.loc["R", "status"] == "red"


def test_weekly_status_uses_iso_weeks() -> None:
    path = even_path({"East": 900.0})
    act = actuals_from_pace(path, "East", [1.0] * 11 + [0.5] * 10)
    ws = tr.weekly_status(path, act)
    # 2026-01-01 is a Thursday: the first ISO week starts Monday 2025-12-29.
    assert ws["week"].iloc[0] == pd.Timestamp("2025-12-29")
    assert ws["date"].iloc[0] == pd.Timestamp("2026-01-04")
    assert ws["date"].iloc[-1] == pd.Timestamp("2026-01-21")
    assert list(ws["status"]) == ["green", "green", "red", "red"]


# ------------------------------------------------------------------------------------------
# Escalation ladder
# ------------------------------------------------------------------------------------------


def day(n: int) -> date:
    """Calendar date of day n (1-based) of 2026Q1."""
    return (START + pd.Timedelta(days=n - 1)).date()


def kinds(escs: list[tr.Escalation]) -> list[tuple[str, date]]:
    return [(e.kind, e.triggered_on) for e in escs]


@pytest.fixture
def path() -> pd.DataFrame:
    return even_path({"East": 900.0})


def test_alert_after_exactly_three_days(path: pd.DataFrame) -> None:
    two = actuals_from_pace(path, "East", [0.8, 0.8, 1.0, 1.0])
    assert tr.escalations(path, two) == []
    three = actuals_from_pace(path, "East", [0.8, 0.8, 0.8, 1.0])
    assert kinds(tr.escalations(path, three)) == [("alert", day(3))]


def test_alert_boundary_pace_and_reset(path: pd.DataFrame) -> None:
    # Exactly 0.85 is not below; a recovery day resets the count.
    act = actuals_from_pace(path, "East", [0.85, 0.85, 0.85, 0.8, 0.8, 0.9, 0.8, 0.8, 0.8])
    escs = tr.escalations(path, act)
    assert kinds(escs) == [("alert", day(9))]
    assert escs[0].detail["since"] == day(7).isoformat()


def test_alert_fires_once_per_run_and_again_after_recovery(path: pd.DataFrame) -> None:
    act = actuals_from_pace(path, "East", [0.8] * 6 + [1.0] + [0.8] * 3)
    assert kinds(tr.escalations(path, act)) == [("alert", day(3)), ("alert", day(10))]


def test_reminder_after_exactly_two_weeks_not_13_days(path: pd.DataFrame) -> None:
    d13 = actuals_from_pace(path, "East", [0.6] * 13 + [0.75])
    assert [k for k, _ in kinds(tr.escalations(path, d13))] == ["alert"]
    d14 = actuals_from_pace(path, "East", [0.6] * 14 + [0.75])
    escs = tr.escalations(path, d14)
    assert kinds(escs) == [("alert", day(3)), ("reminder", day(14))]
    rem = escs[1]
    assert rem.level == 1 and rem.detail["notify"] == ["lead"]
    assert rem.detail["since"] == "2026-01-01" and rem.detail["run_days"] == 14
    json.dumps(rem.detail)  # the caller stores it as an event payload


def test_escalation_after_exactly_three_weeks(path: pd.DataFrame) -> None:
    d20 = actuals_from_pace(path, "East", [0.6] * 20 + [0.7])  # exactly 0.70 is not below
    assert "escalation" not in [e.kind for e in tr.escalations(path, d20)]
    d21 = actuals_from_pace(path, "East", [0.6] * 21)
    escs = tr.escalations(path, d21)
    assert kinds(escs) == [("alert", day(3)), ("reminder", day(14)), ("escalation", day(21))]
    esc = escs[-1]
    assert esc.level == 2 and "executive" in esc.detail["notify"]
    assert esc.detail["root_cause_options"] == ["external_resistance", "resource_gap", "other"]


def test_recovery_resets_the_weekly_counter(path: pd.DataFrame) -> None:
    # 10 days low, one day at 0.72 (still an alert-level day), 13 days low: no reminder yet.
    act = actuals_from_pace(path, "East", [0.6] * 10 + [0.72] + [0.6] * 13)
    assert "reminder" not in [e.kind for e in tr.escalations(path, act)]
    act = actuals_from_pace(path, "East", [0.6] * 10 + [0.72] + [0.6] * 14)
    assert ("reminder", day(25)) in kinds(tr.escalations(path, act))


def test_escalations_idempotent_and_cut_at_as_of(path: pd.DataFrame) -> None:
    act = actuals_from_pace(path, "East", [0.6] * 30)
    day20 = tr.escalations(path, act, day(20))
    assert kinds(day20) == [("alert", day(3)), ("reminder", day(14))]
    day21 = tr.escalations(path, act, day(21))
    again = tr.escalations(path, act, day(21))
    assert [e.key for e in day21] == [e.key for e in again]
    assert {e.key for e in day20} < {e.key for e in day21}
    new = {e.key for e in day21} - {e.key for e in day20}
    assert new == {("East", "escalation", day(21))}
    # Later days add nothing while the run continues.
    assert {e.key for e in tr.escalations(path, act, day(30))} == {e.key for e in day21}


def test_escalations_per_region_independent() -> None:
    path = even_path({"East": 900.0, "West": 900.0})
    act = pd.concat(
        [
            actuals_from_pace(path, "East", [0.8] * 3),
            actuals_from_pace(path, "West", [1.0] * 3),
        ]
    )
    escs = tr.escalations(path, act)
    assert [(e.region, e.kind) for e in escs] == [("East", "alert")]
    assert hash(escs[0]) == hash(tr.Escalation("East", "alert", 0, day(3)))


def test_root_cause_validation_and_messages() -> None:
    tr.validate_root_cause("resource_gap", "one AE short since January")
    with pytest.raises(ValueError, match="root cause"):
        tr.validate_root_cause("weather", "rain")
    with pytest.raises(ValueError, match="explanation"):
        tr.validate_root_cause("other", "  ")
    e = tr.Escalation("East", "reminder", 1, day(14), {"below": 0.7, "run_days": 14, "pace": 0.6})
    assert "70%" in tr.describe_escalation(e, "en") and "60%" in tr.describe_escalation(e, "en")
    assert "两周" in tr.describe_escalation(e, "zh", region_name="华东")


# ------------------------------------------------------------------------------------------
# Early warning
# ------------------------------------------------------------------------------------------


def test_backtest_synthetic_miss_warns_at_least_14_days_ahead() -> None:
    rng = np.random.default_rng(7)
    path = even_path({"Miss": 900.0, "Made": 900.0, "Exact": 900.0})
    days = pd.date_range(START, periods=N)
    act = pd.concat(
        [
            pd.DataFrame({"region": "Miss", "date": days, "value": rng.poisson(10 * 0.8, N)}),
            pd.DataFrame({"region": "Made", "date": days, "value": rng.poisson(10 * 1.25, N)}),
            pd.DataFrame({"region": "Exact", "date": days, "value": 10.0}),
        ]
    )
    bt = tr.warning_backtest(path, act).set_index("region")
    assert bt.loc["Miss", "missed"] and bt.loc["Miss", "outcome"] == "warned"
    assert bt.loc["Miss", "lead_days"] >= 14
    assert bt.loc["Made", "outcome"] == "quiet" and bt.loc["Exact", "outcome"] == "quiet"
    assert pd.isna(bt.loc["Made", "first_warning"])
    summary = tr.backtest_summary(bt.reset_index())
    assert summary["missed"] == 1 and summary["missed_warned"] == 1
    assert summary["false_alarms"] == 0 and summary["min_lead_days"] >= 14
    # The projected rule warns no later than the upper-bound rule.
    bp = tr.warning_backtest(path, act, tr.WarningSettings(rule="projected")).set_index("region")
    assert bp.loc["Miss", "lead_days"] >= bt.loc["Miss", "lead_days"]


def test_no_warning_with_less_than_14_days_left() -> None:
    path = even_path({"Late": 900.0})
    # On plan until 13 days before the end, then nothing.
    act = actuals_from_pace(path, "Late", [1.0] * (N - 13))
    bt = tr.warning_backtest(path, act).set_index("region")
    assert bt.loc["Late", "missed"] and bt.loc["Late", "outcome"] == "missed_unwarned"
    snap = tr.snapshot(path, act, day(N - 14)).iloc[0]
    assert snap["days_remaining"] == 14 and not snap["warning"]


def test_early_warning_rules() -> None:
    proj = pd.DataFrame(
        {
            "target": [100.0, 100.0, 100.0, 100.0],
            "projected": [90.0, 90.0, 99.0, 90.0],
            "upper80": [99.0, 101.0, 100.0, 99.0],
            "days_remaining": [14, 20, 20, 13],
        }
    )
    assert list(tr.early_warning(proj)) == [True, False, False, False]
    assert tr.WarningSettings().confirm_days == 3
    projected = tr.WarningSettings(rule="projected")
    assert list(tr.early_warning(proj, projected)) == [True, True, True, False]
    with pytest.raises(ValueError):
        tr.WarningSettings(rule="gut")  # type: ignore[arg-type]


def test_warning_confirm_days_delays_by_the_run() -> None:
    path = even_path({"Slow": 900.0})
    act = pd.DataFrame({"region": "Slow", "date": pd.date_range(START, periods=N), "value": 8.0})
    one = tr.warning_backtest(path, act, tr.WarningSettings(confirm_days=1)).iloc[0]
    three = tr.warning_backtest(path, act).iloc[0]  # default: 3 days
    assert three["first_warning"] - one["first_warning"] == pd.Timedelta(days=2)
    assert one["warning_days"] - three["warning_days"] == 2
    day_of_first = one["first_warning"]
    snap1 = tr.snapshot(path, act, day_of_first, warning=tr.WarningSettings(confirm_days=3))
    snap3 = tr.snapshot(
        path, act, day_of_first + pd.Timedelta(days=2), warning=tr.WarningSettings(confirm_days=3)
    )
    assert not snap1["warning"].iloc[0] and snap3["warning"].iloc[0]


# ------------------------------------------------------------------------------------------
# Forecast value added
# ------------------------------------------------------------------------------------------


def fva_input() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": ["East", "West", "North", "South"],
            "lead": ["ann", "ann", "bo", "bo"],
            "suggestion": [220.0, 100.0, 100.0, 50.0],
            "proposal": [200.0, 90.0, 130.0, 40.0],
            "agreed": [210.0, 95.0, 120.0, 45.0],
            "actual": [200.0, 120.0, 100.0, 0.0],
        }
    )


def test_fva_signs() -> None:
    f = tr.forecast_value_added(fva_input()).set_index("region")
    # East: model 10% off, agreed 5% off -> people improved: positive.
    assert f.loc["East", "ape_suggestion"] == pytest.approx(0.10)
    assert f.loc["East", "ape_agreed"] == pytest.approx(0.05)
    assert f.loc["East", "fva"] == pytest.approx(0.05)
    assert f.loc["East", "fva_proposal"] == pytest.approx(0.10)
    # North: model exact, agreed 20% off -> negative.
    assert f.loc["North", "fva"] == pytest.approx(-0.20)
    # West: both low, agreed further off -> negative.
    assert f.loc["West", "fva"] < 0
    # South: actual 0 -> percentage errors undefined.
    assert np.isnan(f.loc["South", "ape_agreed"]) and np.isnan(f.loc["South", "fva"])


def test_fva_totals_and_by_lead() -> None:
    f = tr.forecast_value_added(fva_input())
    s = tr.fva_summary(f)
    assert s["regions"] == 4 and s["regions_improved"] == 1 and s["regions_worsened"] == 2
    assert s["total_actual"] == 420.0 and s["total_agreed"] == 470.0
    assert s["total_ape_agreed"] == pytest.approx(50 / 420)
    assert s["total_fva"] == pytest.approx(s["total_ape_suggestion"] - s["total_ape_agreed"])
    # WAPE: sum |error| / sum actual, zero-actual region included.
    assert s["wape_suggestion"] == pytest.approx((20 + 20 + 0 + 50) / 420)
    assert s["fva"] == pytest.approx(s["mape_suggestion"] - s["mape_agreed"])
    by = tr.fva_by_lead(f).set_index("lead")
    assert list(by.index) == ["ann", "bo"]
    assert by.loc["ann", "regions"] == 2 and by.loc["ann", "sum_actual"] == 320.0
    assert by.loc["bo", "fva"] == pytest.approx(-0.20)  # South's NaN does not count
    with pytest.raises(ValueError, match="needs columns"):
        tr.forecast_value_added(fva_input().drop(columns="agreed"))


# ------------------------------------------------------------------------------------------
# Actuals input
# ------------------------------------------------------------------------------------------


def test_cumulative_to_daily() -> None:
    cum = pd.DataFrame(
        {
            "region": ["East", "East", "East", "West", "West"],
            "date": ["2026-01-03", "2026-01-01", "2026-01-02", "2026-01-01", "2026-01-02"],
            "value": [12, 5, 5, 3, 7],
        }
    )
    d = tr.to_daily(cum, cumulative=True)
    assert list(d.columns) == ["region", "date", "value"]
    assert list(d["value"]) == [5.0, 0.0, 7.0, 3.0, 4.0]
    assert d["date"].iloc[0] == pd.Timestamp("2026-01-01")


def test_cumulative_decrease_is_refused_with_region_and_date() -> None:
    cum = pd.DataFrame(
        {
            "region": ["East", "East", "West", "West"],
            "date": ["2026-01-01", "2026-01-02", "2026-01-01", "2026-01-02"],
            "value": [5, 4, 3, 7],
        }
    )
    with pytest.raises(tr.DecreasingCumulativeError, match="East on 2026-01-02") as err:
        tr.to_daily(cum, cumulative=True)
    assert err.value.rows == [("East", date(2026, 1, 2), 5.0, 4.0)]
    assert isinstance(err.value, ValueError)


def test_cumulative_duplicates_refused_daily_duplicates_summed() -> None:
    dup = pd.DataFrame(
        {"region": ["East", "East"], "date": ["2026-01-01", "2026-01-01"], "value": [2, 3]}
    )
    with pytest.raises(ValueError, match="twice"):
        tr.to_daily(dup, cumulative=True)
    d = tr.to_daily(dup, cumulative=False)
    assert d["value"].tolist() == [5.0]
    with pytest.raises(ValueError, match="missing"):
        tr.to_daily(dup.drop(columns="value"), cumulative=False)


def test_to_daily_keeps_metric() -> None:
    cum = pd.DataFrame(
        {
            "region": ["East"] * 4,
            "metric": ["new", "new", "rev", "rev"],
            "date": ["2026-01-01", "2026-01-02"] * 2,
            "value": [1, 3, 100, 150],
        }
    )
    d = tr.to_daily(cum, cumulative=True)
    assert list(d.columns) == ["region", "metric", "date", "value"]
    assert d["value"].tolist() == [1.0, 2.0, 100.0, 50.0]


# ------------------------------------------------------------------------------------------
# Charts and translations
# ------------------------------------------------------------------------------------------


def test_locale_complete() -> None:
    path = Path(tr.__file__).parents[1] / "locale" / "tracking.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    for key, texts in data.items():
        assert key.startswith("tracking.")
        assert set(LANGS) <= set(texts), key
    assert t("tracking.status.red", "zh") == "必须干预"


@pytest.mark.parametrize("lang", LANGS)
def test_tracking_chart_builds(lang: str) -> None:
    rng = np.random.default_rng(1)
    path = even_path({"East": 900.0, "West": 900.0})
    act = path[path["date"] <= "2026-02-10"][["region", "date"]]
    act = act.assign(value=rng.poisson(8, len(act)))
    row = tr.snapshot(path, act).set_index("region").loc["East"].to_dict() | {"region": "East"}
    chart = ct.tracking_chart(path, act, row, lang)
    spec = chart.to_dict()
    text = json.dumps(spec, ensure_ascii=False)
    assert t("tracking.series.planned", lang) in text
    assert tr.STATUS_COLORS[row["status"]] in text
    assert len(spec["layer"]) == 4


@pytest.mark.parametrize("lang", LANGS)
def test_status_grid_builds(lang: str) -> None:
    path = even_path({"East": 900.0, "West": 900.0})
    act = pd.concat(
        [
            actuals_from_pace(path, "East", [1.0] * 20),
            actuals_from_pace(path, "West", [0.9] * 10 + [0.5] * 10),
        ]
    )
    ws = tr.weekly_status(path, act)
    spec = ct.status_grid(ws, lang, {"East": "华东"}).to_dict()
    text = json.dumps(spec, ensure_ascii=False)
    for colour in tr.STATUS_COLORS.values():
        assert colour in text
    assert t("tracking.status.amber", lang) in text
    assert "华东" in text


# ------------------------------------------------------------------------------------------
# Edge cases of the inputs
# ------------------------------------------------------------------------------------------


def test_monthly_and_annual_paths() -> None:
    feb = tr.planned_path({"East": 280.0}, "2026-02")
    assert len(feb) == 28 and feb["planned_cum"].iloc[-1] == 280.0
    year = tr.planned_path({"East": 365.0}, "2026")
    assert len(year) == 365 and year["planned_cum"].iloc[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unparseable"):
        tr.planned_path({"East": 1.0}, "next quarter")


def test_flat_start_profile_and_no_prior() -> None:
    # History where nothing sells in the first two weeks of a quarter.
    days = pd.date_range("2025-01-01", "2025-12-31", freq="D")
    start = days.to_period("Q").start_time
    value = np.where((days - start).days < 14, 0, 10)
    hist = pd.DataFrame({"region": "East", "date": days, "value": value})
    path = tr.planned_path({"East": 900.0}, "2026Q1", hist, smooth_days=1)
    assert path["planned_cum"].iloc[0] == 0.0
    act = pd.DataFrame({"region": ["East"], "date": [START], "value": [0.0]})
    p = tr.project(path, act, settings=tr.ProjectionSettings(prior_days=0)).iloc[0]
    assert np.isnan(p["pace"]) and p["projected"] == pytest.approx(900.0)
    assert tr.snapshot(path, act)["status"].iloc[0] == "green"
    assert tr.escalations(path, act) == []


def test_inputs_outside_the_path_are_ignored_and_ids_become_text() -> None:
    path = tr.planned_path({1: 90.0, 2: 90.0}, "2026Q1")
    assert set(path["region"]) == {"1", "2"}
    act = pd.DataFrame(
        {
            "region": [1, 1, 3, 2],
            "date": ["2025-12-31", "2026-01-01", "2026-01-01", "2026-01-01"],
            "value": [50.0, 1.0, 7.0, 2.0],
            "metric": "new_customers",
        }
    )
    d = tr.daily_pace(path, act).set_index("region")
    assert d.loc["1", "actual_cum"] == 1.0 and d.loc["2", "actual_cum"] == 2.0
    assert tr.project(path, act, "2025-12-31").empty  # before the period starts
    after = tr.project(path, act, "2026-06-30")
    assert list(after["days_remaining"]) == [0, 0]


def test_path_with_gaps_is_refused() -> None:
    path = even_path({"East": 900.0})
    with pytest.raises(ValueError, match="one row per region and day"):
        tr.project(path.drop(index=5), pd.DataFrame(columns=["region", "date", "value"]))


def test_tracking_chart_at_period_end_without_status() -> None:
    path = even_path({"East": 900.0})
    act = actuals_from_pace(path, "East", [0.9] * N)
    row = tr.project(path, act).iloc[0].to_dict()  # no status column: derived from pace
    assert row["days_remaining"] == 0
    spec = ct.tracking_chart(path, act, row, "zh", region_name="华东").to_dict()
    text = json.dumps(spec, ensure_ascii=False)
    assert "华东" in text and tr.STATUS_COLORS["amber"] in text


def test_warning_sentence() -> None:
    row = {"region": "East", "projected": 1050.4, "target": 1180.0, "upper80": 1120.0}
    text = tr.describe_warning(row | {"days_remaining": 20}, "en")
    assert "1,050" in text and "1,180" in text and "20 days" in text
    assert "华东" in tr.describe_warning(row | {"days_remaining": 20}, "zh", region_name="华东")
    with pytest.raises(ValueError, match="lead"):
        tr.fva_by_lead(tr.forecast_value_added(fva_input().drop(columns="lead")))
