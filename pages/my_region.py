"""My region (lead): history and suggestion, the proposal form, counter-offers, revisions,
comments and evidence. Thin: every read and write goes through calibration.negotiation.service."""

import streamlit as st

from calibration.data import charts
from calibration.data import service as data_service
from calibration.i18n import name_of
from calibration.negotiation import forms
from calibration.negotiation import service as neg
from ui import cache, flash
from ui import context as ctx
from ui.comment_thread import ThreadKeys, comment_thread
from ui.proposal_form import SLOT, counter_offer, notices, proposal_form, remember_seen
from ui.text import plain

user = ctx.require_user("my_region")
cur = ctx.cursor()
lang = ctx.lang()
fmt = forms.fmt

# The sidebar's choice; the newest open cycle when there is none (e.g. a rerun in AppTest,
# where the shell's sidebar state is not kept).
cycle_id = ctx.current_cycle() or neg.default_cycle_id(cur)
if cycle_id is None:
    st.title(ctx.tr("page.my_region"))
    st.info(ctx.tr("nego.no_cycle"))
    st.stop()
cycle = neg.get_cycle(cur, cycle_id)

if not user.regions:
    st.info(ctx.tr("nego.no_region"))
    st.stop()
labels_frame = data_service.visible_regions(cur, user, lang)
labels = dict(zip(labels_frame["region"], labels_frame["label"], strict=True))
my_regions = sorted(user.regions)
if len(my_regions) > 1:
    region = st.selectbox(
        ctx.tr("nego.region"), my_regions, format_func=lambda r: labels.get(r, r), key="nego_region"
    )
else:
    region = my_regions[0]
row = neg.region_view(cur, user, cycle_id, region)

st.title(ctx.tr("nego.my_region_title", region=plain(labels.get(region, region))))
st.caption(
    ctx.tr(
        "nego.cycle_caption",
        name=plain(cycle["name"]),
        metric=name_of("metric", cycle["metric"], lang),
        period=cycle["period"],
        status=ctx.tr(f"nego.status.{cycle['status']}"),
        target=fmt(cycle["company_target"]),
    )
)
flash.show(SLOT)

if row["suggestion"] is None:
    st.info(ctx.tr("nego.no_suggestion"))
    st.stop()

# ---------------------------------------------------------------- numbers and chart
c1, c2, c3, c4 = st.columns(4)
c1.metric(ctx.tr("nego.suggestion"), fmt(row["suggestion"]))
c2.metric(ctx.tr("nego.interval"), f"{fmt(row['lower80'])} – {fmt(row['upper80'])}")
# The region's one current number with its source (negotiation.current_number): after a
# counter is accepted this is the agreed 203, not the proposal 195 it replaced.
if row["current_source"] in (None, "suggestion"):
    c3.metric(ctx.tr("nego.your_proposal"), fmt(None))
else:
    c3.metric(
        ctx.tr("nego.current_number", source=ctx.tr(f"nego.source.{row['current_source']}")),
        fmt(row["current_value"]),
        delta=(
            f"{forms.signed(row['current_value'] - row['proposal_value'])} "
            + ctx.tr("nego.vs_your_proposal", value=fmt(row["proposal_value"]))
        )
        if row["proposal_value"] is not None and row["current_source"] != "proposal"
        else None,
        delta_color="off",
    )
c4.metric(ctx.tr("nego.state"), ctx.tr(f"nego.region_status.{row['status']}"))
notices(row)

st.subheader(ctx.tr("nego.history_heading"))
history, _ = data_service.region_data(cur, user, region)
history = history[history["metric"] == cycle["metric"]]
st.vega_lite_chart(
    cache.chart_spec(
        charts.suggestion_chart,
        history,
        cycle["period"],
        row["suggestion"],
        row["lower80"],
        row["upper80"],
        lang,
        proposal=row["proposal_value"],
        agreed=row["agreed_value"],
    ),
    width="stretch",
)
with st.container(border=True):
    st.markdown(f"**{ctx.tr('nego.why')}**")
    reason = row["reason_zh"] if lang == "zh" and row["reason_zh"] else row["reason_en"]
    if reason:
        st.text(reason)
    contributions = {k: row[k] for k in ("history", "market", "pipeline", "capacity")}
    if any(v is not None for v in contributions.values()):
        spec = cache.chart_spec(charts.contributions_chart, contributions, lang)
        st.vega_lite_chart(spec, width="stretch")

# ---------------------------------------------------------------- counter-offer and proposal
counter_offer(user, cycle, region, row, labels)
if cycle["status"] == "open":
    proposal_form(user, cycle, region, row, labels)
elif cycle["status"] in ("locked", "tracking", "closed"):
    st.info(ctx.tr("nego.frozen", value=fmt(row["agreed_value"])))
else:
    st.info(ctx.tr("nego.not_open", status=ctx.tr(f"nego.status.{cycle['status']}")))

# ---------------------------------------------------------------- revisions
st.subheader(ctx.tr("nego.revisions"))
events = neg.region_events(cur, user, cycle_id, region, lang)
if events.empty:
    st.caption(ctx.tr("nego.no_revisions"))
else:
    st.dataframe(forms.revisions_table(events, lang), hide_index=True, width="stretch")

# ---------------------------------------------------------------- comments and evidence
st.subheader(ctx.tr("nego.thread"))
comment_thread(
    cur,
    user,
    cycle_id,
    region,
    ThreadKeys(
        comment=forms.scoped_key("nego_comment", cycle_id, region),
        post=forms.scoped_key("nego_post", cycle_id, region),
        file=forms.scoped_key("nego_file", cycle_id, region),
    ),
    SLOT,
    labels,
)

st.button(ctx.tr("nego.reload"), icon=":material/refresh:", key="nego_reload")
# What this render showed: each form's next write names it as the last event it saw.
remember_seen(cycle_id, region, row["last_event_id"])
