"""Model Lab: tune the baseline, compare backtests with naive methods, save a model run."""

import json

import pandas as pd
import streamlit as st

from calibration import baseline, charts_model, data_service
from calibration.periods import parse_period
from calibration.store import data as dq
from ui import context as ctx

user = ctx.require_user("model_lab")
cur = ctx.cursor()
lang = ctx.lang()

st.title(ctx.tr("model_lab.title"))
st.caption(ctx.tr("model_lab.intro"))

metrics = dq.list_metrics(cur)["metric"].tolist()
if not metrics:
    st.info(ctx.tr("model_lab.no_data"))
    st.stop()

left, right = st.columns([1, 3])
with left:
    metric = st.selectbox(
        ctx.tr("model_lab.metric"),
        metrics,
        index=metrics.index("new_customers") if "new_customers" in metrics else 0,
        key="lab_metric",
    )
    default_period = baseline.next_period(cur, metric) or ""
    period = st.text_input(ctx.tr("model_lab.period"), value=default_period, key=f"lab_period_{metric}")
    half_life = st.slider(
        ctx.tr("model_lab.half_life"), 1.0, 24.0, float(baseline.DEFAULTS["half_life"]), 1.0,
        help=ctx.tr("model_lab.half_life_help"), key="lab_half_life",
    )
    pooling = st.slider(
        ctx.tr("model_lab.pooling"), 0.0, 50.0, float(baseline.DEFAULTS["pooling"]), 1.0,
        help=ctx.tr("model_lab.pooling_help"), key="lab_pooling",
    )
    st.write(ctx.tr("model_lab.weights"))
    # Optimised weights arrive through session state before the sliders are drawn.
    for dim, w in st.session_state.pop("lab_new_weights", {}).items():
        st.session_state[f"lab_w_{dim}"] = float(w)
    weights = {
        dim: st.slider(ctx.tr(f"model.dimension.{dim}"), 0.0, 2.0, 1.0, 0.1, key=f"lab_w_{dim}")
        for dim in ("market", "pipeline", "capacity")
    }
    if st.button(ctx.tr("model_lab.optimise"), key="lab_optimise"):
        res = baseline.optimise(cur, metric, half_life=half_life, pooling=pooling)
        st.session_state["lab_new_weights"] = res["weights"]
        st.session_state["lab_optimised"] = res
        st.rerun()
    if "lab_optimised" in st.session_state:
        res = st.session_state.pop("lab_optimised")
        st.success(
            ctx.tr(
                "model_lab.optimised",
                weights=", ".join(f"{k}={v:g}" for k, v in res["weights"].items()),
                before=res["start_wape"],
                after=res["wape"],
            )
        )

p = parse_period(period)
if p is None:
    with right:
        st.warning(ctx.tr("model_lab.bad_period", example=default_period or "2026Q1"))
    st.stop()

params = {"half_life": half_life, "pooling": pooling, "weights": weights}
regions = data_service.visible_regions(cur, user, lang)
labels = dict(zip(regions["region"], regions["label"], strict=True))

with right:
    try:
        table = baseline.suggest(cur, metric, p.label, **params)
    except ValueError as exc:
        st.warning(str(exc))
        st.stop()
    table["label"] = table["region"].map(lambda r: labels.get(r, r))
    st.subheader(ctx.tr("model_lab.suggestions", period=p.label))
    st.caption(ctx.tr("model_lab.total", total=float(table["suggestion"].sum())))
    st.altair_chart(charts_model.suggestion_chart(table, lang), width="stretch")
    st.altair_chart(charts_model.drivers_chart(table, lang), width="stretch")
    reason = "reason_zh" if lang == "zh" else "reason_en"
    show = table[["label", "suggestion", "lower80", "upper80", "base", reason]].rename(
        columns={
            "label": ctx.tr("model_lab.col_region"),
            "suggestion": ctx.tr("model_lab.col_suggestion"),
            "lower80": ctx.tr("model_lab.col_lower"),
            "upper80": ctx.tr("model_lab.col_upper"),
            "base": ctx.tr("model_lab.col_base"),
            reason: ctx.tr("model_lab.col_reason"),
        }
    )
    st.dataframe(show.round(1), hide_index=True, width="stretch")

    bt = baseline.run_backtest(cur, metric, **params)
    origins = f"{bt['origins'][0]}–{bt['origins'][-1]}" if bt["origins"] else "–"
    st.subheader(ctx.tr("model_lab.backtest", origins=origins))
    scores = pd.DataFrame(
        [
            {ctx.tr("model_lab.col_method"): ctx.tr(f"model_lab.method.{m}"), **s}
            for m, s in bt["methods"].items()
        ]
    ).drop(columns=["n"], errors="ignore")
    st.dataframe(scores.round(3), hide_index=True, width="stretch")
    with st.expander(ctx.tr("model_lab.per_region")):
        per = pd.DataFrame(bt["per_region"])
        if len(per):
            per = per[per["method"].isin(["model", "seasonal_naive"])].copy()
            per["region"] = per["region"].map(lambda r: labels.get(r, r))
            per["method"] = per["method"].map(lambda m: ctx.tr(f"model_lab.method.{m}"))
            st.dataframe(per.round(3), hide_index=True, width="stretch")

    if st.button(ctx.tr("model_lab.save"), type="primary", key="lab_save"):
        run_id = baseline.save_run(cur, user, metric, p.label, params)
        st.success(ctx.tr("model_lab.saved", run_id=run_id))

    st.subheader(ctx.tr("model_lab.runs"))
    runs = baseline.list_runs(cur, metric)
    if runs.empty:
        st.caption(ctx.tr("model_lab.no_runs"))
    else:
        runs = runs.assign(params=runs["params"].map(lambda s: json.dumps(json.loads(s))))
        st.dataframe(
            runs[["run_id", "period", "params", "created_by", "created_at"]],
            hide_index=True,
            width="stretch",
        )
