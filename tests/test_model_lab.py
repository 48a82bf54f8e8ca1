"""Model Lab page (AppTest) and its chart builders."""

from __future__ import annotations

import pandas as pd
import pytest

from calibration.accounts import auth
from calibration.modeling import charts as charts_model
from tests.apptest_helpers import errors, login


@pytest.fixture
def lab(app_env):
    at = login("analyst")
    at.switch_page("pages/model_lab.py")
    at.run()
    assert not at.exception, at.exception
    return at


def test_model_lab_shows_suggestions_and_backtest(lab) -> None:
    assert not errors(lab)
    assert lab.text_input(key="lab_period_new_customers").value == "2026Q1"
    frames = [d.value for d in lab.dataframe]
    sugg = frames[0]
    assert len(sugg) == 6
    assert any("search interest" in str(v) for v in sugg.iloc[:, -1])
    methods = frames[1].iloc[:, 0].tolist()
    assert "Baseline model" in methods and "Same period last year" in methods


def test_model_lab_weights_and_save(lab) -> None:
    before = lab.dataframe[0].value.iloc[:, 1].sum()
    lab.slider(key="lab_w_market").set_value(0.0).run()
    after = lab.dataframe[0].value.iloc[:, 1].sum()
    assert after != pytest.approx(before)
    lab.button(key="lab_save").click().run()
    assert not lab.exception
    assert any("Saved model run" in s.value for s in lab.success)


def test_model_lab_optimise(lab) -> None:
    lab.button(key="lab_optimise").click().run()
    assert not lab.exception
    msg = " ".join(s.value for s in lab.success)
    # Honest scores: weights tuned on earlier origins, WAPE shown on the later ones only.
    assert "tuned on 2023Q1–2023Q4" in msg and "scored on 2024Q1–2025Q4" in msg, msg
    # The backtest says which origins are scored and how the interval is calibrated.
    captions = " ".join(c.value for c in lab.caption)
    assert "Scored origins 2024Q1–2025Q4" in captions, captions


def test_model_lab_refused_for_lead(app_env) -> None:
    at = login("lead_east")
    with pytest.raises(ValueError):
        at.switch_page("pages/model_lab.py")


def test_charts_build() -> None:
    t = pd.DataFrame(
        {
            "label": ["East", "South"],
            "suggestion": [220.0, 200.0],
            "lower80": [200.0, 180.0],
            "upper80": [240.0, 220.0],
            "base": [205.0, 181.0],
            "market": [-18.0, 2.0],
            "pipeline": [4.0, 6.0],
            "capacity": [17.0, -5.0],
        }
    )
    for lang in ("en", "zh"):
        assert charts_model.suggestion_chart(t, lang).to_dict()
        spec = charts_model.drivers_chart(t, lang).to_dict()
        assert spec["mark"]["type"] == "bar"


def test_model_lab_compares_with_published_run_and_publishes_a_new_one(lab, app_env) -> None:
    from calibration.negotiation import service as neg
    from calibration.store import connect

    titles = [s.value for s in lab.subheader]
    assert any(t.startswith("Current settings vs the run published to") for t in titles), titles
    assert any("Region detail" == t for t in titles)
    lab.slider(key="lab_w_capacity").set_value(0.5).run()
    lab.button(key="lab_save").click().run()
    assert not lab.exception
    form_buttons = [b for b in lab.button if b.label == "Publish to cycle"]
    assert form_buttons, "an analyst can publish a saved run to the open cycle"
    form_buttons[0].click().run()
    assert not lab.exception
    assert any("published to" in s.value for s in lab.success), [e.value for e in lab.error]
    con = connect(app_env)
    cur = con.cursor()
    cycle = next(c for c in neg.list_cycles(cur) if c["status"] == "open")
    log = neg.decision_log(cur, auth.SYSTEM, cycle["id"])
    published = log[log["kind"] == "publish"]
    assert len(published) == 2, log["kind"].tolist()
    assert published["actor"].iloc[-1] == "analyst"
    assert neg.get_cycle(cur, cycle["id"])["run_id"] == published["run_id"].iloc[-1]


def test_model_lab_defaults_to_the_sidebar_cycles_metric(app_env) -> None:
    # Issue 15: with a revenue cycle chosen in the sidebar, the Lab stayed on new_customers
    # (the analyst lands on the Lab at sign-in, then picks the cycle).
    from calibration.negotiation import service as neg
    from calibration.store import connect
    from calibration.store import data as dq

    con = connect(app_env)
    cur = con.cursor()
    metrics = dq.list_metrics(cur)["metric"].tolist()
    other = next(m for m in metrics if m != "new_customers")
    cid = neg.create_cycle(cur, auth.SYSTEM, "Revenue 2026Q1", other, "2026Q1", 1000.0)
    con.close()
    at = login("analyst")
    at.session_state["cycle_id"] = cid
    at.switch_page("pages/model_lab.py")
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="lab_metric").value == other


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_backtest_chart_has_a_legend(lang: str) -> None:
    """Issue 15: actual, model, seasonal naive and the model's 80% band are named on the chart."""
    from calibration.i18n import t

    rows = []
    for i, period in enumerate(["2025Q1", "2025Q2", "2025Q3"]):
        for method in ("model", "seasonal_naive"):
            rows.append(
                {
                    "period": period,
                    "ordinal": i,
                    "method": method,
                    "forecast": 100.0 + i,
                    "lower80": 90.0,
                    "upper80": 110.0,
                    "actual": 104.0,
                }
            )
    spec = charts_model.backtest_chart(pd.DataFrame(rows), lang).to_dict()
    channels = [
        (name, enc)
        for layer in spec["layer"]
        for name, enc in layer.get("encoding", {}).items()
        if isinstance(enc, dict) and "field" in enc
    ]
    # Vega-Lite merges the legends of channels sharing a field: one `legend: null` among them
    # hides the merged legend, so no series channel may turn it off.
    series = [(n, e) for n, e in channels if e["field"] == "series"]
    assert series and all(e.get("legend", {}) is not None for _, e in series), series
    names = {
        v
        for _, e in channels
        for v in (e.get("scale", {}).get("domain") or [])
        if e.get("legend", {}) is not None
    }
    for key in ("actual", "model", "naive", "band"):
        assert t(f"model_lab.series_{key}", lang) in names, (key, names)


def test_store_scale_totals_by_parent_add_up_and_drill_into_one() -> None:
    from calibration.modeling import lab as lab_mod

    n, k = 10_000, 40
    stores = [f"s{i:05d}" for i in range(n)]
    regions = pd.DataFrame(
        {"region": stores, "parent": [f"p{i % k:02d}" for i in range(n)], "label": stores}
    )
    regions.loc[0, "parent"] = None  # a store without a parent is its own group
    table = pd.DataFrame({"region": stores})
    for i, c in enumerate(lab_mod.AGGREGATE_COLUMNS):
        table[c] = [float(j % 97 + i) for j in range(n)]
    groups = lab_mod.parents(regions)
    agg = lab_mod.aggregate(table, groups, {"p03": "Third"})
    assert len(agg) == k + 1
    assert agg["regions"].sum() == n
    for c in lab_mod.AGGREGATE_COLUMNS:
        assert agg[c].sum() == pytest.approx(table[c].sum(), rel=1e-12)
    assert agg.set_index("parent").loc["p03", "label"] == "Third"
    assert "lower80" not in agg  # store ranges do not add up to a range of the total
    one = lab_mod.drill(table, groups, "p03")
    assert len(one) == agg.set_index("parent").loc["p03", "regions"]
    assert one["suggestion"].sum() == pytest.approx(
        agg.set_index("parent").loc["p03", "suggestion"]
    )
    assert lab_mod.drill(table, groups, "s00000")["region"].tolist() == ["s00000"]


def test_model_lab_above_the_threshold_shows_parents_and_one_drill_down(app_env, monkeypatch):
    from calibration.modeling import lab as lab_mod

    monkeypatch.setattr(lab_mod, "AGGREGATE_ABOVE", 3)  # the demo's 6 regions count as many
    at = login("analyst")
    at.switch_page("pages/model_lab.py")
    at.run()
    assert not at.exception, at.exception
    totals = at.dataframe[0].value
    assert "Regions" in totals.columns and len(totals) == 6  # no parents: one group each
    at.selectbox(key="lab_parent").set_value("south").run()
    assert not at.exception, at.exception
    drilled = at.dataframe[1].value
    assert len(drilled) == 1  # the drilled parent's regions only
    assert str(drilled.iloc[0, -1]).startswith("own history")  # its reason, written for it
    assert at.selectbox(key="lab_focus").options == ["South"]
    assert any(s.value.startswith("Regions of South") for s in at.subheader)


def test_store_scale_backtest_runs_on_demand_then_follows_scales(app_env, monkeypatch):
    from calibration.modeling import lab as lab_mod

    monkeypatch.setattr(lab_mod, "AGGREGATE_ABOVE", 3)
    at = login("analyst")
    at.switch_page("pages/model_lab.py")
    at.run()
    assert not at.exception, at.exception

    def scored() -> bool:
        return any(s.value.startswith("Backtest: one step ahead") for s in at.subheader)

    assert not scored() and at.button(key="lab_run_backtest").label == "Run backtest"
    at.button(key="lab_run_backtest").click().run()
    assert not at.exception, at.exception
    assert scored()
    methods = at.dataframe[2].value.iloc[:, 0].tolist()
    assert "Baseline model" in methods
    # A new scale reuses the setting's fits: its backtest shows without asking.
    at.slider(key="lab_w_market").set_value(1.3).run()
    assert not at.exception, at.exception
    assert scored()
    # A new half-life needs new fits: the button again.
    at.slider(key="lab_half_life").set_value(6.0).run()
    assert not at.exception, at.exception
    assert not scored()
    assert len(at.button(key="lab_run_backtest").label) > 0
