"""My region (lead): history and suggestion, the proposal form, counter-offers, revisions,
comments and evidence. Thin: every read and write goes through calibration.negotiation.service."""

import pandas as pd
import streamlit as st

from calibration.data import charts
from calibration.data import service as data_service
from calibration.negotiation import service as neg
from ui import context as ctx
from ui.text import plain, plain_values

user = ctx.require_user("my_region")
cur = ctx.cursor()
lang = ctx.lang()
ss = st.session_state


def fmt(value: float | None) -> str:
    """A number for display (— when missing)."""
    return "—" if value is None else f"{value:,.0f}"


def pct(value: float) -> str:
    """A fraction as a percentage."""
    return f"{value:.0%}"


def remember_error(exc: Exception) -> None:
    """Keep a refusal for the next render (callbacks run before the page draws)."""
    if isinstance(exc, PermissionError):
        ss["nego_alert"] = ("nego.err_permission", {}, str(exc))
        return
    if isinstance(exc, neg.StaleWriteError):
        # "North changed: exec countered with 215 at 14:02. Check and send again."
        ss["nego_alert"] = (None, {}, exc.text(lang, labels))
        return
    ss["nego_alert"] = (getattr(exc, "key", None), getattr(exc, "values", {}), str(exc))


def show_alert() -> None:
    """Show the refusal a callback kept, once."""
    alert = ss.pop("nego_alert", None)
    if alert:
        key, values, text = alert
        st.error(ctx.tr(key, **plain_values(values)) if key else plain(text))


def field_error(name: str) -> None:
    """The field-level error under a form field."""
    key = ss.get("nego_errors", {}).get(name)
    if key:
        st.error(ctx.tr(key), icon=":material/error:")


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
    region = st.selectbox(ctx.tr("nego.region"), my_regions,
                          format_func=lambda r: labels.get(r, r), key="nego_region")
else:
    region = my_regions[0]
row = neg.region_view(cur, user, cycle_id, region)
# Keys scoped by cycle and region: what was typed for one region never shows up (or is
# sent) for another, and each form remembers the region's last event as it was drawn.
scope = f"{cycle_id}_{region}"
value_key = f"nego_value_{scope}"


def k(name: str, region: str = region) -> str:
    """A widget or memo key of this cycle and region."""
    return f"{name}_{cycle_id}_{region}"


def seen_key(form: str, region: str = region) -> str:
    """Where a form keeps the region's last event id as it was drawn."""
    return f"nego_seen_{form}_{cycle_id}_{region}"

st.title(ctx.tr("nego.my_region_title", region=plain(labels.get(region, region))))
st.caption(ctx.tr("nego.cycle_caption", name=plain(cycle["name"]), metric=plain(cycle["metric"]),
                  period=cycle["period"], status=ctx.tr(f"nego.status.{cycle['status']}"),
                  target=fmt(cycle["company_target"])))
flash = ss.pop("nego_flash", None)
if flash:
    st.success(flash)
show_alert()

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
        delta=(f"{row['current_value'] - row['proposal_value']:+,.0f} "
               + ctx.tr("nego.vs_your_proposal", value=fmt(row["proposal_value"])))
        if row["proposal_value"] is not None and row["current_source"] != "proposal" else None,
        delta_color="off",
    )
c4.metric(ctx.tr("nego.state"), ctx.tr(f"nego.region_status.{row['status']}"))
if row["answered_older_run"]:
    st.warning(ctx.tr("nego.answered_older_run", run=row["proposal_run_id"]))
if row["review_outcome"]:
    st.info(ctx.tr("nego.review_outcome",
                   outcome=ctx.tr(f"nego.outcome.{row['review_outcome']}")))

st.subheader(ctx.tr("nego.history_heading"))
history, _ = data_service.region_data(cur, user, region)
history = history[history["metric"] == cycle["metric"]]
st.altair_chart(
    charts.suggestion_chart(history, cycle["period"], row["suggestion"], row["lower80"],
                            row["upper80"], lang, proposal=row["proposal_value"],
                            agreed=row["agreed_value"]),
    width="stretch",
)
with st.container(border=True):
    st.markdown(f"**{ctx.tr('nego.why')}**")
    reason = row["reason_zh"] if lang == "zh" and row["reason_zh"] else row["reason_en"]
    if reason:
        st.text(reason)
    contributions = {k: row[k] for k in ("history", "market", "pipeline", "capacity")}
    if any(v is not None for v in contributions.values()):
        st.altair_chart(charts.contributions_chart(contributions, lang), width="stretch")

# ---------------------------------------------------------------- counter-offer


@ctx.guarded
def accept_counter(region: str) -> None:
    """Callback: the lead accepts the counter-offer of the region the button was drawn for."""
    try:
        neg.accept_counter(ctx.cursor(), user, cycle_id, region,
                           expected_last_event=ss.get(seen_key("counter", region)))
    except (neg.NegotiationError, PermissionError) as exc:
        remember_error(exc)
    else:
        ss["nego_flash"] = ctx.tr("nego.counter_accepted")


if row["status"] == "countered" and cycle["status"] == "open":
    with st.container(border=True):
        st.subheader(ctx.tr("nego.counter_heading", actor=plain(row["last_change_by"]),
                            value=fmt(row["counter_value"])))
        if row["counter_reason"]:
            st.text(row["counter_reason"])
        st.button(ctx.tr("nego.accept_counter"), on_click=accept_counter, args=(region,),
                  type="primary", key=k("nego_accept_counter"))
        st.caption(ctx.tr("nego.revise_hint"))

# ---------------------------------------------------------------- proposal form


confidence_labels = {ctx.tr(f"nego.confidence.{c}"): c for c in neg.CONFIDENCE}


@ctx.guarded
def submit_proposal(region: str) -> None:
    """Callback: validate and store the proposal for the region the form was drawn for."""
    items = []
    if ss.get(k("nego_hc", region)):
        items.append({"kind": "headcount", "amount": ss[k("nego_hc", region)],
                      "description": ctx.tr("nego.item_headcount")})
    if ss.get(k("nego_budget", region)):
        items.append({"kind": "budget", "amount": ss[k("nego_budget", region)],
                      "description": ctx.tr("nego.item_budget")})
    conf = ss.get(k("nego_conf", region))
    try:
        neg.propose(
            ctx.cursor(), user, cycle_id, region, ss.get(k("nego_value", region)),
            ss.get(k("nego_just", region)), ss.get(k("nego_support", region)),
            ss.get(k("nego_risk", region)), confidence_labels.get(conf, conf),
            expected_last_event=ss.get(seen_key("proposal", region)), support_items=items,
        )
    except neg.ValidationError as exc:
        ss["nego_errors"] = exc.errors
    except (neg.NegotiationError, PermissionError) as exc:
        ss["nego_errors"] = {}
        remember_error(exc)
    else:
        ss["nego_errors"] = {}
        flagged = neg.dissent_check(ss[k("nego_value", region)], row["suggestion"],
                                    cycle["dissent_threshold"])
        ss["nego_flash"] = (
            ctx.tr("nego.submitted_flagged", threshold=pct(cycle["dissent_threshold"]))
            if flagged else ctx.tr("nego.submitted")
        )
        for key in ("nego_just", "nego_support", "nego_risk", "nego_hc", "nego_budget"):
            ss.pop(k(key, region), None)


if cycle["status"] == "open":
    st.subheader(ctx.tr("nego.proposal_heading"))
    # The number sits outside the form so the dissent warning updates as it is typed
    # (widgets inside a form do not rerun the page until submit).
    if value_key not in ss:
        ss[value_key] = float(row["proposal_value"] if row["proposal_value"] is not None
                              else round(row["suggestion"]))
    value = st.number_input(ctx.tr("nego.proposed_target"), min_value=0.0, step=1.0,
                            format="%.0f", key=value_key)
    field_error("value")
    gap = neg.dissent_gap(value, row["suggestion"])
    if neg.dissent_check(value, row["suggestion"], cycle["dissent_threshold"]):
        st.warning(ctx.tr("nego.dissent_warning", gap=pct(gap),
                          threshold=pct(cycle["dissent_threshold"])),
                   icon=":material/warning:")
    # A revision starts from the latest proposal's text.
    for key, field in (("nego_just", "justification"), ("nego_support", "support"),
                       ("nego_risk", "risk")):
        if k(key) not in ss:
            ss[k(key)] = row[field] or ""
    if k("nego_conf") not in ss and row["confidence"]:
        ss[k("nego_conf")] = ctx.tr(f"nego.confidence.{row['confidence']}")
    with st.form("nego_proposal"):
        st.text_area(ctx.tr("nego.justification"), key=k("nego_just"),
                     help=ctx.tr("nego.justification_help"), max_chars=neg.MAX_TEXT)
        field_error("justification")
        st.text_area(ctx.tr("nego.support"), key=k("nego_support"),
                     help=ctx.tr("nego.support_help"), max_chars=neg.MAX_TEXT)
        field_error("support")
        h1, h2 = st.columns(2)
        h1.number_input(ctx.tr("nego.extra_headcount"), min_value=0.0, step=1.0,
                        format="%.0f", key=k("nego_hc"))
        h2.number_input(ctx.tr("nego.extra_budget"), min_value=0.0, step=1000.0,
                        format="%.0f", key=k("nego_budget"))
        field_error("support_items")
        st.text_area(ctx.tr("nego.risk"), key=k("nego_risk"), help=ctx.tr("nego.risk_help"),
                     max_chars=neg.MAX_TEXT)
        field_error("risk")
        # Translated labels as options (not format_func), mapped back in the callback.
        # A constant signature keeps the widget's identity (and the choice) across reruns.
        if ss.get(k("nego_conf")) not in confidence_labels:
            ss[k("nego_conf")] = list(confidence_labels)[1]
        st.radio(ctx.tr("nego.confidence"), list(confidence_labels), horizontal=True,
                 key=k("nego_conf"))
        field_error("confidence")
        st.form_submit_button(ctx.tr("nego.submit"), type="primary", on_click=submit_proposal,
                              args=(region,))
elif cycle["status"] in ("locked", "tracking", "closed"):
    st.info(ctx.tr("nego.frozen", value=fmt(row["agreed_value"])))
else:
    st.info(ctx.tr("nego.not_open", status=ctx.tr(f"nego.status.{cycle['status']}")))

# ---------------------------------------------------------------- revisions
st.subheader(ctx.tr("nego.revisions"))
events = neg.region_events(cur, user, cycle_id, region)
if events.empty:
    st.caption(ctx.tr("nego.no_revisions"))
else:
    def note(kind: str, p: dict) -> str:
        """The text that goes with an event in the history table."""
        if kind == "proposal":
            return p["justification"]
        if kind == "review":
            return f"{ctx.tr('nego.outcome.' + p['outcome'])}: {p['note']}"
        if kind in ("response", "hr_override"):
            return p.get("reason") or ""
        return ""

    st.dataframe(
        pd.DataFrame({
            ctx.tr("nego.col_at"): events["at"],
            ctx.tr("nego.col_kind"): [ctx.tr(f"nego.kind.{k}") for k in events["kind"]],
            ctx.tr("nego.col_actor"): events["actor"],
            ctx.tr("nego.col_value"): events["value"],
            ctx.tr("nego.col_suggestion"): events["suggestion"].astype("float64").round(1),
            ctx.tr("nego.col_run"): events["run_id"],
            ctx.tr("nego.col_note"): [note(k, p) for k, p in
                                      zip(events["kind"], events["payload"], strict=True)],
        }).iloc[::-1],
        hide_index=True, width="stretch",
    )

# ---------------------------------------------------------------- comments and evidence
st.subheader(ctx.tr("nego.thread"))
for item in neg.thread(cur, user, cycle_id, region).to_dict("records"):
    with st.container(border=True):
        st.caption(f"{plain(item['actor'])} · {ctx.tr('role.' + item['role'])} · "
                   f"{pd.Timestamp(item['at']):%Y-%m-%d %H:%M}")
        if item["text"]:
            st.text(item["text"])
        if item["kind"] == "attachment":
            aid = int(item["attachment_id"])
            # Deferred: the bytes are read (and the permission checked again) on click only.
            st.download_button(
                ctx.tr("nego.download", name=plain(item["file_name"])),
                lambda aid=aid: neg.get_attachment(ctx.cursor(), user, aid)["data"],
                file_name=item["file_name"], mime=item["mime"], key=f"nego_dl_{aid}",
            )


@ctx.guarded
def post_comment(region: str) -> None:
    """Callback: post a comment and/or an attachment to the thread the form was drawn for."""
    text = ss.get(k("nego_comment", region)) or ""
    upload = ss.get(k("nego_file", region))
    if not text.strip() and upload is None:
        ss["nego_alert"] = ("nego.comment_or_file", {}, "")
        return
    try:
        if upload is not None:
            neg.add_attachment(ctx.cursor(), user, cycle_id, region, upload.name,
                               upload.getvalue(), note=text)
        else:
            neg.add_comment(ctx.cursor(), user, cycle_id, region, text)
    except neg.ValidationError as exc:
        key = next(iter(exc.errors.values()))
        ss["nego_alert"] = (key, {}, "")
    except (neg.NegotiationError, PermissionError) as exc:
        remember_error(exc)
    else:
        ss["nego_flash"] = ctx.tr("nego.posted")
        ss.pop(k("nego_comment", region), None)


with st.form("nego_thread"):
    st.text_area(ctx.tr("nego.comment"), key=k("nego_comment"), max_chars=neg.MAX_TEXT)
    st.file_uploader(ctx.tr("nego.attach"), type=["pdf", "png", "jpg", "jpeg", "xlsx", "csv"],
                     key=k("nego_file"))
    st.form_submit_button(ctx.tr("nego.post"), on_click=post_comment, args=(region,))

st.button(ctx.tr("nego.reload"), icon=":material/refresh:", key="nego_reload")
# What this render showed: each form's next write names it as the last event it saw.
for form in ("proposal", "counter"):
    ss[seen_key(form)] = row["last_event_id"]
