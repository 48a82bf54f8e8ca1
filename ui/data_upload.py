"""Data page upload tab: choose a kind and file, preview with the validation report, import."""

from __future__ import annotations

import duckdb
import pandas as pd
import streamlit as st

from calibration import settings
from calibration.accounts.auth import User
from calibration.data import importer
from calibration.data import service as data_service
from calibration.i18n import t
from calibration.tracking import service as tracking_service
from ui import context as ctx
from ui import uploads


def show_rejection(exc: importer.ImportRejected) -> None:
    """The refusal and its problems: file, row, column, reason."""
    st.error(ctx.tr("data.rejected", total=exc.total))
    lang = ctx.lang()
    # Reasons in the session's language; file and column names stay as the file has them.
    st.dataframe(
        pd.DataFrame(
            {
                ctx.tr("data.col_file"): [p.file for p in exc.problems],
                ctx.tr("data.col_row"): [p.row for p in exc.problems],
                ctx.tr("data.col_column"): [p.column for p in exc.problems],
                ctx.tr("data.col_reason"): [p.text(lang) for p in exc.problems],
            }
        ),
        hide_index=True,
        width="stretch",
    )


def upload_tab(cur: duckdb.DuckDBPyConnection, user: User) -> None:
    """The upload form; the import runs only on the button, never on preview."""
    lang = ctx.lang()
    kind = st.selectbox(
        ctx.tr("data.kind"),
        importer.KINDS,
        # The language bound now: a format_func called outside the run has no session.
        format_func=lambda k: t(f"data.kind_{k}", lang),
        key="upload_kind",
    )
    st.caption(ctx.tr(f"data.contract_{kind}"))
    upload = uploads.file_field(
        ctx.tr("data.file"), ["csv", "xlsx", "txt"], settings.max_upload_mb(), "upload_file"
    )
    sheet = st.text_input(ctx.tr("data.sheet"), key="upload_sheet") or None
    cumulative = kind == "actuals" and st.checkbox(
        ctx.tr("tracking.import.cumulative"),
        help=ctx.tr("tracking.import.cumulative_help"),
        key="upload_cumulative",
    )
    if upload is None:
        return
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
    if not st.button(ctx.tr("data.import"), type="primary", key="upload_go"):
        return
    try:
        result = importer.import_bytes(
            cur, user, kind, upload.name, payload, sheet, cumulative=cumulative
        )
    except importer.ImportRejected as exc:
        show_rejection(exc)
        return
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
        for evaluated in tracking_service.evaluate_all(cur, user):
            if evaluated.recorded:
                st.toast(tracking_service.evaluation_summary(evaluated, ctx.lang()))
