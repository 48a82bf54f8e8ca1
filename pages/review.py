"""Review queue (HRBP): flagged proposals with their three fields and the gap; resolve each
with an outcome and a note; talk in the region's thread. Thin: calls calibration.negotiation.service."""

import pandas as pd
import streamlit as st

from calibration.data import service as data_service
from calibration.negotiation import forms
from calibration.negotiation import service as neg
from ui import context as ctx
from ui import drafts, flash, review_form, tables
from ui.comment_thread import ThreadKeys, comment_thread
from ui.review_form import resolve_form
from ui.slots import slot
from ui.text import plain

SLOT = "review"
user = ctx.require_user("review")
cur = ctx.cursor()
ss = st.session_state
fmt = forms.fmt

st.title(ctx.tr("nego.review_title"))
# The sidebar's choice; the newest open cycle when there is none (e.g. a rerun in AppTest,
# where the shell's sidebar state is not kept).
cycle_id = ctx.current_cycle() or neg.default_cycle_id(cur)
if cycle_id is None:
    st.info(ctx.tr("nego.no_cycle"))
    st.stop()
cycle = neg.get_cycle(cur, cycle_id)
st.caption(ctx.tr("nego.review_intro", threshold=forms.pct(cycle["dissent_threshold"])))
flash.show(SLOT)

outcome_labels = {ctx.tr(f"nego.outcome.{o}"): o for o in neg.OUTCOMES}


@ctx.guarded
def resolve(region: str, names: dict[str, str]) -> None:
    """Callback: store the HRBP's outcome and note for one region."""
    errors_key = f"nego_review_errors_{region}"
    ss[errors_key] = {}
    try:
        neg.resolve_review(
            ctx.cursor(),
            user,
            cycle_id,
            region,
            outcome_labels.get(ss.get(f"nego_outcome_{region}")),
            ss.get(f"nego_note_{region}"),
            expected_last_event=ss.get(forms.review_seen_key(cycle_id, region)),
        )
    except neg.ValidationError as exc:
        ss[errors_key] = exc.errors
    except (neg.NegotiationError, PermissionError) as exc:
        # e.g. "East changed: lead_east proposed 131 at 14:02. Check and send again."
        flash.error(SLOT, forms.as_refusal(exc), names)
        drafts.unpin(review_form.draft_key(cycle_id, region))
    else:
        flash.success(SLOT, ctx.tr("nego.resolved"))
        ss.pop(f"nego_note_{region}", None)
        drafts.clear(review_form.draft_key(cycle_id, region))


queue = neg.review_queue(cur, user, cycle_id, lang=ctx.lang())
names = data_service.visible_regions(cur, user, ctx.lang())
labels = dict(zip(names["region"], names["label"], strict=True))
if queue.empty:
    st.info(ctx.tr("nego.queue_empty"))

for row in queue.to_dict("records"):
    region = row["region"]
    errors = ss.get(f"nego_review_errors_{region}", {})
    with st.container(border=True):
        st.subheader(
            ctx.tr(
                "nego.review_item",
                region=plain(labels.get(region, region)),
                value=fmt(row["proposal_value"]),
                suggestion=fmt(row["proposal_suggestion"]),
                gap=forms.pct(row["gap"]),
            )
        )
        # What comes and goes with the region's decisions has a place drawn on every run:
        # the note's box below must not move while it is typed in (ui/slots.py).
        now_at, override = slot(), slot()
        if row["current_source"] != "proposal":
            # Where the region stands now (e.g. already agreed at a counter of 203).
            now_at.caption(
                ctx.tr(
                    "nego.now_at",
                    value=fmt(row["current_value"]),
                    source=ctx.tr(f"nego.source.{row['current_source']}"),
                    status=ctx.tr(f"nego.region_status.{row['status']}"),
                )
            )
        if row["hr_override_reason"]:
            override.warning(
                ctx.tr("nego.hr_override_queue", actor=plain(row["hr_override_by_name"])),
                icon=":material/gpp_maybe:",
            )
            override.text(row["hr_override_reason"])
        st.caption(
            ctx.tr(
                "nego.proposed_by",
                actor=plain(row["proposed_by_name"]),
                at=f"{pd.Timestamp(row['proposed_at']):%Y-%m-%d %H:%M}",
                confidence=ctx.tr(f"nego.confidence.{row['confidence']}"),
            )
        )
        for label, field in (
            ("nego.justification", "justification"),
            ("nego.support", "support"),
            ("nego.risk", "risk"),
        ):
            st.markdown(f"**{ctx.tr(label)}**")
            st.text(row[field])
        items = slot()
        if row["support_items"]:
            with items:
                st.markdown(f"**{ctx.tr('nego.support_items')}**")
                tables.show(
                    forms.support_items_table(row["support_items"], ctx.lang()), "nego.item"
                )
        with st.expander(ctx.tr("nego.thread")):
            comment_thread(
                cur,
                user,
                cycle_id,
                region,
                ThreadKeys(
                    comment=f"nego_hr_comment_{region}",
                    post=f"nego_hr_post_{region}",
                ),
                SLOT,
                labels,
            )
        resolve_form(cycle_id, region, outcome_labels, errors, resolve, (region, labels))
    # What this form showed: the resolve names it as the last event the HR partner saw.
    review_form.remember_seen(cycle_id, region, row["last_event_id"])

resolved = neg.review_queue(cur, user, cycle_id, include_resolved=True, lang=ctx.lang())
if resolved["review_outcome"].notna().any():
    with st.expander(ctx.tr("nego.resolved_heading")):
        st.dataframe(
            forms.resolved_table(resolved, labels, ctx.lang()), hide_index=True, width="stretch"
        )
