"""Data page: upload with preview and validation report, sources and freshness, explorer."""

import streamlit as st

from calibration.access import can
from calibration.api import tokens
from calibration.data import charts
from calibration.data import service as data_service
from calibration.i18n import name_of
from ui import context as ctx
from ui import data_upload
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
            st.altair_chart(charts.history_chart(one, lang), width="stretch")
        if not signals.empty:
            st.subheader(ctx.tr("data.signals_of", region=plain(labels[region])))
            named = signals.assign(
                signal=[name_of("signal", x, lang) for x in signals["signal"]],
                dimension=[name_of("dimension", x, lang) for x in signals["dimension"]],
            )
            st.altair_chart(charts.signals_chart(named, lang))
        st.dataframe(data_service.overview(cur), hide_index=True, width="stretch")

with tab_upload:
    if can(user, "data.import"):
        data_upload.upload_tab(cur, user)
    else:
        st.info(ctx.tr("data.upload_not_allowed"))

with tab_sources:
    fresh = data_service.freshness(cur)
    if fresh.empty:
        st.info(ctx.tr("data.no_sources"))
    else:
        cols = st.columns(len(fresh))
        for col, row in zip(cols, fresh.itertuples(), strict=True):
            col.metric(
                ctx.tr(f"data.kind_{row.kind}"),
                ctx.tr("data.age", hours=row.age_hours),
                help=plain(f"{row.file_name} · {row.loaded_by}"),
                border=True,
            )
            # When and by whom each feed was last refreshed (an API import names its token).
            by = str(row.loaded_by)
            if by.startswith(tokens.ACTOR_PREFIX):
                by = ctx.tr("data.by_token", name=by.removeprefix(tokens.ACTOR_PREFIX))
            at = f"{row.loaded_at:%Y-%m-%d %H:%M}"
            col.caption(ctx.tr("data.refreshed", at=at, who=plain(by)))
        st.dataframe(
            data_service.sources_with_age(cur).rename(
                columns={
                    "file_name": ctx.tr("data.col_file"),
                    "kind": ctx.tr("data.kind"),
                    "rows": ctx.tr("data.col_rows"),
                    "loaded_at": ctx.tr("data.col_loaded_at"),
                    "loaded_by": ctx.tr("data.col_loaded_by"),
                    "age_hours": ctx.tr("data.col_age"),
                }
            ),
            hide_index=True,
            width="stretch",
        )
