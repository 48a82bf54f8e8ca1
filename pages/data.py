"""Data page: upload with preview and validation report, sources and freshness, explorer."""

import streamlit as st

from calibration.access import can
from calibration.data import charts
from calibration.data import service as data_service
from calibration.i18n import name_of
from calibration.numbers import number
from ui import cache, data_upload, tables
from ui import context as ctx
from ui.text import plain

user = ctx.require_user("data")
cur = ctx.cursor()
lang = ctx.lang()

st.title(ctx.tr("data.title"))
st.caption(ctx.tr("data.intro"))

tab_explore, tab_upload, tab_sources = st.tabs(
    [ctx.tr("data.tab_explore"), ctx.tr("data.tab_upload"), ctx.tr("data.tab_sources")]
)

with tab_explore:
    regions = data_service.visible_regions(cur, user, lang)
    if regions.empty:
        st.info(ctx.tr("data.no_regions"))
    else:
        labels = dict(zip(regions["region"], regions["label"], strict=True))
        region = st.selectbox(
            ctx.tr("data.region"), list(labels), format_func=labels.get, key="data_region"
        )
        history, signals = data_service.region_data(cur, user, region)
        metrics = sorted(history["metric"].unique())
        if metrics:
            metric = st.radio(
                ctx.tr("data.metric"),
                metrics,
                horizontal=True,
                key="data_metric",
                format_func=lambda m: name_of("metric", m, lang),
            )
            one = history[history["metric"] == metric].assign(
                metric=name_of("metric", metric, lang)
            )
            st.subheader(
                ctx.tr(
                    "data.history_of",
                    region=plain(labels[region]),
                    metric=name_of("metric", metric, lang),
                )
            )
            st.vega_lite_chart(cache.chart_spec(charts.history_chart, one, lang), width="stretch")
        if not signals.empty:
            st.subheader(ctx.tr("data.signals_of", region=plain(labels[region])))
            named = signals.assign(
                signal=[name_of("signal", x, lang) for x in signals["signal"]],
                dimension=[name_of("dimension", x, lang) for x in signals["dimension"]],
            )
            st.vega_lite_chart(cache.chart_spec(charts.signals_chart, named, lang))
        tables.show(data_service.overview_view(cur, lang), "data.summary")

with tab_upload:
    if can(user, "data.import"):
        data_upload.upload_tab(cur, user)
    else:
        st.info(ctx.tr("data.upload_not_allowed"))

with tab_sources:
    sources = data_service.sources_view(cur, user, lang)
    if sources.empty:
        st.info(ctx.tr("data.no_sources"))
    else:
        fresh = sources.sort_values("loaded_at").groupby("kind", as_index=False, sort=False).last()
        cols = st.columns(len(fresh))
        for col, row in zip(cols, fresh.itertuples(), strict=True):
            col.metric(
                row.kind,
                ctx.tr("data.age", hours=number(row.age_hours, "h")),
                help=f"{plain(row.file_name)} · {plain(row.loaded_by)}",
                border=True,
            )
            # When and by whom each feed was last refreshed (an API import names its token).
            at = f"{row.loaded_at:%Y-%m-%d %H:%M}"
            col.caption(ctx.tr("data.refreshed", at=at, who=plain(row.loaded_by)))
        tables.show(sources, "data.src", units={"age_hours": "h"}, config={"source_id": None})
