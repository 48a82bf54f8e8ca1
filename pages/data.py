"""Data page: upload with preview and validation report, sources and freshness, explorer."""

import pandas as pd
import streamlit as st

from calibration.data import charts, importer
from calibration.data import service as data_service
from calibration.i18n import name_of
from calibration.tracking import service as tracking_service
from ui import context as ctx
from ui.text import plain

user = ctx.require_user("data")
cur = ctx.cursor()
lang = ctx.lang()



def show_rejection(exc: importer.ImportRejected) -> None:
    """The refusal and its problems: file, row, column, reason."""
    st.error(ctx.tr("data.rejected", total=exc.total))
    st.dataframe(
        pd.DataFrame([p.__dict__ for p in exc.problems]).rename(
            columns={
                "file": ctx.tr("data.col_file"),
                "row": ctx.tr("data.col_row"),
                "column": ctx.tr("data.col_column"),
                "reason": ctx.tr("data.col_reason"),
            }
        ),
        hide_index=True,
        width="stretch",
    )


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
                ctx.tr("data.history_of", region=plain(labels[region]), metric=name_of("metric", metric, lang))
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
    if not ctx.can("data.import"):
        st.info(ctx.tr("data.upload_not_allowed"))
    else:
        kind = st.selectbox(
            ctx.tr("data.kind"),
            importer.KINDS,
            format_func=lambda k: ctx.tr(f"data.kind_{k}"),
            key="upload_kind",
        )
        st.caption(ctx.tr(f"data.contract_{kind}"))
        upload = st.file_uploader(
            ctx.tr("data.file"), type=["csv", "xlsx", "txt"], key="upload_file"
        )
        sheet = st.text_input(ctx.tr("data.sheet"), key="upload_sheet") or None
        cumulative = kind == "actuals" and st.checkbox(
            ctx.tr("tracking.import.cumulative"),
            help=ctx.tr("tracking.import.cumulative_help"),
            key="upload_cumulative",
        )
        if upload is not None:
            payload = upload.getvalue()
            try:
                st.write(ctx.tr("data.preview"))
                st.dataframe(
                    data_service.preview(upload.name, payload, kind, sheet),
                    hide_index=True,
                    width="stretch",
                )
            except importer.ImportRejected as exc:
                show_rejection(exc)
            if st.button(ctx.tr("data.import"), type="primary", key="upload_go"):
                try:
                    result = importer.import_bytes(
                        cur, user, kind, upload.name, payload, sheet, cumulative=cumulative
                    )
                except importer.ImportRejected as exc:
                    show_rejection(exc)
                else:
                    st.success(
                        ctx.tr(
                            "data.imported",
                            file=result.file_name,
                            rows=result.rows,
                            new=result.inserted,
                            updated=result.updated,
                            unchanged=result.unchanged,
                        )
                    )
                    if kind == "actuals" and result.source_id:
                        # New actuals: tracked cycles raise their alerts now.
                        tracking_service.evaluate_all(cur, user)

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
                help=f"{row.file_name} · {row.loaded_by}",
                border=True,
            )
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
