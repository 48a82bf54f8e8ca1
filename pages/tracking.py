"""Tracking page: status grid, ranking by projected shortfall, drill-down chart, escalations,
root-cause form, support delivery, and forecast value added after the period."""

import pandas as pd
import streamlit as st

from calibration.i18n import name_of
from calibration.tracking import charts as charts_tracking
from calibration.tracking import service as tracking_service
from ui import context as ctx
from ui.text import plain

user = ctx.require_user("tracking")
cur = ctx.cursor()
lang = ctx.lang()
is_exec = ctx.can("tracking.decide")
is_hq = ctx.can("tracking.company")

st.title(ctx.tr("tracking.title"))
st.caption(ctx.tr("tracking.intro"))
# A write reruns the page so every part shows the new state; its message survives here.
if flash := st.session_state.pop("tracking_flash", None):
    st.success(ctx.tr(flash))

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

# Company (or the lead's own regions) in four numbers.
c_path, c_acts, c_row = tracking_service.company_view(board)
snap = board.snapshot
k1, k2, k3, k4 = st.columns(4)
k1.metric(ctx.tr("tracking.kpi.target"), f"{c_row['target']:,.0f}", border=True)
k2.metric(
    ctx.tr("tracking.kpi.actual"),
    f"{c_row['actual_to_date']:,.0f}",
    f"{c_row['pace']:.0%}",
    # Pace is a ratio, not a change: no green arrow for 72%.
    delta_color="off",
    delta_arrow="off",
    border=True,
)
k3.metric(
    ctx.tr("tracking.kpi.projected"),
    f"{c_row['projected']:,.0f}",
    f"{-c_row['shortfall']:+,.0f}",
    border=True,
)
k4.metric(
    ctx.tr("tracking.kpi.red"),
    f"{int((snap['status'] == 'red').sum())} / {int((snap['status'] == 'amber').sum())}",
    border=True,
)

# Drill from the company to one region; regions come worst first.
choices = [tracking_service.COMPANY, *board.regions]
if not is_hq and len(board.regions) == 1:
    choices = board.regions
# Labels are computed now: a format_func runs outside this script run (e.g. in AppTest),
# where the session's language is not at hand.
focus_labels = {c: label(c) for c in choices}
focus = st.selectbox(
    ctx.tr("tracking.drill"), choices, format_func=focus_labels.get, key="tracking_focus"
)
if focus == tracking_service.COMPANY:
    st.altair_chart(
        charts_tracking.tracking_chart(c_path, c_acts, c_row, lang, label(focus)), width="stretch"
    )
else:
    row = snap[snap["region"] == focus].iloc[0].to_dict()
    st.altair_chart(
        charts_tracking.tracking_chart(board.path, board.actuals, row, lang, label(focus)),
        width="stretch",
    )
    status_text = ctx.tr(f"tracking.status.{row['status']}")
    if row["support_note"]:
        status_text += f" — {plain(row['support_note'])}"
    {"red": st.error, "amber": st.warning}.get(row["status"], st.success)(status_text)
    if row["warning"]:
        st.warning(tracking_service.tracking.describe_warning(row, lang, plain(label(focus))))

if not board.weekly.empty:
    st.altair_chart(charts_tracking.status_grid(board.weekly, lang, board.labels), width="content")

st.subheader(ctx.tr("tracking.ranking"))
ranking = pd.DataFrame(
    {
        ctx.tr("tracking.col.region"): snap["region"].map(label),
        ctx.tr("tracking.field.status"): snap["status"].map(
            lambda s: ctx.tr(f"tracking.status.{s}")
        ),
        ctx.tr("tracking.field.pace"): snap["pace"],
        ctx.tr("tracking.kpi.target"): snap["target"],
        ctx.tr("tracking.field.actual_to_date"): snap["actual_to_date"],
        ctx.tr("tracking.field.projected"): snap["projected"],
        ctx.tr("tracking.col.shortfall"): snap["shortfall"],
        ctx.tr("tracking.col.warning"): snap["warning"].map(
            lambda w: ctx.tr("tracking.warning.yes") if w else ""
        ),
        ctx.tr("tracking.col.escalation"): snap["escalation"].map(
            lambda k: ctx.tr(f"tracking.kind.{k}") if k else ""
        ),
        ctx.tr("tracking.col.support"): snap["support_note"],
    }
)
st.dataframe(
    ranking,
    hide_index=True,
    width="stretch",
    column_config={
        ctx.tr("tracking.field.pace"): st.column_config.NumberColumn(format="percent"),
        ctx.tr("tracking.kpi.target"): st.column_config.NumberColumn(format="%.0f"),
        ctx.tr("tracking.field.actual_to_date"): st.column_config.NumberColumn(format="%.0f"),
        ctx.tr("tracking.field.projected"): st.column_config.NumberColumn(format="%.0f"),
        ctx.tr("tracking.col.shortfall"): st.column_config.NumberColumn(format="%.0f"),
    },
)

st.subheader(ctx.tr("tracking.events"))
events = tracking_service.events(cur, user, cycle)
if events.empty:
    st.caption(ctx.tr("tracking.events.none"))
else:
    st.dataframe(
        pd.DataFrame(
            {
                ctx.tr("tracking.col.day"): pd.to_datetime(events["triggered_on"]).dt.strftime(
                    "%Y-%m-%d"
                ),
                ctx.tr("tracking.col.region"): events["region"].map(label),
                ctx.tr("tracking.col.event"): [
                    tracking_service.describe_event(r, lang, label(r["region"]))
                    for r in events.to_dict("records")
                ],
                ctx.tr("tracking.col.root_cause"): [
                    f"{ctx.tr(f'tracking.root_cause.{c}')}: {x}" if isinstance(c, str) else ""
                    for c, x in zip(events["root_cause"], events["root_cause_text"], strict=True)
                ],
            }
        ),
        hide_index=True,
        width="stretch",
    )

# A lead answers each level-2 escalation of their regions with a root-cause form.
pending = tracking_service.pending_root_causes(cur, user, cycle)
if not pending.empty:
    st.subheader(ctx.tr("tracking.root_cause.title"))
    with st.form("root_cause"):
        ids = pending["event_id"].astype(int).tolist()
        rows = {int(r["event_id"]): r for r in pending.to_dict("records")}
        event_labels = {
            i: ctx.tr(
                "tracking.root_cause.for",
                day=str(rows[i]["triggered_on"])[:10],
                text=tracking_service.describe_event(rows[i], lang, label(rows[i]["region"])),
            )
            for i in ids
        }
        chosen = st.selectbox(
            ctx.tr("tracking.col.event"), ids, format_func=event_labels.get, key="rc_event"
        )
        cause_labels = {
            c: ctx.tr(f"tracking.root_cause.{c}") for c in tracking_service.tracking.ROOT_CAUSES
        }
        cause = st.radio(
            ctx.tr("tracking.root_cause.cause"),
            tracking_service.tracking.ROOT_CAUSES,
            format_func=cause_labels.get,
            horizontal=True,
            key="rc_cause",
        )
        text = st.text_area(ctx.tr("tracking.root_cause.text"), key="rc_text")
        if st.form_submit_button(ctx.tr("tracking.root_cause.submit"), type="primary"):
            if not text.strip():
                st.error(ctx.tr("tracking.root_cause.err_text"))
            else:
                tracking_service.submit_root_cause(cur, user, chosen, cause, text)
                st.session_state["tracking_flash"] = "tracking.root_cause.submitted"
                st.rerun()

st.subheader(ctx.tr("tracking.commitments"))
commitments = tracking_service.commitment_status(cur, cycle, user)
if commitments.empty:
    st.caption(ctx.tr("tracking.commitments.none"))
elif not is_exec:
    st.dataframe(
        pd.DataFrame(
            {
                ctx.tr("tracking.col.region"): commitments["region"].map(label),
                ctx.tr("tracking.col.item"): commitments["item"],
                ctx.tr("tracking.field.status"): commitments["status"].map(
                    lambda s: ctx.tr(f"tracking.commitment.{s}")
                ),
                ctx.tr("tracking.col.note"): commitments["note"].fillna(""),
            }
        ),
        hide_index=True,
        width="stretch",
    )
else:
    # Executives record delivery: one choice per item; only changes are saved (append-only).
    options = ("delivered", "not_delivered")
    option_labels = {o: ctx.tr(f"tracking.commitment.{o}") for o in options}
    with st.form("commitments"):
        picks = []
        for i, r in enumerate(commitments.to_dict("records")):
            current = r["status"] if r["status"] in options else None
            pick = st.radio(
                f"{plain(label(r['region']))} · {plain(r['item'])}",
                options,
                index=None if current is None else options.index(current),
                format_func=option_labels.get,
                horizontal=True,
                key=f"commit_{i}",
            )
            picks.append((r, current, pick))
        note = st.text_input(ctx.tr("tracking.col.note"), key="commit_note")
        if st.form_submit_button(ctx.tr("tracking.commitments.save")):
            for r, current, pick in picks:
                if pick is not None and pick != current:
                    tracking_service.set_commitment_status(
                        cur,
                        user,
                        cycle.cycle_id,
                        r["region"],
                        r["item"],
                        pick == "delivered",
                        note,
                    )
            st.session_state["tracking_flash"] = "tracking.commitments.saved"
            st.rerun()

st.subheader(ctx.tr("tracking.fva.title"))
if not tracking_service.fva_ready(cur, cycle):
    st.caption(ctx.tr("tracking.fva.not_ready"))
else:
    st.caption(ctx.tr("tracking.fva.intro"))
    table = tracking_service.fva(cur, user, cycle)
    names = {
        "region": ctx.tr("tracking.col.region"),
        "lead": ctx.tr("tracking.col.lead"),
        "suggestion": ctx.tr("tracking.fva.suggestion"),
        "proposal": ctx.tr("tracking.fva.proposal"),
        "agreed": ctx.tr("tracking.fva.agreed"),
        "actual": ctx.tr("tracking.fva.actual"),
        "ape_suggestion": ctx.tr("tracking.fva.ape_suggestion"),
        "ape_proposal": ctx.tr("tracking.fva.ape_proposal"),
        "ape_agreed": ctx.tr("tracking.fva.ape_agreed"),
        "fva": ctx.tr("tracking.fva.fva"),
        "fva_proposal": ctx.tr("tracking.fva.fva_proposal"),
    }
    shown = table.assign(region=table["region"].map(label)).rename(columns=names)
    pct = [
        names[c] for c in ("ape_suggestion", "ape_proposal", "ape_agreed", "fva", "fva_proposal")
    ]
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={c: st.column_config.NumberColumn(format="percent") for c in pct},
    )
    d1, d2, d3 = st.columns(3)
    stem = f"fva_{cycle.period}"
    d1.download_button(
        ctx.tr("tracking.export_csv"),
        tracking_service.fva_export(cur, user, cycle, "csv"),
        f"{stem}.csv",
        "text/csv",
        key="fva_csv",
    )
    d2.download_button(
        ctx.tr("tracking.export_xlsx"),
        tracking_service.fva_export(cur, user, cycle, "xlsx"),
        f"{stem}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="fva_xlsx",
    )
    d3.download_button(
        ctx.tr("tracking.export_leads_csv"),
        tracking_service.fva_export(cur, user, cycle, "csv", by="lead"),
        f"{stem}_by_lead.csv",
        "text/csv",
        key="fva_leads_csv",
    )
    if is_hq:
        st.caption(ctx.tr("tracking.fva.by_lead"))
        leads = tracking_service.fva_leads(cur, user, cycle)
        lead_names = {c: ctx.tr(f"tracking.fva.col.{c}") for c in leads.columns}
        lead_names.update(lead=names["lead"], fva=names["fva"])
        lead_pct = [lead_names[c] for c in leads.columns if c.startswith(("mape", "wape", "fva"))]
        st.dataframe(
            leads.rename(columns=lead_names),
            hide_index=True,
            column_config={c: st.column_config.NumberColumn(format="percent") for c in lead_pct},
        )
