"""Review queue (HRBP): flagged proposals with their three fields and the gap; resolve each
with an outcome and a note; talk in the region's thread. Thin: calls calibration.negotiation.service."""

import pandas as pd
import streamlit as st

from calibration.data import service as data_service
from calibration.negotiation import service as neg
from ui import context as ctx
from ui.text import plain, plain_values

user = ctx.require_user("review")
cur = ctx.cursor()
ss = st.session_state

st.title(ctx.tr("nego.review_title"))
# The sidebar's choice; the newest open cycle when there is none (e.g. a rerun in AppTest,
# where the shell's sidebar state is not kept).
cycle_id = ctx.current_cycle() or neg.default_cycle_id(cur)
if cycle_id is None:
    st.info(ctx.tr("nego.no_cycle"))
    st.stop()
cycle = neg.get_cycle(cur, cycle_id)
st.caption(ctx.tr("nego.review_intro", threshold=f"{cycle['dissent_threshold']:.0%}"))

flash = ss.pop("nego_review_flash", None)
if flash:
    st.success(flash)
alert = ss.pop("nego_review_alert", None)
if alert:
    st.error(ctx.tr(alert[0], **plain_values(alert[1])) if alert[0] else plain(alert[2]))


def fmt(value: float | None) -> str:
    """A number for display."""
    return "—" if value is None or pd.isna(value) else f"{value:,.0f}"


outcome_labels = {ctx.tr(f"nego.outcome.{o}"): o for o in neg.OUTCOMES}


def seen_key(region: str) -> str:
    """Where the resolve form keeps the region's last event id as it was drawn."""
    return f"nego_review_seen_{cycle_id}_{region}"


@ctx.guarded
def resolve(region: str) -> None:
    """Callback: store the HRBP's outcome and note for one region."""
    errors_key = f"nego_review_errors_{region}"
    try:
        neg.resolve_review(
            ctx.cursor(), user, cycle_id, region,
            outcome_labels.get(ss.get(f"nego_outcome_{region}")),
            ss.get(f"nego_note_{region}"),
            expected_last_event=ss.get(seen_key(region)),
        )
    except neg.ValidationError as exc:
        ss[errors_key] = exc.errors
    except neg.StaleWriteError as exc:
        # "East changed: lead_east proposed 131 at 14:02. Check and send again."
        ss[errors_key] = {}
        ss["nego_review_alert"] = (None, {}, exc.text(ctx.lang(), labels))
    except (neg.NegotiationError, PermissionError) as exc:
        ss[errors_key] = {}
        ss["nego_review_alert"] = (
            "nego.err_permission" if isinstance(exc, PermissionError)
            else getattr(exc, "key", None), getattr(exc, "values", {}), str(exc))
    else:
        ss[errors_key] = {}
        ss["nego_review_flash"] = ctx.tr("nego.resolved")
        ss.pop(f"nego_note_{region}", None)


@ctx.guarded
def comment(region: str) -> None:
    """Callback: the HRBP comments in a flagged region's thread."""
    try:
        neg.add_comment(ctx.cursor(), user, cycle_id, region, ss.get(f"nego_hr_comment_{region}"))
    except neg.ValidationError as exc:
        ss["nego_review_alert"] = (next(iter(exc.errors.values())), {}, "")
    except (neg.NegotiationError, PermissionError) as exc:
        ss["nego_review_alert"] = (
            "nego.err_permission" if isinstance(exc, PermissionError)
            else getattr(exc, "key", None), getattr(exc, "values", {}), str(exc))
    else:
        ss["nego_review_flash"] = ctx.tr("nego.posted")
        ss.pop(f"nego_hr_comment_{region}", None)


queue = neg.review_queue(cur, user, cycle_id)
names = data_service.visible_regions(cur, user, ctx.lang())
labels = dict(zip(names["region"], names["label"], strict=True))
if queue.empty:
    st.info(ctx.tr("nego.queue_empty"))

for row in queue.to_dict("records"):
    region = row["region"]
    errors = ss.get(f"nego_review_errors_{region}", {})
    with st.container(border=True):
        st.subheader(ctx.tr("nego.review_item", region=plain(labels.get(region, region)), value=fmt(row["proposal_value"]),
                            suggestion=fmt(row["proposal_suggestion"]),
                            gap=f"{row['gap']:.0%}"))
        if row["current_source"] != "proposal":
            # Where the region stands now (e.g. already agreed at a counter of 203).
            st.caption(ctx.tr(
                "nego.now_at", value=fmt(row["current_value"]),
                source=ctx.tr(f"nego.source.{row['current_source']}"),
                status=ctx.tr(f"nego.region_status.{row['status']}"),
            ))
        if row["hr_override_reason"]:
            st.warning(ctx.tr("nego.hr_override_queue", actor=plain(row["hr_override_by"])),
                       icon=":material/gpp_maybe:")
            st.text(row["hr_override_reason"])
        st.caption(ctx.tr("nego.proposed_by", actor=plain(row["proposed_by"]),
                          at=f"{pd.Timestamp(row['proposed_at']):%Y-%m-%d %H:%M}",
                          confidence=ctx.tr(f"nego.confidence.{row['confidence']}")))
        for label, field in (("nego.justification", "justification"),
                             ("nego.support", "support"), ("nego.risk", "risk")):
            st.markdown(f"**{ctx.tr(label)}**")
            st.text(row[field])
        if row["support_items"]:
            st.markdown(f"**{ctx.tr('nego.support_items')}**")
            st.dataframe(pd.DataFrame(row["support_items"]), hide_index=True)
        with st.expander(ctx.tr("nego.thread")):
            for item in neg.thread(cur, user, cycle_id, region).to_dict("records"):
                st.caption(f"{plain(item['actor'])} · {pd.Timestamp(item['at']):%Y-%m-%d %H:%M}")
                if item["text"]:
                    st.text(item["text"])
                if item["kind"] == "attachment":
                    aid = int(item["attachment_id"])
                    st.download_button(
                        ctx.tr("nego.download", name=plain(item["file_name"])),
                        lambda aid=aid: neg.get_attachment(ctx.cursor(), user, aid)["data"],
                        file_name=item["file_name"], mime=item["mime"], key=f"nego_dl_{aid}",
                    )
            st.text_area(ctx.tr("nego.comment"), key=f"nego_hr_comment_{region}",
                         max_chars=neg.MAX_TEXT)
            st.button(ctx.tr("nego.post"), key=f"nego_hr_post_{region}", on_click=comment,
                      args=(region,))
        with st.form(f"nego_resolve_{region}"):
            # Translated labels as options (not format_func), mapped back in resolve().
            st.radio(ctx.tr("nego.outcome"), list(outcome_labels), horizontal=True,
                     key=f"nego_outcome_{region}")
            if errors.get("outcome"):
                st.error(ctx.tr(errors["outcome"]))
            st.text_area(ctx.tr("nego.note"), key=f"nego_note_{region}",
                         max_chars=neg.MAX_TEXT)
            if errors.get("note"):
                st.error(ctx.tr(errors["note"]))
            st.form_submit_button(ctx.tr("nego.resolve"), type="primary", on_click=resolve,
                                  args=(region,))
    # What this form showed: the resolve names it as the last event the HR partner saw.
    ss[seen_key(region)] = row["last_event_id"]

resolved = neg.review_queue(cur, user, cycle_id, include_resolved=True)
resolved = resolved[resolved["review_outcome"].notna()]
if not resolved.empty:
    with st.expander(ctx.tr("nego.resolved_heading")):
        st.dataframe(
            pd.DataFrame({
                ctx.tr("nego.region"): [labels.get(r, r) for r in resolved["region"]],
                ctx.tr("nego.col_value"): resolved["proposal_value"],
                ctx.tr("nego.col_suggestion"): resolved["proposal_suggestion"],
                ctx.tr("nego.outcome"): [ctx.tr(f"nego.outcome.{o}")
                                         for o in resolved["review_outcome"]],
                ctx.tr("nego.note"): resolved["review_note"],
                ctx.tr("nego.col_actor"): resolved["reviewed_by"],
            }),
            hide_index=True, width="stretch",
        )
