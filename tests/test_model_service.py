"""Model runs in the store, the baseline service and the model CLI commands."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from calibration.cli import main
from calibration.modeling import service as baseline
from calibration.periods import parse_series
from calibration.store import connect, transaction
from calibration.store import data as dq

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"


@dataclass(frozen=True)
class Actor:
    username: str
    role: str


def _load(cur, history: pd.DataFrame, signals: pd.DataFrame) -> None:
    h = history.copy()
    h["ordinal"] = parse_series(h["period"])["ordinal"].astype(int)
    s = signals.copy()
    ps = parse_series(s["period"])
    s["ordinal"] = ps["ordinal"].astype(int)
    s["frequency"] = ps["freq"]
    with transaction(cur):
        sid = dq.insert_source(cur, "test", "history", "x", len(h), pd.Timestamp.now(), "test")
        dq.ensure_regions(cur, sorted(h["region"].unique()))
        dq.ensure_metrics(cur, {m: "Q" for m in h["metric"].unique()})
        dq.upsert_history(cur, h[["region", "metric", "period", "ordinal", "value"]], sid)
        cols = ["region", "signal", "period", "frequency", "ordinal", "dimension", "value"]
        dq.upsert_signals(cur, s[cols], sid)


def _demo() -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.read_csv(DEMO / "history.csv"), pd.read_csv(DEMO / "signals.csv")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "t.duckdb"
    con = connect(path)
    _load(con.cursor(), *_demo())
    con.close()
    return path


def _run(capsys, *argv: str) -> object:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_backtest_cli_json_and_predictions(db: Path, tmp_path: Path, capsys) -> None:
    out_csv = tmp_path / "pred.csv"
    out = _run(
        capsys,
        "backtest",
        "--db",
        str(db),
        "--metric",
        "new_customers",
        "--origins",
        "8",
        "--weights",
        "market=1,pipeline=1,capacity=1",
        "--predictions",
        str(out_csv),
        "--json",
    )
    assert out["metric"] == "new_customers"
    assert out["origins"] == [f"{y}Q{q}" for y in (2024, 2025) for q in (1, 2, 3, 4)]
    for m in ("model", "last_value", "seasonal_naive", "last_year_plus_15", "seasonal_naive_drift"):
        assert {"wape", "mape", "bias"} <= set(out["methods"][m])
    assert 0 <= out["methods"]["model"]["coverage80"] <= 1
    assert out["seconds"] >= 0
    # The demo tells the seeds' story: the model clearly beats seasonal naive.
    assert out["methods"]["model"]["wape"] <= 0.85 * out["methods"]["seasonal_naive"]["wape"]
    pred = pd.read_csv(out_csv)
    assert list(pred.columns) == [
        "region",
        "period",
        "method",
        "forecast",
        "lower80",
        "upper80",
        "actual",
    ]
    assert len(pred) == 5 * 6 * 8
    assert pred.loc[pred.method == "seasonal_naive", "lower80"].isna().all()
    assert pred.loc[pred.method == "model", "lower80"].notna().all()
    # Without tuning every origin is scored; the interval window is named.
    assert out["origin_roles"]["tuning"] == [] and out["origin_roles"]["scoring"] == out["origins"]
    assert out["origin_roles"]["calibration_window"] == 8


def test_backtest_cli_json_nested_origins(db: Path, capsys) -> None:
    out = _run(
        capsys,
        "backtest",
        "--db",
        str(db),
        "--metric",
        "new_customers",
        "--origins",
        "8",
        "--tuning",
        "4",
        "--json",
    )
    roles = out["origin_roles"]
    assert roles["tuning"] == ["2023Q1", "2023Q2", "2023Q3", "2023Q4"]
    assert (
        roles["scoring"]
        == out["origins"]
        == [f"{y}Q{q}" for y in (2024, 2025) for q in (1, 2, 3, 4)]
    )
    assert sum(t["chosen"] for t in out["tuning"]) == 1
    assert all(t["tuning_wape"] > 0 for t in out["tuning"])


def test_suggest_cli_demo_story(db: Path, capsys) -> None:
    rows = _run(
        capsys,
        "suggest",
        "--db",
        str(db),
        "--metric",
        "new_customers",
        "--period",
        "2026Q1",
        "--json",
    )
    by = {r["region"]: r for r in rows}
    assert set(by) == {"east", "south", "north", "southwest", "central", "northeast"}
    for r in rows:
        c = r["contributions"]
        assert sum(c.values()) == pytest.approx(r["suggestion"], abs=1e-9)
        assert r["lower80"] < r["suggestion"] < r["upper80"]
    total = sum(r["suggestion"] for r in rows)
    assert 940 <= total <= 1010  # ~20% below the company's 1,200
    assert 210 <= by["east"]["suggestion"] <= 230
    assert by["east"]["contributions"]["market"] < 0
    assert "search interest \u221212% vs last year" in by["east"]["reason"]
    assert "搜索热度同比 \u221212%" in by["east"]["reason_zh"]
    assert 150 <= by["southwest"]["suggestion"] <= 170
    assert "search interest +18%" in by["southwest"]["reason"]


def test_suggest_from_past_only_db_equals_backtest_forecast(
    tmp_path: Path, db: Path, capsys
) -> None:
    h, s = _demo()
    period = "2025Q3"
    ords = parse_series(h["period"])["ordinal"]
    sord = parse_series(s["period"])["ordinal"]
    p_ord = int(parse_series(pd.Series([period]))["ordinal"].iloc[0])
    # Only what was known before the period: history and signals before it, plus the
    # capacity plans for it (plans are made ahead).
    keep_s = (sord < p_ord) | ((s["dimension"] == "capacity") & (sord == p_ord))
    past = tmp_path / "past.duckdb"
    con = connect(past)
    _load(con.cursor(), h[ords < p_ord], s[keep_s])
    con.close()
    rows = _run(
        capsys,
        "suggest",
        "--db",
        str(past),
        "--metric",
        "new_customers",
        "--period",
        period,
        "--json",
    )
    pred_csv = tmp_path / "p.csv"
    _run(
        capsys,
        "backtest",
        "--db",
        str(db),
        "--metric",
        "new_customers",
        "--predictions",
        str(pred_csv),
        "--json",
    )
    pred = pd.read_csv(pred_csv)
    model = pred[(pred.method == "model") & (pred.period == period)].set_index("region")
    for r in rows:
        assert r["suggestion"] == pytest.approx(model.loc[r["region"], "forecast"], rel=1e-9)
        assert r["lower80"] == pytest.approx(model.loc[r["region"], "lower80"], rel=1e-9)


def test_save_run_permissions_and_append_only(db: Path) -> None:
    cur = connect(db).cursor()
    with pytest.raises(PermissionError):
        baseline.save_run(cur, Actor("lead_east", "lead"), "new_customers", "2026Q1")
    with pytest.raises(PermissionError):
        baseline.save_run(cur, Actor("exec", "executive"), "new_customers", "2026Q1")
    assert baseline.list_runs(cur).empty
    r1 = baseline.save_run(cur, Actor("analyst", "analyst"), "new_customers", "2026Q1")
    r2 = baseline.save_run(
        cur,
        Actor("admin", "admin"),
        "new_customers",
        "2026Q1",
        {"half_life": 4, "scales": {"market": 0.5}},
    )
    assert r2 == r1 + 1
    runs = baseline.list_runs(cur, "new_customers", "2026Q1")
    assert runs["run_id"].tolist() == [r2, r1]
    one = baseline.get_run(cur, r1)
    assert one["created_by"] == "analyst" and one["params"]["half_life"] == 8.0
    assert set(one["backtest"]["methods"]) >= {"model", "seasonal_naive"}
    reg = one["regions"]
    assert len(reg) == 6
    total = reg["history"] + reg["market"] + reg["pipeline"] + reg["capacity"]
    assert (total - reg["suggestion"]).abs().max() < 1e-9
    assert reg["reason_zh"].str.startswith("自身历史基线").all()
    assert len(one["signals"]) == 6 * 6
    two = baseline.get_run(cur, r2)
    assert two["params"]["scales"] == {"market": 0.5}
    # The first run is unchanged by the second.
    assert baseline.get_run(cur, r1)["regions"].equals(reg)
    assert baseline.latest_run(cur, "new_customers", "2026Q1")["run_id"] == r2


def test_cli_entry_point_subprocess(db: Path) -> None:
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "calibration",
            "suggest",
            "--db",
            str(db),
            "--metric",
            "new_customers",
            "--period",
            "2026Q1",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rows = json.loads(res.stdout)
    assert len(rows) == 6


def test_parse_scales() -> None:
    assert baseline.parse_scales("market=1,pipeline=0.5") == {"market": 1.0, "pipeline": 0.5}
    with pytest.raises(ValueError):
        baseline.parse_scales("weather=1")
    with pytest.raises(ValueError):
        baseline.parse_scales("market=3")


def test_saved_weights_are_read_as_scales() -> None:
    # Runs saved before the rename carry "weights": the same setting, now called scales.
    params = baseline.model_params({"half_life": 4, "weights": {"market": 0.5}})
    assert params["scales"] == {"market": 0.5} and "weights" not in params


def test_suggest_and_backtest_from_a_fitted_model_equal_fresh_ones(db: Path) -> None:
    con = connect(db)
    cur = con.cursor()
    panel = baseline.load_panel(cur, "new_customers")
    period = "2026Q1"
    fitted = baseline.fitted_model(panel, period, half_life=6.0)
    for scales in (None, {"market": 1.4, "capacity": 0.5}):
        args = {"half_life": 6.0, "scales": scales}
        shared = baseline.suggest(cur, "new_customers", period, fitted=fitted, scales=scales)
        fresh = baseline.suggest(cur, "new_customers", period, panel=panel, **args)
        pd.testing.assert_frame_equal(shared, fresh, rtol=1e-12)
        bt_shared = baseline.run_backtest(
            cur, "new_customers", fitted=fitted, scales=scales, records=False
        )
        bt_fresh = baseline.run_backtest(cur, "new_customers", panel=panel, **args)
        assert bt_shared["origins"] == bt_fresh["origins"]
        for m, sc in bt_fresh["methods"].items():
            for k, v in sc.items():
                assert bt_shared["methods"][m][k] == pytest.approx(v, rel=1e-12), (m, k)
        per = pd.DataFrame(bt_fresh["per_region"])
        pd.testing.assert_frame_equal(
            bt_shared["per_region"][per.columns].fillna(-1.0),
            per.astype(
                {c: float for c in per.columns if c not in ("method", "region", "n")}
            ).fillna(-1.0),
            rtol=1e-12,
            check_dtype=False,
        )
    con.close()
