"""Tracking page: status grid, ranking by projected shortfall, drill-down chart, escalations,
root-cause form, support delivery, and forecast value added after the period."""

import streamlit as st

from calibration.access import can
from calibration.i18n import name_of
from calibration.tracking import service as tracking_service
from ui import context as ctx
from ui import flash, tracking_board, tracking_forms, tracking_tables
from ui.text import plain

user = ctx.require_user("tracking")
cur = ctx.cursor()
lang = ctx.lang()
# Deciders record delivery; HQ sees the whole company and the leads' record.
is_exec = can(user, "tracking.decide")
is_hq = can(user, "tracking.company")

st.title(ctx.tr("tracking.title"))
st.caption(ctx.tr("tracking.intro"))
# A write reruns the page so every part shows the new state; its message survives here.
flash.show(tracking_forms.SLOT)

cycle_id = ctx.current_cycle()
if cycle_id is None:
    # No choice made (or the sidebar not drawn yet): the newest cycle.
    cycle_id = next((c["id"] for c in ctx.list_cycles(cur)), None)
if cycle_id is None:
    st.info(ctx.tr("tracking.no_cycle"))
    st.stop()
try:
    cycle = tracking_service.lookup_cycle(cur, cycle_id)
except LookupError:
    st.info(ctx.tr("tracking.no_cycle_domain"))
    st.stop()
if not cycle.tracked:
    st.info(ctx.tr("tracking.no_targets"))
    st.stop()
# A visit only reads: escalations are evaluated when actuals are imported and by
# `python -m calibration tracking evaluate`.
last_day = tracking_service.last_actual_day(cur, cycle)
if last_day is None:
    st.info(ctx.tr("tracking.no_actuals"))
    st.stop()
# Replaying an earlier day shows what the tracker knew then; evaluation always uses today.
as_of = st.date_input(
    ctx.tr("tracking.as_of"),
    value=last_day,
    min_value=cycle.bounds[0],
    max_value=last_day,
    # New actuals make a new widget, so the default moves to the new last day.
    key=f"tracking_as_of_{cycle.cycle_id}_{last_day}",
)
board = tracking_service.board(cur, user, cycle, as_of=as_of, lang=lang)
if board.snapshot.empty:
    st.info(ctx.tr("tracking.no_regions"))
    st.stop()


def label(region: str) -> str:
    """Display name of a region (or the company)."""
    if region == tracking_service.COMPANY:
        return ctx.tr("tracking.company" if is_hq else "tracking.my_regions")
    return board.labels.get(region, region)


st.caption(
    ctx.tr(
        "tracking.cycle_caption",
        cycle=plain(cycle.name),
        metric=name_of("metric", cycle.metric, lang),
        period=cycle.period,
        as_of=board.as_of.isoformat(),
    )
)
view = tracking_service.company_view(board)
tracking_board.kpis(board, view)
tracking_board.drill(board, view, lang, label, company=is_hq)
tracking_tables.ranking(board.snapshot, label)
tracking_tables.events(
    tracking_service.events(cur, user, cycle), lang, label, tracking_service.events_note(cycle)
)

pending = tracking_service.pending_root_causes(cur, user, cycle)
if not pending.empty:
    tracking_forms.root_cause(cur, user, pending, lang, label)

st.subheader(ctx.tr("tracking.commitments"))
commitments = tracking_service.commitment_status(cur, cycle, user)
if commitments.empty:
    st.caption(ctx.tr("tracking.commitments.none"))
elif is_exec:
    tracking_forms.deliveries(cur, user, cycle.cycle_id, commitments, label)
else:
    tracking_tables.commitments_table(commitments, label)

tracking_tables.fva(cur, user, cycle, label, by_lead=is_hq)
