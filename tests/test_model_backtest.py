"""Backtest: naive methods on toy series, rolling origins, weight tuning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.backtest import backtest, naive_forecasts, optimise_scales
from models.baseline import BaselineModel
from models.panel import build_panel
from models.synthetic import make_panel, make_reverting_panel


def _toy() -> pd.DataFrame:
    # Two years + one quarter, seasonal pattern plus linear trend of 2 per quarter.
    ords = np.arange(2020 * 4, 2020 * 4 + 9)
    season = np.array([10.0, 20.0, 30.0, 40.0])
    vals = season[ords % 4] + 2.0 * (ords - ords[0]) + 100
    return pd.DataFrame({"region": "a", "ordinal": ords, "value": vals})


def test_naive_methods_on_toy_series() -> None:
    h = _toy()
    panel = build_panel(h, None, "Q")
    target = int(h["ordinal"].max()) + 1  # 2022Q2
    f = {k: float(v[0]) for k, v in naive_forecasts(panel, target).items()}
    last = float(h["value"].iloc[-1])
    same_q = float(h[h.ordinal == target - 4]["value"].iloc[0])
    assert f["last_value"] == last
    assert f["seasonal_naive"] == same_q
    assert f["last_year_plus_15"] == pytest.approx(1.15 * same_q)
    # Drift per quarter is (last - first) / 8 = (2*8 + 0) / 8 ... seasonal parts equal.
    truth = 20.0 + 2.0 * (target - 2020 * 4) + 100
    assert f["seasonal_naive_drift"] == pytest.approx(truth)


def test_backtest_shapes_and_scores() -> None:
    h, s = make_panel(n_regions=6, seed=11)
    bt = backtest(h, s, origins=8, holt_winters=True)
    assert len(bt.origins) == 8 and bt.origins[-1] == "2021Q4"
    assert set(bt.scores) == {
        "model",
        "last_value",
        "seasonal_naive",
        "last_year_plus_15",
        "seasonal_naive_drift",
        "holt_winters",
    }
    assert "coverage80" in bt.scores["model"]
    assert "coverage80" not in bt.scores["seasonal_naive"]
    # Signals truly drive this data, so the model beats seasonal naive clearly.
    assert bt.scores["model"]["wape"] < 0.7 * bt.scores["seasonal_naive"]["wape"]
    assert bt.predictions.groupby("method").size().eq(48).all()
    assert set(bt.per_region["region"]) == {f"r{i:04d}" for i in range(6)}
    manual = bt.predictions[bt.predictions.method == "seasonal_naive"]
    wape = (manual.forecast - manual.actual).abs().sum() / manual.actual.abs().sum()
    assert bt.scores["seasonal_naive"]["wape"] == pytest.approx(wape)


def _turns_non_positive(h: pd.DataFrame, s: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    # Signal changes are computed once per panel and cut at each origin; a signal that
    # is positive before one origin but not before the next takes the non-log path.
    s = s.copy()
    last = int(s["ordinal"].max())
    market = s["signal"] == s.loc[s["dimension"] == "market", "signal"].iloc[0]
    s.loc[market & (s["ordinal"] == last - 2), "value"] = 0.0
    plan = s["signal"] == s.loc[s["dimension"] == "capacity", "signal"].iloc[0]
    first = s["region"] == s["region"].iloc[0]
    s.loc[plan & first & (s["ordinal"] == last - 1), "value"] = -1.0
    return h, s


@pytest.mark.parametrize("level_gap", [False, True])
@pytest.mark.parametrize("edit", [None, _turns_non_positive])
def test_backtest_forecast_equals_fit_on_truncated_data(edit, level_gap: bool) -> None:
    h, s = make_panel(n_regions=5, seed=12)
    if edit is not None:
        h, s = edit(h, s)
    bt = backtest(h, s, origins=4, model=BaselineModel(level_gap=level_gap))
    pred = bt.predictions[bt.predictions.method == "model"]
    for label in bt.origins:
        o = int(pred[pred.period == label]["ordinal"].iloc[0])
        keep_s = (s["ordinal"] < o) | ((s["dimension"] == "capacity") & (s["ordinal"] == o))
        model = BaselineModel(level_gap=level_gap)
        df = model.fit(h[h.ordinal < o], s[keep_s], o).predict()
        got = pred[pred.period == label].set_index("region")
        want = df.set_index("region").loc[got.index]
        np.testing.assert_allclose(want["suggestion"], got["forecast"], rtol=1e-12)
        # The calibrated interval, too, comes only from errors before its origin.
        np.testing.assert_allclose(want["lower80"], got["lower80"], rtol=1e-12)
        np.testing.assert_allclose(want["upper80"], got["upper80"], rtol=1e-12)


def test_interval_calibrated_from_earlier_errors_only() -> None:
    """Changing actuals at or after an origin leaves that origin's interval unchanged."""
    h, s = make_panel(n_regions=12, n_periods=32, seed=21)
    first = backtest(h, s, origins=4).predictions.query("method == 'model'")
    o = int(first["ordinal"].min())
    h2 = h.copy()
    late = h2["ordinal"] >= o
    h2.loc[late, "value"] *= np.random.default_rng(1).uniform(0.2, 5.0, late.sum())
    second = backtest(h2, s, origins=4).predictions.query("method == 'model'")
    a = first[first.ordinal == o].set_index("region")
    b = second[second.ordinal == o].set_index("region").loc[a.index]
    np.testing.assert_allclose(
        a[["forecast", "lower80", "upper80"]], b[["forecast", "lower80", "upper80"]]
    )
    # Later origins see the changed errors, so their intervals move.
    later = int(first["ordinal"].max())
    assert not np.allclose(
        first[first.ordinal == later]["upper80"], second[second.ordinal == later]["upper80"]
    )


@pytest.mark.parametrize("noise", [0.05, 0.3])
def test_coverage_on_synthetic_data_with_known_noise(noise: float) -> None:
    h, s = make_panel(n_regions=300, n_periods=40, noise=noise, seed=int(noise * 100))
    cov = backtest(h, s, origins=8).scores["model"]["coverage80"]
    assert 0.75 <= cov <= 0.85, cov


def test_optimise_scales_never_worse() -> None:
    h, s = make_panel(n_regions=8, seed=13, noise=0.1)
    # Corrupt the market signal so ignoring it helps.
    rng = np.random.default_rng(0)
    mk = s["dimension"] == "market"
    s = s.copy()
    s.loc[mk, "value"] = rng.uniform(10, 200, mk.sum())
    base = backtest(h, s, origins=8).scores["model"]["wape"]
    scales, err = optimise_scales(h, s, origins=8)
    assert err <= base + 1e-12
    assert set(scales) == {"market", "pipeline", "capacity"}
    again = backtest(h, s, origins=8, model=BaselineModel(scales=scales)).scores["model"]["wape"]
    assert again == pytest.approx(err)


def test_nested_tuning_marks_only_the_chosen_candidate() -> None:
    # Candidates that share a "combine" value must not all be marked chosen.
    from models.backtest import choose_settings, split_origins

    h, s = make_panel(n_regions=8, n_periods=28, seed=4)
    panel = build_panel(h, s, "Q")
    tune_at, _ = split_origins(panel, 4, 3)
    cands = ({"combine": False, "half_life": 4.0}, {"combine": False, "half_life": 12.0})
    best, tried = choose_settings(panel, tune_at, BaselineModel(), cands)
    assert [t["chosen"] for t in tried].count(True) == 1
    chosen = next(t for t in tried if t["chosen"])
    assert chosen["half_life"] == best.half_life
    assert chosen["tuning_wape"] == min(t["tuning_wape"] for t in tried)


def test_level_gap_helps_where_the_series_reverts_to_its_driver() -> None:
    """A series pulled back toward its driver (error correction): growth-only features
    miss the pull, the level gap term finds it, and the nested tuning picks it."""
    from models.backtest import CANDIDATES

    h, s = make_reverting_panel(n_regions=20, n_periods=30, seed=3)
    without = backtest(h, s, origins=8).scores["model"]
    with_gap = backtest(h, s, origins=8, model=BaselineModel(level_gap=True)).scores["model"]
    assert with_gap["wape"] < 0.9 * without["wape"], (with_gap, without)
    assert 0.7 <= with_gap["coverage80"] <= 0.9
    m = BaselineModel(level_gap=True).fit(h, s)
    gap = m.feature_names_.index("market_size:gap")
    assert m.feature_dims_[gap] == "market"
    assert m.coef_pooled_[gap] < -0.2  # ran ahead of the driver: expect less growth
    nested = backtest(h, s, origins=8, tuning=4, candidates=CANDIDATES)
    chosen = next(t for t in nested.tuning if t["chosen"])
    assert chosen.get("level_gap") is True
    assert nested.params["level_gap"] is True
    assert nested.scores["model"]["wape"] < 0.9 * without["wape"]


def test_level_gap_interval_calibrated_from_earlier_errors_only() -> None:
    """With level gaps, changing actuals and signals at or after an origin moves nothing
    of that origin's forecast or interval."""
    h, s = make_reverting_panel(n_regions=12, n_periods=26, seed=5)
    model = BaselineModel(level_gap=True)
    first = backtest(h, s, origins=4, model=model).predictions.query("method == 'model'")
    o = int(first["ordinal"].min())
    rng = np.random.default_rng(2)
    h2, s2 = h.copy(), s.copy()
    late_h, late_s = h2["ordinal"] >= o, s2["ordinal"] >= o
    h2.loc[late_h, "value"] *= rng.uniform(0.2, 5.0, late_h.sum())
    s2.loc[late_s, "value"] *= rng.uniform(0.2, 5.0, late_s.sum())
    second = backtest(h2, s2, origins=4, model=BaselineModel(level_gap=True)).predictions
    second = second.query("method == 'model'")
    a = first[first.ordinal == o].set_index("region")
    b = second[second.ordinal == o].set_index("region").loc[a.index]
    cols = ["forecast", "lower80", "upper80"]
    np.testing.assert_allclose(a[cols], b[cols], rtol=1e-12)
