"""Baseline model: look-ahead, exact contributions, intervals, pooling, oracle, reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibration.modeling.reasons import with_reasons
from models.baseline import COMPONENTS, BaselineModel
from models.synthetic import make_panel

TARGET = "2022Q1"  # make_panel default: 2016Q1 + 24 quarters ends 2021Q4


def _split(signals: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    cap = signals["dimension"] == "capacity"
    return cap, ~cap


@pytest.mark.parametrize("level_gap", [False, True])
def test_no_look_ahead(level_gap: bool) -> None:
    h, s = make_panel(n_regions=5, n_periods=28, seed=1)
    target = 2016 * 4 + 20  # 2021Q1, with 8 periods after it in the data

    base = BaselineModel(level_gap=level_gap).fit(h, s, target).predict()
    rng = np.random.default_rng(9)
    h2 = h.copy()
    late = h2["ordinal"] >= target
    h2.loc[late, "value"] = rng.uniform(1, 1e4, late.sum())
    s2 = s.copy()
    cap, other = _split(s2)
    future = (other & (s2["ordinal"] >= target)) | (cap & (s2["ordinal"] > target))
    s2.loc[future, "value"] = rng.uniform(1, 1e3, future.sum())
    moved = BaselineModel(level_gap=level_gap).fit(h2, s2, target).predict()
    cols = ["suggestion", "lower80", "upper80", *COMPONENTS]
    np.testing.assert_allclose(moved[cols].to_numpy(), base[cols].to_numpy(), rtol=1e-12)
    # Dropping the rows entirely gives the same answer too.
    s3 = s[~future]
    h3 = h[~late]
    dropped = BaselineModel(level_gap=level_gap).fit(h3, s3, target).predict()
    np.testing.assert_allclose(dropped[cols].to_numpy(), base[cols].to_numpy(), rtol=1e-12)
    # Capacity plans for the target period itself are allowed to move the forecast.
    s4 = s.copy()
    plan = cap & (s4["ordinal"] == target)
    s4.loc[plan, "value"] *= 1.5
    planned = BaselineModel(level_gap=level_gap).fit(h, s4, target).predict()
    assert (planned["capacity"] - base["capacity"]).abs().min() > 0
    assert not np.allclose(planned["suggestion"], base["suggestion"])


def test_contributions_sum_exactly() -> None:
    h, s = make_panel(n_regions=30, seed=2)
    m = BaselineModel(scales={"market": 1.5, "pipeline": 0.5, "capacity": 0}).fit(h, s)
    df = m.predict()
    total = df["history"] + df["market"] + df["pipeline"] + df["capacity"]
    assert (total == df["suggestion"]).all()
    assert (df["capacity"] == 0).all()  # scale 0 ignores the dimension
    assert (df["lower80"] < df["suggestion"]).all() and (df["suggestion"] < df["upper80"]).all()
    sig = m.signal_table()
    by_dim = sig.groupby(["region", "dimension"])["contribution"].sum().unstack()
    np.testing.assert_allclose(
        by_dim["market"].to_numpy(), df.set_index("region")["market"].loc[by_dim.index]
    )


def test_scales_scale_dimension_effect() -> None:
    h, s = make_panel(n_regions=10, seed=3)
    m = BaselineModel().fit(h, s)
    zero = m.predict({"market": 0, "pipeline": 0, "capacity": 0})
    assert np.allclose(zero["suggestion"], zero["history"])
    double = m.predict({"market": 2, "pipeline": 1, "capacity": 1})
    one = m.predict()
    # Doubling the market scale doubles the market effect on the log scale.
    ratio = np.log((double["history"] + double["market"]) / double["history"])
    base_ratio = np.log((one["history"] + one["market"]) / one["history"])
    assert np.sign(ratio).tolist() == np.sign(base_ratio).tolist()
    assert not np.allclose(double["suggestion"], one["suggestion"])


def test_intervals_widen_with_noise() -> None:
    widths = []
    for noise in (0.02, 0.2):
        h, s = make_panel(n_regions=20, noise=noise, seed=4)
        df = BaselineModel().fit(h, s).predict()
        widths.append(float(((df["upper80"] - df["lower80"]) / df["suggestion"]).median()))
    assert widths[1] > 3 * widths[0]


def test_pooling_stabilises_short_region() -> None:
    errs = {0.0: [], 8.0: []}
    for seed in range(12):
        h, s = make_panel(n_regions=8, n_periods=28, noise=0.08, seed=100 + seed)
        # Region r0000 only has its last 7 quarters of history.
        short = (h["region"] == "r0000") & (h["ordinal"] < h["ordinal"].max() - 7)
        h = h[~short]
        target = int(h["ordinal"].max())
        actual = float(h[(h.region == "r0000") & (h.ordinal == target)]["value"].iloc[0])
        for pooling in errs:
            # The regression alone: the smoothing combination would blur the pooling effect.
            df = BaselineModel(pooling=pooling, combine=False).fit(h, s, target).predict()
            f = float(df.set_index("region").loc["r0000", "suggestion"])
            errs[pooling].append(abs(np.log(f / actual)))
    assert np.mean(errs[8.0]) < 0.7 * np.mean(errs[0.0])


@pytest.mark.parametrize("half_life", [4.0, 8.0, 1e9])
def test_batched_fit_equals_statsmodels_wls(half_life: float) -> None:
    # Imported here: statsmodels.api takes 1.5 s to import, in each worker that collects.
    from statsmodels.regression.linear_model import WLS

    h, s = make_panel(n_regions=4, n_periods=30, seed=5)
    m = BaselineModel(half_life=half_life, pooling=0, robust=False).fit(h, s)
    d = m.design_
    for r in range(len(m.regions_)):
        keep = d.w[r] > 0
        res = WLS(d.g[r, keep], d.X[r, keep], weights=d.w[r, keep]).fit()
        np.testing.assert_allclose(m.coef_[r], res.params, rtol=1e-8, atol=1e-8)
    # Single region alone gives the same coefficients.
    one = BaselineModel(half_life=half_life, pooling=0, robust=False).fit(
        h[h.region == "r0002"], s[s.region == "r0002"]
    )
    np.testing.assert_allclose(one.coef_[0], m.coef_[2], rtol=1e-8, atol=1e-8)


def test_pooling_large_gives_common_coefficients() -> None:
    h, s = make_panel(n_regions=6, seed=6)
    m = BaselineModel(pooling=1e9, robust=False).fit(h, s)
    spread = np.abs(m.coef_ - m.coef_pooled_).max()
    assert spread < 1e-5


def test_reasons_bilingual_and_signed() -> None:
    h, s = make_panel(n_regions=6, seed=7)
    df = with_reasons(*BaselineModel().fit(h, s).explain())
    for en, zh in zip(df["reason_en"], df["reason_zh"], strict=True):
        assert en.startswith("own history: ")
        assert zh.startswith("自身历史基线:")
        assert "vs last year" in en and "同比" in zh
    assert any("\u2212" in en for en in df["reason_en"])


def test_signals_recovered_on_clean_data() -> None:
    h, s = make_panel(n_regions=200, noise=0.01, seed=8)
    m = BaselineModel(pooling=0).fit(h, s)
    coef = dict(zip(m.feature_names_, m.coef_pooled_, strict=True))
    assert coef["search_interest"] == pytest.approx(1.0, abs=0.1)
    assert coef["headcount_ae"] == pytest.approx(0.5, abs=0.1)


def test_monthly_and_annual_frequencies() -> None:
    for freq, start, n in (("M", "2018-01", 48), ("A", "1990", 25)):
        h, s = make_panel(n_regions=5, n_periods=n, seed=9, freq=freq, start=start)
        df = BaselineModel().fit(h, s).predict()
        assert df["suggestion"].notna().all()
        assert (df["upper80"] > df["lower80"]).all()


def test_auto_pooling_no_look_ahead_and_in_grid() -> None:
    from models.baseline import POOLING_GRID

    h, s = make_panel(n_regions=8, n_periods=28, seed=21, noise=0.1)
    target = 2016 * 4 + 22
    m = BaselineModel(pooling="auto").fit(h, s, target)
    assert m.pooling_ in POOLING_GRID
    base = m.predict()
    h2 = h.copy()
    h2.loc[h2["ordinal"] >= target, "value"] *= 3.0
    moved = BaselineModel(pooling="auto").fit(h2, s, target)
    assert moved.pooling_ == m.pooling_
    np.testing.assert_allclose(moved.predict()["suggestion"], base["suggestion"], rtol=1e-12)


def test_without_signals_and_with_a_new_region() -> None:
    h, s = make_panel(n_regions=5, seed=22)
    df = BaselineModel().fit(h, None).predict()
    assert (df[["market", "pipeline", "capacity"]] == 0).all().all()
    assert (df["suggestion"] == df["history"]).all()
    # A region with two quarters only: no same-quarter-last-year value, still a forecast.
    last = int(h["ordinal"].max())
    new = pd.DataFrame({"region": "new", "ordinal": [last - 1, last], "value": [50.0, 60.0]})
    df = BaselineModel().fit(pd.concat([h, new]), s).predict().set_index("region")
    assert np.isfinite(df.loc["new", "suggestion"])
    assert 30 < df.loc["new", "suggestion"] < 120


def test_scales_are_validated() -> None:
    h, s = make_panel(n_regions=3, seed=23)
    m = BaselineModel().fit(h, s)
    with pytest.raises(ValueError):
        m.predict({"market": 2.5})
    with pytest.raises(ValueError):
        m.predict({"weather": 1.0})


def test_reason_for_signal_that_is_not_positive_shows_its_own_change() -> None:
    """A signal with zero or negative values changes by units, not by a percentage."""
    n, t = 4, 24
    rng = np.random.default_rng(3)
    ords = 2016 * 4 + np.arange(t)
    slope = np.array([1.0, 2.0, 3.0, -2.0])
    # Net sentiment: crosses zero, so its change is a difference, never a log change.
    sig = -20.0 + slope[:, None] * np.arange(t)[None, :]
    lagged = np.concatenate([sig[:, :1], sig[:, :-1]], axis=1)
    y = np.exp(5.0 + 0.04 * lagged + rng.normal(0, 0.01, (n, t)))
    regions = [f"r{i}" for i in range(n)]
    h = pd.DataFrame(
        {"region": np.repeat(regions, t), "ordinal": np.tile(ords, n), "value": y.ravel()}
    )
    h["season"] = h["ordinal"] % 4
    s = pd.DataFrame(
        {
            "region": np.repeat(regions, t),
            "signal": "net_sentiment",
            "ordinal": np.tile(ords, n),
            "dimension": "market",
            "value": sig.ravel(),
        }
    )
    df = with_reasons(*BaselineModel(freq="Q").fit(h, s).explain())
    mentioned = 0
    for r, en, zh in zip(slope, df["reason_en"], df["reason_zh"], strict=True):
        if "net sentiment" not in en:
            continue
        mentioned += 1
        # Year-over-year change of the lagged signal: 4 quarters x slope, in its own units.
        want = f"{'+' if r > 0 else chr(0x2212)}{abs(4 * r):,.0f}"
        assert f"net sentiment {want} vs last year" in en, en
        assert f"net sentiment同比 {want}:" in zh, zh
        assert "%" not in en.split("net sentiment", 1)[1].split(";")[0]
    assert mentioned >= 3


def test_fit_leaves_the_shared_panel_unchanged() -> None:
    # The Lab shares one Panel between sessions (cache_resource): a fit must not write to it.
    import copy

    from models.panel import build_panel

    h, s = make_panel(n_regions=6, seed=11)
    panel = build_panel(h, s, "Q")
    before = copy.deepcopy(panel.__dict__)
    model = BaselineModel().fit(None, None, panel=panel)
    model.predict()
    after = panel.__dict__
    assert set(after) == set(before), set(after) ^ set(before)
    for name, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[name], value)
        else:
            assert after[name] == value, name


def test_weights_is_the_former_name_of_scales() -> None:
    # Dimension scales multiply fitted effects; `weights` stays accepted for old callers.
    old = BaselineModel(weights={"market": 0.5})
    assert old.scales == {"market": 0.5} and old.weights == old.scales
    assert BaselineModel(scales={"market": 0.5}).get_params()["scales"] == {"market": 0.5}
    with pytest.raises(ValueError):
        BaselineModel(scales={"market": 1.0}, weights={"market": 0.5})


def test_carried_products_equal_a_fit_from_scratch() -> None:
    from models.baseline import FitCache, build_design, fit_design
    from models.panel import build_panel

    h, s = make_panel(n_regions=40, n_periods=30, seed=5)
    panel = build_panel(h, s, "Q")
    cache = FitCache(panel)
    model = BaselineModel(half_life=5.0)
    last = panel.end
    # Ascending targets carry the first round's products; a step back starts again.
    targets = [*range(last - 6, last + 1), last - 9, last - 8]
    for t in targets:
        d, f = cache.get(t, model)
        assert d.base_rows
        fresh = fit_design(build_design(panel, t, 5.0), 12.0)
        np.testing.assert_allclose(f.coef, fresh.coef, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(f.sigma2, fresh.sigma2, rtol=1e-10)
        np.testing.assert_allclose(f.a_inv, fresh.a_inv, rtol=1e-9, atol=1e-12)
    # A region that is not always positive is rebuilt: no carried products for it.
    h2 = h.copy()
    h2.loc[h2["region"] == h2["region"].iloc[0], "value"] -= 1e6
    panel2 = build_panel(h2, s, "Q")
    d2, f2 = FitCache(panel2).get(last, model)
    assert not d2.base_rows
    fresh2 = fit_design(build_design(panel2, last, 5.0), 12.0)
    np.testing.assert_allclose(f2.coef, fresh2.coef, rtol=1e-12, atol=1e-14)


def test_with_scales_shares_the_fits_and_equals_a_fresh_model() -> None:
    h, s = make_panel(n_regions=12, n_periods=28, seed=6)
    scales = {"market": 1.6, "pipeline": 0.4}
    fitted = BaselineModel().fit(h, s)
    before = fitted.predict()
    other = fitted.with_scales(scales)
    assert other._cache is fitted._cache and other.scales == scales
    fresh = BaselineModel(scales=scales).fit(h, s).predict()
    cols = ["suggestion", "lower80", "upper80", *COMPONENTS]
    np.testing.assert_allclose(other.predict()[cols], fresh[cols], rtol=1e-12)
    np.testing.assert_allclose(fitted.predict()[cols], before[cols], rtol=0)  # unchanged
    with pytest.raises(ValueError):
        fitted.with_scales({"market": 3.0})


def test_reasons_for_some_rows_only() -> None:
    h, s = make_panel(n_regions=8, seed=7)
    table, parts = BaselineModel().fit(h, s).explain()
    full = with_reasons(table.copy(), parts)
    some = with_reasons(table.copy(), parts, rows=np.array([1, 5]))
    for col in ("reason_en", "reason_zh"):
        assert some[col].iloc[[1, 5]].tolist() == full[col].iloc[[1, 5]].tolist()
        assert (some[col].drop(index=[1, 5]) == "").all()
        assert (full[col] != "").all()


def test_settings_of_one_panel_share_its_features_and_equal_a_fresh_panel() -> None:
    import gc
    import weakref

    from models import features
    from models.panel import build_panel

    h, s = make_panel(n_regions=30, n_periods=28, seed=8)
    panel = build_panel(h, s, "Q")
    first = BaselineModel(half_life=5.0).fit(None, None, panel=panel)
    first.predict()
    second = BaselineModel(half_life=9.0).fit(None, None, panel=panel)
    out = second.predict()
    # A new half-life reuses the panel's signal changes, design base and smoothing paths.
    assert second._cache is not first._cache
    assert second._cache.features is first._cache.features
    assert second._cache._ets is first._cache._ets
    # ...and gives what a model on a panel of its own gives, to the last bit.
    fresh = BaselineModel(half_life=9.0).fit(h, s).predict()
    num = out.select_dtypes("number").columns
    np.testing.assert_array_equal(out[num].to_numpy(), fresh[num].to_numpy())
    # The shared registry does not keep a panel alive.
    other = build_panel(h, s, "Q")
    BaselineModel().fit(None, None, panel=other)
    key, ref = id(other), weakref.ref(other)
    assert key in features._SHARED
    del other
    gc.collect()
    assert ref() is None and key not in features._SHARED


def test_factor_quadratic_form_and_trace_equal_the_explicit_inverse() -> None:
    from models.baseline import SpdStack

    rng = np.random.default_rng(3)
    p, r = 5, 40
    g = rng.normal(size=(r, p, 8))
    mats = g @ g.transpose(0, 2, 1) + 0.1 * np.eye(p)
    mats[7] = np.diag([1.0, -2.0, 3.0, 1.0, 1.0])  # not positive definite: LAPACK instead
    stack = SpdStack(np.ascontiguousarray(mats.transpose(1, 2, 0))).detach()
    assert list(stack.bad) == [7]
    inv = np.linalg.inv(mats)
    x = rng.normal(size=(r, p))
    m = rng.normal(size=(p, p))
    m = m @ m.T
    np.testing.assert_allclose(stack.quad(x), np.einsum("rp,rpq,rq->r", x, inv, x), rtol=1e-10)
    np.testing.assert_allclose(stack.trace_inv(m), np.einsum("rpq,qp->r", inv, m), rtol=1e-10)
    np.testing.assert_allclose(stack.inverse(), inv, rtol=1e-9, atol=1e-12)
    # A shared matrix that is only semi-definite takes the eigenvalue root.
    semi = np.outer(x[0], x[0])
    np.testing.assert_allclose(stack.trace_inv(semi), np.einsum("rpq,qp->r", inv, semi), rtol=1e-9)


def test_robust_fit_is_one_huber_reweighting_of_the_plain_fit() -> None:
    # One re-weighting: a second one moved WAPE and coverage on no panel by more than
    # 0.0001 (bench/RESULTS.md) and cost a third of the fit's time at 10,000 series.
    from dataclasses import replace

    from models.baseline import _huber, build_design, fit_design
    from models.panel import build_panel

    h, s = make_panel(n_regions=25, n_periods=28, noise=0.2, seed=9)
    h = h.copy()
    h.loc[h.index[::37], "value"] *= 2.5  # spikes for the Huber weights to cut
    panel = build_panel(h, s, "Q")
    d = build_design(panel, panel.end, 8.0)
    plain = fit_design(d, 12.0, robust=False)
    w = _huber(d, plain.coef)
    assert (w < d.w).any()
    robust = fit_design(d, 12.0, robust=True)
    manual = fit_design(replace(d, w=w), 12.0, robust=False)
    np.testing.assert_allclose(robust.coef, manual.coef, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(robust.w, w, rtol=0, atol=0)


def test_level_gap_reasons_and_contributions() -> None:
    """With level gaps, contributions still add up exactly, each signal's effect holds its
    gap's part, and the reason names the gap in both languages."""
    from models.synthetic import make_reverting_panel

    h, s = make_reverting_panel(n_regions=15, n_periods=24, seed=8)
    m = BaselineModel(level_gap=True).fit(h, s)
    table, parts = m.explain()
    total = table["history"] + table["market"] + table["pipeline"] + table["capacity"]
    np.testing.assert_allclose(total, table["suggestion"], rtol=1e-12)
    np.testing.assert_allclose(parts.contrib[:, 0], table["market"], rtol=1e-12)
    assert parts.gap is not None and parts.gap_contrib is not None
    assert np.abs(parts.gap_contrib).max() > 0
    # A scale of 0 on the market removes the change and the gap alike.
    off = m.predict(scales={"market": 0.0})
    assert (off["market"] == 0).all()
    df = with_reasons(table, parts)
    gaps = [en for en in df["reason_en"] if "level against market size" in en]
    assert len(gaps) >= 5
    assert all("vs usual:" in en for en in gaps)
    assert sum("相对market size的水平比常态" in zh for zh in df["reason_zh"]) == len(gaps)
    # Region 0's gap as the reason states it: expm1 of the log gap, signed.
    from calibration.modeling.reasons import fmt_pct

    en0 = df["reason_en"].iloc[0]
    if "level against" in en0:
        assert f"level against market size {fmt_pct(parts.gap[0, 0])} vs usual" in en0


def test_level_gap_carried_products_equal_a_fit_from_scratch() -> None:
    from models.baseline import FitCache, build_design, fit_design
    from models.panel import build_panel

    h, s = make_panel(n_regions=30, n_periods=30, seed=5)
    panel = build_panel(h, s, "Q")
    cache = FitCache(panel)
    model = BaselineModel(half_life=5.0, level_gap=True)
    for t in range(panel.end - 4, panel.end + 1):
        d, f = cache.get(t, model)
        assert d.base_rows and len(d.gap_cols) == len(panel.signal_names)
        fresh = fit_design(build_design(panel, t, 5.0, level_gap=True), 12.0)
        np.testing.assert_allclose(f.coef, fresh.coef, rtol=1e-10, atol=1e-12)
    # Without gaps the same cache keeps its own fits (the setting is part of the key).
    d0, _ = cache.get(panel.end, BaselineModel(half_life=5.0))
    assert not d0.gap_cols and d0.X.shape[2] == d.X.shape[2] - len(panel.signal_names)
