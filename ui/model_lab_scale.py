"""Model Lab at store scale: totals by parent region and one parent's regions at a time."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from calibration.modeling import charts as charts_model
from calibration.modeling import lab
from ui import context as ctx
from ui.text import plain


def parent_view(table: pd.DataFrame, regions: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Draw the totals by parent and its charts; return the chosen parent's rows of `table`."""
    labels = dict(zip(regions["region"], regions["label"], strict=True))
    groups = lab.parents(regions)
    agg = lab.aggregate(table, groups, labels)
    st.caption(ctx.tr("model_lab.scale.note", n=len(table)))
    cols = {
        "label": ctx.tr("model_lab.scale.parent"),
        "regions": ctx.tr("model_lab.scale.col_regions"),
        "suggestion": ctx.tr("model_lab.col_suggestion"),
        "base": ctx.tr("model_lab.col_base"),
        "change": ctx.tr("model_lab.scale.col_change"),
    }
    st.dataframe(
        agg[list(cols)].round({"suggestion": 1, "base": 1, "change": 3}).rename(columns=cols),
        hide_index=True,
        width="stretch",
    )
    st.vega_lite_chart(
        charts_model.drivers_chart(agg, lang).to_dict(validate=False), width="stretch"
    )
    parent = st.selectbox(
        ctx.tr("model_lab.scale.parent"),
        agg["parent"].tolist(),
        format_func=lambda p: labels.get(p, p),
        key="lab_parent",
    )
    rows = lab.drill(table, groups, parent)
    name = plain(labels.get(parent, parent))
    st.subheader(ctx.tr("model_lab.scale.drill", parent=name, n=len(rows)))
    return rows
