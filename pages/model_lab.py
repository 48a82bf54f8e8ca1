"""Model Lab: tune the baseline, compare backtests with naive methods, save a model run."""

import json

import pandas as pd
import streamlit as st

from calibration import settings
from calibration.data import service as data_service
from calibration.modeling import charts as charts_model
from calibration.modeling import service as baseline
from calibration.negotiation import service as neg
from calibration.periods import parse_period
from calibration.store import data as dq
from ui import context as ctx
from ui.text import plain


def _span(labels: list[str]) -> str:
    """First–last of a list of period labels ("–" when empty)."""
    return f"{labels[0]}–{labels[-1]}" if labels else "–"


def _num(value: float | None) -> str:
    """A score with three decimals, "–" when there is none."""
    return "–" if value is None else f"{value:.3f}"


@st.cache_resource(max_entries=8, show_spinner=False)
def cached_panel(db: str, version: tuple, metric: str):
    """The metric's panel, read once per data version and shared (never modified in place):
    a new setting then costs only the fits."""
    return baseline.load_panel(ctx.cursor(), metric)


@st.cache_data(ttl=900, max_entries=64, show_spinner=False)
def cached_suggest(db: str, version: tuple, metric: str, period: str, params: str) -> pd.DataFrame:
    """Suggestions for one setting; reruns only when data or settings change."""
    panel = cached_panel(db, version, metric)
    return baseline.suggest(ctx.cursor(), metric, period, panel=panel, **json.loads(params))


@st.cache_data(ttl=900, max_entries=64, show_spinner=False)
def cached_backtest(db: str, version: tuple, metric: str, params: str) -> dict:
    """Backtest for one setting, cached like the suggestions."""
    panel = cached_panel(db, version, metric)
    return baseline.run_backtest(ctx.cursor(), metric, panel=panel, **json.loads(params))


@st.cache_data(ttl=900, max_entries=64, show_spinner=False)
def overview_specs(
    db: str, version: tuple, metric: str, period: str, params: str, lang: str, labels: tuple
) -> dict:
    """Suggestion and driver chart specs: building Altair charts is most of a rerun's cost, so
    a setting seen before costs none of it (the builders are validated in the tests)."""
    table = cached_suggest(db, version, metric, period, params).copy()
    table["label"] = table["region"].map(lambda r: dict(labels).get(r, r))
    return {
        "suggestion": charts_model.suggestion_chart(table, lang).to_dict(validate=False),
        "drivers": charts_model.drivers_chart(table, lang).to_dict(validate=False),
    }


@st.cache_data(ttl=900, max_entries=256, show_spinner=False)
def focus_specs(
    db: str, version: tuple, metric: str, period: str, params: str, lang: str, focus: str
) -> dict:
    """Backtest and waterfall chart specs of one region, cached like overview_specs."""
    bt = cached_backtest(db, version, metric, params)
    table = cached_suggest(db, version, metric, period, params)
    one_pred = bt["predictions"][bt["predictions"]["region"] == focus]
    row = table.set_index("region").loc[focus]
    return {
        "backtest": charts_model.backtest_chart(one_pred, lang).to_dict(validate=False),
        "waterfall": charts_model.waterfall_chart(row, lang).to_dict(validate=False),
    }


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
    metric = ctx.metric_select(ctx.tr("model_lab.metric"), metrics, key="lab_metric")
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
                tuning=_span(res["tuning_origins"]),
                scoring=_span(res["scoring_origins"]),
                before=_num(res["start_wape"]),
                after=_num(res["wape"]),
            )
        )

p = parse_period(period)
if p is None:
    with right:
        st.warning(ctx.tr("model_lab.bad_period", example=default_period or "2026Q1"))
    st.stop()

params = {"half_life": half_life, "pooling": pooling, "weights": weights}
key = json.dumps(params, sort_keys=True)
version = dq.data_version(cur)
regions = data_service.visible_regions(cur, user, lang)
labels = dict(zip(regions["region"], regions["label"], strict=True))

with right:
    try:
        table = cached_suggest(settings.db_path(), version, metric, p.label, key).copy()
    except ValueError as exc:
        st.warning(str(exc))
        st.stop()
    table["label"] = table["region"].map(lambda r: labels.get(r, r))
    st.subheader(ctx.tr("model_lab.suggestions", period=p.label))
    st.caption(ctx.tr("model_lab.total", total=float(table["suggestion"].sum())))
    specs = overview_specs(
        settings.db_path(), version, metric, p.label, key, lang, tuple(sorted(labels.items()))
    )
    st.vega_lite_chart(specs["suggestion"], width="stretch")
    st.caption(ctx.tr("model_lab.suggestion_legend"))
    st.vega_lite_chart(specs["drivers"], width="stretch")
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

    bt = cached_backtest(settings.db_path(), version, metric, key)
    origins = f"{bt['origins'][0]}–{bt['origins'][-1]}" if bt["origins"] else "–"
    st.subheader(ctx.tr("model_lab.backtest", origins=origins))
    scores = pd.DataFrame(
        [
            {ctx.tr("model_lab.col_method"): ctx.tr(f"model_lab.method.{m}"), **s}
            for m, s in bt["methods"].items()
        ]
    ).drop(columns=["n"], errors="ignore")
    st.dataframe(scores.round(3), hide_index=True, width="stretch")
    roles = bt.get("origin_roles", {})
    st.caption(
        ctx.tr(
            "model_lab.roles",
            scoring=_span(roles.get("scoring", bt["origins"])),
            window=roles.get("calibration_window", "–"),
        )
    )
    with st.expander(ctx.tr("model_lab.per_region")):
        per = pd.DataFrame(bt["per_region"])
        if len(per):
            per = per[per["method"].isin(["model", "seasonal_naive"])].copy()
            per["region"] = per["region"].map(lambda r: labels.get(r, r))
            per["method"] = per["method"].map(lambda m: ctx.tr(f"model_lab.method.{m}"))
            st.dataframe(per.round(3), hide_index=True, width="stretch")

    st.subheader(ctx.tr("model_lab.region_detail"))
    focus = st.selectbox(
        ctx.tr("model_lab.col_region"), table["region"].tolist(), format_func=labels.get,
        key="lab_focus",
    )
    focus_charts = focus_specs(settings.db_path(), version, metric, p.label, key, lang, focus)
    left_c, right_c = st.columns(2)
    with left_c:
        st.caption(ctx.tr("model_lab.backtest_chart", region=plain(labels.get(focus, focus))))
        st.vega_lite_chart(focus_charts["backtest"], width="stretch")
    with right_c:
        st.caption(ctx.tr("model_lab.waterfall", region=plain(labels.get(focus, focus))))
        st.vega_lite_chart(focus_charts["waterfall"], width="stretch")

    cycle_id = ctx.current_cycle()
    cycle = neg.get_cycle(cur, cycle_id) if cycle_id is not None else None
    if cycle and cycle["metric"] == metric and cycle["period"] == p.label and cycle["run_id"]:
        published = baseline.get_run(cur, int(cycle["run_id"]))
        if published is not None:
            st.subheader(ctx.tr("model_lab.compare", cycle=plain(cycle["name"]), run_id=cycle["run_id"]))
            cmp = table[["region", "label", "suggestion"]].merge(
                published["regions"][["region", "suggestion"]].rename(
                    columns={"suggestion": "published"}
                ),
                on="region",
                how="left",
            )
            cmp["change"] = cmp["suggestion"] - cmp["published"]
            st.dataframe(
                cmp[["label", "published", "suggestion", "change"]].round(1).rename(
                    columns={
                        "label": ctx.tr("model_lab.col_region"),
                        "published": ctx.tr("model_lab.col_published"),
                        "suggestion": ctx.tr("model_lab.col_now"),
                        "change": ctx.tr("model_lab.col_change"),
                    }
                ),
                hide_index=True,
                width="stretch",
            )

    if st.button(ctx.tr("model_lab.save"), type="primary", key="lab_save"):
        run_id = baseline.save_run(cur, user, metric, p.label, params)
        st.success(ctx.tr("model_lab.saved", run_id=run_id))

    st.subheader(ctx.tr("model_lab.runs"))
    runs = baseline.list_runs(cur, metric)
    if runs.empty:
        st.caption(ctx.tr("model_lab.no_runs"))
    else:
        runs = runs.assign(params=runs["params"].map(lambda s: json.dumps(json.loads(s))))
        cols = ("run_id", "period", "params", "created_by", "created_at")
        st.dataframe(
            runs[list(cols)].rename(columns={c: ctx.tr(f"model_lab.runs_col.{c}") for c in cols}),
            hide_index=True,
            width="stretch",
            column_config={
                ctx.tr("model_lab.runs_col.created_at"): st.column_config.DatetimeColumn(
                    format="YYYY-MM-DD HH:mm"
                )
            },
        )
        targets = [
            c for c in neg.list_cycles(cur)
            if c["metric"] == metric and c["period"] == p.label and c["status"] in ("draft", "open")
        ]
        period_runs = runs[runs["period"] == p.label]["run_id"].tolist()
        if not targets or not period_runs:
            st.caption(ctx.tr("model_lab.no_cycle_to_publish", metric=metric, period=p.label))
        else:
            with st.form("lab_publish"):
                st.write(ctx.tr("model_lab.publish"))
                run_id = st.selectbox(ctx.tr("model_lab.publish_run"), period_runs)
                names = {c["id"]: c["name"] for c in targets}
                target = st.selectbox(
                    ctx.tr("model_lab.publish_cycle"), list(names), format_func=names.get
                )
                if st.form_submit_button(ctx.tr("model_lab.publish"), type="primary"):
                    saved = baseline.get_run(cur, int(run_id))
                    try:
                        neg.publish_run(
                            cur, user, int(target),
                            {"run_id": int(run_id), "metric": metric, "period": p.label,
                             "regions": saved["regions"]},
                        )
                    except (PermissionError, neg.NegotiationError) as exc:
                        ctx.show_error(exc)
                    else:
                        st.success(
                            ctx.tr("model_lab.published", run_id=run_id, cycle=plain(names[target]))
                        )
