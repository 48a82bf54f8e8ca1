"""Model Lab backtest section: scores per method, origin roles and per-region scores.

At store scale a fit setting's backtest runs when the analyst asks for it (the fits it adds
cost more than the suggestion); once run, every scale of that setting shows it at once.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from calibration.modeling import lab
from ui import cache, tables
from ui import context as ctx


def backtest_section(
    db: str,
    version: tuple,
    metric: str,
    period: str,
    key: str,
    labels: dict[str, str],
    shown: pd.Series,
    n_regions: int,
) -> bool:
    """Draw the backtest of this setting (or the button that runs it); True when drawn."""
    lang = ctx.lang()
    if n_regions > lab.AGGREGATE_ABOVE and not cache.lab_backtest_ready(
        db, version, metric, period, key
    ):
        st.subheader(ctx.tr("model_lab.scale.backtest_title"))
        st.caption(ctx.tr("model_lab.scale.backtest_on_demand", n=n_regions))
        if not st.button(ctx.tr("model_lab.scale.run_backtest"), key="lab_run_backtest"):
            return False
    bt = cache.lab_backtest(db, version, metric, period, key)
    st.subheader(ctx.tr("model_lab.backtest", origins=lab.span(bt["origins"])))
    tables.show(lab.method_scores(bt, lang), "model_lab.score", percent=lab.SCORES)
    roles = bt.get("origin_roles", {})
    st.caption(
        ctx.tr(
            "model_lab.roles",
            scoring=lab.span(roles.get("scoring", bt["origins"])),
            window=roles.get("calibration_window", "–"),
        )
    )
    with st.expander(ctx.tr("model_lab.per_region")):
        per = lab.per_region_scores(bt, labels, lang, shown)
        if len(per):
            tables.show(per, "model_lab.score", percent=lab.SCORES)
    return True
