"""My region's write widgets: the counter-offer box and the proposal form with its three
fields. Keys are scoped by cycle and region; each write names the last event it saw."""

from __future__ import annotations

import streamlit as st

from calibration.accounts.auth import User
from calibration.negotiation import forms
from calibration.negotiation import service as neg
from ui import context as ctx
from ui import drafts, flash, slots
from ui.text import plain

SLOT = "my_region"
# The proposal's fields by draft name -> widget name (scoped by cycle and region).
DRAFT_FIELDS = {
    "value": "nego_value",
    "justification": "nego_just",
    "support": "nego_support",
    "headcount": "nego_hc",
    "budget": "nego_budget",
    "risk": "nego_risk",
    "confidence": "nego_conf",
}


def draft_key(cycle_id: int, region: str) -> str:
    """The draft key of a region's proposal form."""
    return drafts.form_key("proposal", cycle_id, region)


def _draft_widgets(cycle_id: int, region: str) -> dict[str, str]:
    return {f: forms.scoped_key(w, cycle_id, region) for f, w in DRAFT_FIELDS.items()}


def _errors_key(cycle_id: int, region: str) -> str:
    return forms.scoped_key("nego_errors", cycle_id, region)


def confidence_labels() -> dict[str, str]:
    """Translated confidence label -> stored value (labels are the radio's options)."""
    return {ctx.tr(f"nego.confidence.{c}"): c for c in neg.CONFIDENCE}


def _field_error(cycle_id: int, region: str, name: str) -> None:
    """The field-level error under a form field, in a place drawn on every run (ui/slots.py)."""
    place = slots.slot()
    key = st.session_state.get(_errors_key(cycle_id, region), {}).get(name)
    if key:
        place.error(ctx.tr(key), icon=":material/error:")


@ctx.guarded
def _accept_counter(user: User, cycle_id: int, region: str, names: dict[str, str]) -> None:
    """Callback: the lead accepts the counter-offer of the region the button was drawn for."""
    try:
        neg.accept_counter(
            ctx.cursor(),
            user,
            cycle_id,
            region,
            expected_last_event=st.session_state.get(forms.seen_key("counter", cycle_id, region)),
        )
    except (neg.NegotiationError, PermissionError) as exc:
        flash.error(SLOT, forms.as_refusal(exc), names)
    else:
        flash.success(SLOT, ctx.tr("nego.counter_accepted"))


def notices(row: dict) -> None:
    """The region's notices above the chart (an older model run answered, HR's outcome), in a
    place drawn on every run: they come and go, the form below keeps its place (ui/slots.py)."""
    place = slots.slot()
    if row["answered_older_run"]:
        place.warning(ctx.tr("nego.answered_older_run", run=row["proposal_run_id"]))
    if row["review_outcome"]:
        outcome = ctx.tr(f"nego.outcome.{row['review_outcome']}")
        place.info(ctx.tr("nego.review_outcome", outcome=outcome))


def counter_offer(user: User, cycle: dict, region: str, row: dict, names: dict[str, str]) -> None:
    """The executive's counter-offer of an open cycle with its reason and the accept button,
    in a place drawn on every run (it comes with the counter and goes with it; ui/slots.py)."""
    place = slots.slot()
    if row["status"] != "countered" or cycle["status"] != "open":
        return
    cycle_id = cycle["id"]
    with place, st.container(border=True):
        st.subheader(
            ctx.tr(
                "nego.counter_heading",
                actor=plain(row["last_change_by_name"]),
                value=forms.fmt(row["counter_value"]),
            )
        )
        if row["counter_reason"]:
            st.text(row["counter_reason"])
        st.button(
            ctx.tr("nego.accept_counter"),
            on_click=_accept_counter,
            args=(user, cycle_id, region, names),
            type="primary",
            key=forms.scoped_key("nego_accept_counter", cycle_id, region),
        )
        st.caption(ctx.tr("nego.revise_hint"))


@ctx.guarded
def _submit(user: User, cycle: dict, region: str, row: dict, names: dict[str, str]) -> None:
    """Callback: validate and store the proposal for the region the form was drawn for."""
    ss = st.session_state
    cycle_id = cycle["id"]

    def k(name: str) -> str:
        return forms.scoped_key(name, cycle_id, region)

    conf = ss.get(k("nego_conf"))
    ss[_errors_key(cycle_id, region)] = {}
    try:
        neg.propose(
            ctx.cursor(),
            user,
            cycle_id,
            region,
            ss.get(k("nego_value")),
            ss.get(k("nego_just")),
            ss.get(k("nego_support")),
            ss.get(k("nego_risk")),
            confidence_labels().get(conf, conf),
            expected_last_event=ss.get(forms.seen_key("proposal", cycle_id, region)),
            support_items=forms.support_items(
                ss.get(k("nego_hc")), ss.get(k("nego_budget")), ctx.lang()
            ),
        )
    except neg.ValidationError as exc:
        ss[_errors_key(cycle_id, region)] = exc.errors
    except (neg.NegotiationError, PermissionError) as exc:
        flash.error(SLOT, forms.as_refusal(exc), names)
        # The refusal names what changed: the next send is bound to the page as drawn next.
        drafts.unpin(draft_key(cycle_id, region))
    else:
        flash.success(SLOT, forms.submitted_message(ss[k("nego_value")], row, cycle, ctx.lang()))
        for name in forms.CLEARED_AFTER_SUBMIT:
            ss.pop(k(name), None)
        drafts.clear(draft_key(cycle_id, region))


def proposal_form(user: User, cycle: dict, region: str, row: dict, names: dict[str, str]) -> None:
    """The proposed number (live dissent warning) and the form with the three fields."""
    ss = st.session_state
    cycle_id, threshold = cycle["id"], cycle["dissent_threshold"]

    def k(name: str) -> str:
        return forms.scoped_key(name, cycle_id, region)

    st.subheader(ctx.tr("nego.proposal_heading"))
    # A draft typed before a reload (or in another tab) comes back first; it is saved on
    # every change, and its fields are widgets outside a form so each change is sent.
    key, widgets = draft_key(cycle_id, region), _draft_widgets(cycle_id, region)
    drafts.restore(key, widgets)
    save = drafts.saver(
        key, widgets, lambda: st.session_state.get(forms.seen_key("proposal", cycle_id, region))
    )
    # A revision starts from the latest proposal (number and text).
    for name, value in forms.proposal_defaults(row).items():
        if k(name) not in ss:
            ss[k(name)] = value
    if k("nego_conf") not in ss and row["confidence"]:
        ss[k("nego_conf")] = ctx.tr(f"nego.confidence.{row['confidence']}")
    # The number sits outside the form so the dissent warning updates as it is typed
    # (widgets inside a form do not rerun the page until submit).
    value = st.number_input(
        ctx.tr("nego.proposed_target"),
        min_value=0.0,
        step=1.0,
        format="%.0f",
        key=k("nego_value"),
        on_change=save,
    )
    _field_error(cycle_id, region, "value")
    # The warning comes and goes as the number is typed: in its own place, so the form
    # below never moves (a moved form loses the text being typed in it; ui/slots.py).
    warning = slots.slot()
    if neg.dissent_check(value, row["suggestion"], threshold):
        warning.warning(
            ctx.tr(
                "nego.dissent_warning",
                gap=forms.pct(neg.dissent_gap(value, row["suggestion"])),
                threshold=forms.pct(threshold),
            ),
            icon=":material/warning:",
        )
    labels = confidence_labels()

    def text_field(field: str, widget: str) -> None:
        # A free-text field (label and help: nego.<field>, nego.<field>_help), its error under it.
        st.text_area(
            ctx.tr(f"nego.{field}"),
            key=widget,
            help=ctx.tr(f"nego.{field}_help"),
            max_chars=neg.MAX_TEXT,
            on_change=save,
        )
        _field_error(cycle_id, region, field)

    with st.container(border=True, key="nego_proposal_form"):
        text_field("justification", k("nego_just"))
        text_field("support", k("nego_support"))
        h1, h2 = st.columns(2)
        h1.number_input(
            ctx.tr("nego.extra_headcount"),
            min_value=0.0,
            step=1.0,
            format="%.0f",
            key=k("nego_hc"),
            on_change=save,
        )
        h2.number_input(
            ctx.tr("nego.extra_budget"),
            min_value=0.0,
            step=1000.0,
            format="%.0f",
            key=k("nego_budget"),
            on_change=save,
        )
        _field_error(cycle_id, region, "support_items")
        text_field("risk", k("nego_risk"))
        # Translated labels as options (not format_func), mapped back in the callback.
        # A constant signature keeps the widget's identity (and the choice) across reruns.
        if ss.get(k("nego_conf")) not in labels:
            ss[k("nego_conf")] = list(labels)[1]
        st.radio(
            ctx.tr("nego.confidence"),
            list(labels),
            horizontal=True,
            key=k("nego_conf"),
            on_change=save,
        )
        _field_error(cycle_id, region, "confidence")
        st.button(
            ctx.tr("nego.submit"),
            type="primary",
            on_click=_submit,
            args=(user, cycle, region, row, names),
            key=k("nego_submit"),
        )
        drafts.saved_note(key)


def remember_seen(cycle_id: int, region: str, last_event_id: int | None) -> None:
    """What this render showed: each form's next write names it as the last event it saw.

    A restored draft keeps the event it was typed against, so a change in between is
    still refused.
    """
    st.session_state[forms.seen_key("counter", cycle_id, region)] = last_event_id
    st.session_state[forms.seen_key("proposal", cycle_id, region)] = drafts.seen_for(
        draft_key(cycle_id, region), last_event_id
    )
