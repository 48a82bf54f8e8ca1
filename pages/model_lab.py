"""Model Lab: tune the baseline, compare backtests with naive methods, save a model run."""

import streamlit as st

from calibration import settings
from calibration.data import service as data_service
from calibration.modeling import lab
from calibration.negotiation import publishing
from calibration.numbers import number
from calibration.periods import parse_period
from calibration.store import data as dq
from ui import cache, tables
from ui import context as ctx
from ui.model_lab_backtest import backtest_section
from ui.model_lab_runs import runs_section
from ui.model_lab_scale import parent_view
from ui.model_lab_settings import settings_column
from ui.text import plain

user = ctx.require_user("model_lab")
cur = ctx.cursor()
lang = ctx.lang()

st.title(ctx.tr("model_lab.title"))
st.caption(ctx.tr("model_lab.intro"))

metrics = lab.metrics(cur)
if not metrics:
    st.info(ctx.tr("model_lab.no_data"))
    st.stop()

left, right = st.columns([1, 3])
with left:
    chosen = settings_column(cur, metrics)
metric, params = chosen["metric"], chosen["params"]

p = parse_period(chosen["period"])
if p is None:
    with right:
        st.warning(ctx.tr("model_lab.bad_period", example=chosen["default_period"] or "2026Q1"))
    st.stop()

key = lab.params_key(params)
unit = dq.metric_unit(cur, metric)


db, version = settings.db_path(), dq.data_version(cur)
regions = data_service.visible_regions(cur, user, lang)
labels = dict(zip(regions["region"], regions["label"], strict=True))

with right:
    try:
        table = lab.with_labels(cache.lab_suggest(db, version, metric, p.label, key), labels)
    except ValueError as exc:
        st.warning(plain(str(exc)))
        st.stop()
    st.subheader(ctx.tr("model_lab.suggestions", period=p.label))
    st.caption(ctx.tr("model_lab.total", total=number(float(table["suggestion"].sum()), unit)))
    n_regions = len(table)
    if n_regions > lab.AGGREGATE_ABOVE:  # stores: totals by parent, then one parent's rows
        table = parent_view(table, regions, lang)
        shown = tuple(table["region"])
        table = lab.fill_reasons(table, cache.lab_reasons(db, version, metric, p.label, key, shown))
    else:
        specs = cache.lab_overview_specs(
            db, version, metric, p.label, key, lang, tuple(sorted(labels.items()))
        )
        st.vega_lite_chart(specs["suggestion"], width="stretch")
        st.caption(ctx.tr("model_lab.suggestion_legend"))
        st.vega_lite_chart(specs["drivers"], width="stretch")
    reason = "reason_zh" if lang == "zh" else "reason_en"
    cols = {
        "label": "col_region",
        "suggestion": "col_suggestion",
        "lower80": "col_lower",
        "upper80": "col_upper",
        "base": "col_base",
        reason: "col_reason",
    }
    show = table[list(cols)].rename(columns={c: ctx.tr(f"model_lab.{k}") for c, k in cols.items()})
    values = [ctx.tr(f"model_lab.{cols[c]}") for c in ("suggestion", "lower80", "upper80", "base")]
    tables.show(show, None, units=dict.fromkeys(values, unit))

    scored = backtest_section(db, version, metric, p.label, key, labels, table["region"], n_regions)

    st.subheader(ctx.tr("model_lab.region_detail"))
    focus = st.selectbox(
        ctx.tr("model_lab.col_region"),
        table["region"].tolist(),
        format_func=labels.get,
        key="lab_focus",
    )
    focus_charts = cache.lab_focus_specs(db, version, metric, p.label, key, lang, focus, scored)
    left_c, right_c = st.columns(2)
    if scored:
        with left_c:
            st.caption(ctx.tr("model_lab.backtest_chart", region=plain(labels.get(focus, focus))))
            st.vega_lite_chart(focus_charts["backtest"], width="stretch")
    with right_c:
        st.caption(ctx.tr("model_lab.waterfall", region=plain(labels.get(focus, focus))))
        st.vega_lite_chart(focus_charts["waterfall"], width="stretch")

    compared = publishing.published_comparison(cur, ctx.current_cycle(), metric, p.label, table)
    if compared is not None:
        cycle, cmp = compared
        st.subheader(
            ctx.tr("model_lab.compare", cycle=plain(cycle["name"]), run_id=cycle["run_id"])
        )
        names = {
            "label": "col_region",
            "published": "col_published",
            "suggestion": "col_now",
            "change": "col_change",
        }
        cmp = cmp.rename(columns={c: ctx.tr(f"model_lab.{k}") for c, k in names.items()})
        shown = [ctx.tr(f"model_lab.{k}") for k in ("col_published", "col_now", "col_change")]
        tables.show(cmp, None, units=dict.fromkeys(shown, unit), delta=shown[-1:])

    runs_section(cur, user, metric, p.label, params)
