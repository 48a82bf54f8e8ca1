"""Live board: proposals beside the model, the gap to the target, what-if allocations, links."""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import streamlit as st

from calibration import settings
from calibration.accounts import join
from calibration.accounts.auth import User
from calibration.board import charts as charts_board
from calibration.board import service as board_service
from calibration.board import table as board
from calibration.i18n import t
from calibration.negotiation import service as negotiation
from ui import context as ctx
from ui import cycle_setup
from ui.text import plain, plain_values
from ui.timings import timed

REFRESH_SECONDS = settings.board_refresh_seconds()
HIGHLIGHT_SECONDS = 15
STATUS_COLOURS = {
    "flagged": "background-color:#fde0dc; color:#8a1c10",
    "countered": "background-color:#fff1c2; color:#6b4e00",
    "agreed": "background-color:#d8f0df; color:#14532d",
    "proposed": "background-color:#e3eefc; color:#1e3a6e",
}

user = ctx.require_user("board")
lang = ctx.lang()
# Whether the live tick (not the person) started this run: forms then keep what they were
# drawn with (see _seen).
tick_rerun = st.session_state.pop("board_tick_rerun", False)
# The sidebar's choice; the newest open cycle when there is none (a rerun in AppTest drops
# the sidebar's widget state).
cycle_id = ctx.current_cycle() or board_service.default_cycle(ctx.cursor())

is_exec = ctx.can("cycle.respond")
st.title(ctx.tr("board.title"))
cycle_setup.flash()
if is_exec:
    cycle_setup.new_cycle_form(user, expanded=cycle_id is None)
if cycle_id is None:
    st.info(ctx.tr("board.no_cycle"))
    st.stop()
c_big, c_pause, _ = st.columns([2, 2, 3])
big = c_big.toggle(ctx.tr("board.presentation"), key="board_big")
paused = c_pause.toggle(ctx.tr("board.pause"), key="board_paused", help=ctx.tr("board.pause_help"))
if big:
    # Projector layout: no sidebar, full width, large type (Streamlit has no setting for it).
    # A literal: pages never pass anything but constant markup to st.html.
    st.html(
        """<style>
section[data-testid='stSidebar'], [data-testid='stSidebarCollapsedControl'] {display:none}
[data-testid='stMainBlockContainer'] {max-width:100%; padding:1.5rem 2.5rem}
[data-testid='stMetricValue'] {font-size:4rem; line-height:1.1}
[data-testid='stMetricLabel'] p {font-size:1.5rem}
[data-testid='stMetricDelta'] {font-size:1.3rem}
[data-testid='stCaptionContainer'] p {font-size:1.2rem}
h1 {font-size:2.4rem !important}
</style>"""
    )

# Every screen's tick reads only this; the board itself is rebuilt when it changes.
version = board_service.version(ctx.cursor(), cycle_id)


@st.cache_data(max_entries=16, show_spinner=False)
@st.cache_data(max_entries=8, show_spinner=False)
def _inputs(metric: str, data_version: tuple) -> dict:
    # History and signals change only with an import, not with each proposal.
    return board_service.inputs(ctx.cursor(), metric)


@st.cache_data(max_entries=16, show_spinner=False)
def _snapshot(cycle_id: int, version: tuple, _viewer: User) -> dict:
    # Keyed on the version: one read per change shared by every screen; every board role
    # sees all regions, so the first viewer's snapshot is valid for the others.
    # version = (last event, signatures, newest import, regions): the last two are the data's.
    return board_service.snapshot(
        ctx.cursor(), _viewer, cycle_id, load_inputs=lambda metric: _inputs(metric, version[2:])
    )


@st.cache_data(max_entries=16, show_spinner=False)
def _view(cycle_id: int, version: tuple, lang: str, _viewer: User) -> dict:
    # Table, headline and chart specs built once per change for all screens.
    snap = _snapshot(cycle_id, version, _viewer)
    cycle, state = snap["cycle"], snap["state"]
    if state.empty:
        return {"state": state, "cycle": cycle}
    table = board.board_table(state, snap["regions"], snap["history"], cycle["period"], lang)
    head = board.headline(state, cycle["company_target"], snap["signed"])
    return {
        "cycle": cycle,
        "state": state,
        "table": table,
        "headline": head,
        "rollup": board.rollup(table),
    }


@st.cache_data(max_entries=32, show_spinner=False)
def _chart(cycle_id: int, version: tuple, lang: str, big: bool, which: str, _viewer: User) -> dict:
    # Only the open tab's chart, once per change for every screen. Specs, not Altair objects:
    # converting a chart costs ~25 ms; not validated here (the tests validate the builders).
    view = _view(cycle_id, version, lang, _viewer)
    if which == "regions":
        chart = charts_board.regions_chart(view["table"], lang, big=big)
    else:
        chart = charts_board.bridge_chart(view["headline"], view["table"], lang, big=big)
    return chart.to_dict(validate=False)


@st.cache_data(max_entries=32, show_spinner=False)
def _allocation(
    cycle_id: int, version: tuple, method: str, lang: str, big: bool, _viewer: User
) -> tuple[pd.DataFrame, dict]:
    # The allocation and its chart spec, once per change and method for every screen.
    snap = _snapshot(cycle_id, version, _viewer)
    cycle = snap["cycle"]
    alloc = board.allocate(
        method,
        cycle["company_target"],
        snap["state"],
        snap["history"],
        snap["signals"],
        cycle["period"],
    )
    names = _view(cycle_id, version, lang, _viewer)["table"][["region", "name"]]
    alloc = alloc.merge(names, on="region", how="left")
    return alloc, charts_board.allocation_chart(alloc, lang, big=big).to_dict(validate=False)


def _fmt(value: float | None, pct: bool = False) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{value:+.1f}%" if pct else f"{value:,.0f}"


def _changes(state: pd.DataFrame, table: pd.DataFrame) -> set[str]:
    """Regions changed in the last few seconds; a toast for each change seen just now."""
    memo = st.session_state.setdefault("board_seen", {})
    lit = st.session_state.setdefault("board_lit", {})
    now = time.time()
    fresh = board.changes_since(memo.get(cycle_id), state)
    if fresh:
        rows = table.set_index("region")
        for region in sorted(fresh):
            lit[region] = now
            if region in rows.index:
                row = rows.loc[region]
                st.toast(
                    ctx.tr(
                        "board.toast_change",
                        region=plain(row["name"]),
                        status=row["status_label"],
                        value=_fmt(row["current"]),
                    ),
                    icon=":material/notifications:",
                )
    memo[cycle_id] = state
    return {r for r, at in lit.items() if now - at < HIGHLIGHT_SECONDS}


@st.fragment(run_every=None if paused else REFRESH_SECONDS)
def live(shown_version: tuple, lit: set[str]) -> None:
    """The tick: one small query; the page reruns only when the board has changed."""
    if ctx.session_expired():
        st.rerun(scope="app")  # the app run signs the idle session out; no more ticks
    with timed("board.tick"):
        now_version = board_service.version(ctx.cursor(), cycle_id)
        lit_at = st.session_state.get("board_lit", {})
        faded = any(time.time() - lit_at.get(r, 0) >= HIGHLIGHT_SECONDS for r in lit)
    if now_version != shown_version or faded:
        st.session_state["board_tick_rerun"] = True
        st.rerun(scope="app")
    clock = time.strftime("%H:%M:%S", time.gmtime())
    if paused:
        st.caption(":material/pause_circle: " + ctx.tr("board.paused", time=clock))
    else:
        st.caption(
            ":green[:material/radio_button_checked:] "
            + ctx.tr("board.live", seconds=f"{REFRESH_SECONDS:g}", time=clock)
        )


def _status_style(column: pd.Series, statuses: pd.Series) -> list[str]:
    return [STATUS_COLOURS.get(s, "") for s in statuses]


def _styled(frame: pd.DataFrame, table: pd.DataFrame, numbers: list[str], pct: list[str]):
    """Status colours, thousands separators and a dash for missing numbers (not "None")."""
    # Text, not numbers: the data grid draws a missing number as "None" whatever the format.
    frame = frame.copy()
    for name in numbers:
        frame[name] = [_fmt(v) for v in frame[name]]
    for name in pct:
        frame[name] = [_fmt(v, pct=True) for v in frame[name]]
    status_col = ctx.tr("board.col_status")
    styler = frame.style.apply(
        _status_style, statuses=table["status"].reset_index(drop=True), subset=[status_col]
    )
    return styler.hide(axis="index")


def render_board(view: dict, lit: set[str]) -> None:
    """Headline, counts, the per-region table and the charts."""
    table, head = view["table"], view["headline"]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(ctx.tr("board.kpi_target"), _fmt(head["company_target"]))
    c2.metric(
        ctx.tr("board.kpi_current_sum"),
        _fmt(head["current_sum"]),
        delta=_fmt(head["current_sum"] - head["suggestion_sum"]),
        help=f"{ctx.tr('board.kpi_suggestion_sum')}: {_fmt(head['suggestion_sum'])}",
    )
    # The % is relative to the regions' sum, as in the seeds (980 vs 1,200: a 22% gap).
    c3.metric(
        ctx.tr("board.kpi_gap"),
        _fmt(head["gap"]),
        delta=ctx.tr("board.kpi_gap_pct", pct=_fmt(head["gap_pct"], pct=True).lstrip("+")),
        delta_color="off",
        delta_arrow="off",
        help=ctx.tr("board.kpi_gap_help", share=f"{head['gap_share_of_target_pct']:.1f}"),
    )
    c4.metric(ctx.tr("board.kpi_agreed_sum"), _fmt(head["agreed_sum"]))
    st.caption(
        ctx.tr(
            "board.kpi_counts",
            proposed=head["proposed"],
            regions=head["regions"],
            flagged=head["flagged"],
            agreed=head["agreed"],
            signed=head["signed"],
        )
        + " · "
        + ctx.tr("board.kpi_suggestion_sum")
        + f" {_fmt(head['suggestion_sum'])}"
    )

    col = {
        k: ctx.tr(f"board.col_{k}")
        for k in (
            "region",
            "parent",
            "last_actual",
            "same_period_last_year",
            "suggestion",
            "interval",
            "delta_pct",
            "status",
            "justification",
            "last_change",
        )
    }
    # One number per region with its source (negotiation.current_number): a countered region
    # shows the counter, an agreed one the agreed value, and Δ is against that number.
    col["proposal"] = ctx.tr("board.col_current")
    col["source"] = ctx.tr("board.col_source")
    named = table["current"].where(table["current_source"] != "suggestion").to_numpy("float64")
    source = [
        ctx.tr(f"nego.source.{x}") if isinstance(x, str) and x != "suggestion" else "–"
        for x in table["current_source"]
    ]
    interval = [
        f"{lo:,.0f} – {hi:,.0f}" if pd.notna(lo) and pd.notna(hi) else "–"
        for lo, hi in zip(table["lower80"], table["upper80"], strict=True)
    ]
    status = [
        f"{label} ⚠" if older else label
        for label, older in zip(table["status_label"], table["older_run"], strict=True)
    ]
    mark = ["●" if r in lit else "" for r in table["region"]]
    if big:
        # Projector: fewer, larger columns; the details stay on the normal layout.
        shown = pd.DataFrame(
            {
                "": mark,
                # st.table renders Markdown in cells: names from an import are escaped.
                col["region"]: [plain(n) for n in table["name"]],
                col["suggestion"]: table["suggestion"].to_numpy(),
                col["interval"]: interval,
                col["proposal"]: named,
                col["source"]: source,
                col["delta_pct"]: pd.to_numeric(table["delta_pct"]).to_numpy(),
                col["status"]: status,
            }
        )
        styler = _styled(shown, table, [col["suggestion"], col["proposal"]], [col["delta_pct"]])
        styler = styler.set_table_styles(
            [{"selector": "th, td", "props": "font-size:1.55rem; padding:0.45rem 0.9rem"}]
        )
        st.table(styler)
    else:
        shown = pd.DataFrame(
            {
                "": mark,
                col["region"]: table["name"],
                col["last_actual"]: table["last_actual"].to_numpy(),
                col["same_period_last_year"]: table["same_period_last_year"].to_numpy(),
                col["suggestion"]: table["suggestion"].to_numpy(),
                col["interval"]: interval,
                col["proposal"]: named,
                col["source"]: source,
                col["delta_pct"]: pd.to_numeric(table["delta_pct"]).to_numpy(),
                col["status"]: status,
                col["justification"]: table["justification_preview"],
                col["last_change"]: [
                    pd.Timestamp(x).strftime("%H:%M:%S") if pd.notna(x) else "–"
                    for x in table["last_change_at"]
                ],
            }
        )
        if table["parent"].notna().any():
            shown.insert(2, col["parent"], table["parent_name"])
        numbers = [
            col[k] for k in ("last_actual", "same_period_last_year", "suggestion", "proposal")
        ]
        right = st.column_config.TextColumn(alignment="right")
        st.dataframe(
            _styled(shown, table, numbers, [col["delta_pct"]]),
            hide_index=True,
            width="stretch",
            column_config={
                **dict.fromkeys([*numbers, col["delta_pct"], col["interval"]], right),
                col["last_change"]: st.column_config.TextColumn(help=ctx.tr("board.utc")),
            },
        )
    if table["older_run"].any():
        st.caption("⚠ " + ctx.tr("board.older_run"))

    chart_tabs = [ctx.tr("board.tab_regions"), ctx.tr("board.tab_bridge")]
    tab_regions, tab_bridge = st.tabs(chart_tabs, key="board_chart_tab", on_change="rerun")
    if tab_regions.open:
        with tab_regions:
            st.vega_lite_chart(
                _chart(cycle_id, version, lang, big, "regions", user), width="stretch"
            )
            roll = view["rollup"]
            if not roll.empty:
                st.subheader(ctx.tr("board.rollup_title"))
                st.dataframe(roll, hide_index=True, width="stretch")
    if tab_bridge.open:
        with tab_bridge:
            st.vega_lite_chart(
                _chart(cycle_id, version, lang, big, "bridge", user), width="stretch"
            )


with timed("board.render"):
    view = _view(cycle_id, version, lang, user)
    cycle, state = view["cycle"], view["state"]
    lit = _changes(state, view["table"]) if not state.empty else set()
    live(version, lit)
    if is_exec and cycle["status"] == "draft":
        cycle_setup.draft_panel(user, cycle)
    if state.empty:
        st.info(ctx.tr("board.no_regions"))
        st.stop()
    render_board(view, lit)
table = view["table"]

is_open = cycle["status"] == "open"
tabs = [ctx.tr("board.tab_whatif"), ctx.tr("board.tab_respond")]
if is_exec:
    tabs.append(ctx.tr("board.tab_join"))
# Stateful tabs: a change arriving from another browser reruns the page, and the
# executive must stay on the tab they were using.
tab_whatif, tab_respond, *tab_join = st.tabs(tabs, key="board_action_tab", on_change="rerun")


def _send_allocation(alloc: pd.DataFrame, method: str) -> None:
    """Form: send the allocation's numbers as counter-offers (one reason, editable per region).

    The rows, their numbers and each region's last event are frozen when the form is drawn
    (per cycle and method) and kept through the live board's reruns: the editor's edits are
    by row, so rows that moved when another region was agreed would shift them.
    """
    key = f"board_send_rows_{cycle_id}_{method}"
    if key not in st.session_state:
        rows = alloc[~alloc["kept"].astype(bool)].merge(
            table[["region", "status", "last_event_id"]], on="region", how="left"
        )
        rows = rows[rows["status"] != "agreed"]
        st.session_state[key] = pd.DataFrame(
            {
                "region": rows["region"].to_numpy(),
                "name": rows["name"].to_numpy(),
                "implied": rows["implied"].round(0).to_numpy(),
                "seen": [None if pd.isna(e) else int(e) for e in rows["last_event_id"]],
            }
        )
    open_rows = st.session_state[key]
    if open_rows.empty:
        return
    st.subheader(ctx.tr("board.send_title"))
    c_send, c_region, c_value, c_reason = (
        ctx.tr("board.send_col_send"),
        ctx.tr("board.col_region"),
        ctx.tr("board.respond_value"),
        ctx.tr("board.send_col_reason"),
    )
    with st.form("board_send_allocation"):
        common = st.text_area(ctx.tr("board.send_reason"), key="board_send_reason")
        edited = st.data_editor(
            pd.DataFrame(
                {
                    c_send: True,
                    c_region: open_rows["name"].to_numpy(),
                    c_value: open_rows["implied"].to_numpy(),
                    c_reason: "",
                }
            ),
            hide_index=True,
            width="stretch",
            disabled=[c_region],
            column_config={
                c_value: st.column_config.NumberColumn(min_value=0, format="localized"),
                c_reason: st.column_config.TextColumn(help=ctx.tr("board.send_reason_help")),
            },
            key=f"board_send_editor_{method}",
        )
        sent = st.form_submit_button(ctx.tr("board.send_submit"), type="primary")
    if not sent:
        return
    offers = []
    for i, row in enumerate(edited.to_dict("records")):
        if not row[c_send]:
            continue
        src = open_rows.iloc[i]
        offers.append(
            {
                "region": src["region"],
                "value": row[c_value],
                "reason": (row[c_reason] or "").strip() or common,
                "expected_last_event": src["seen"],
            }
        )
    try:
        ids = negotiation.send_counters(ctx.cursor(), user, cycle_id, offers, method=method)
    except negotiation.ValidationError as exc:
        names = dict(zip(open_rows["region"], open_rows["name"], strict=True))
        for field, err in exc.errors.items():
            region, _, _ = field.partition(".")
            prefix = f"{names[region]}: " if region in names else ""
            st.error(prefix + ctx.tr(err))
    except (negotiation.NegotiationError, PermissionError) as exc:
        st.error(_refusal(exc))
        # The next draw shows the regions as they are now (what was typed is lost: the rows
        # themselves may have changed).
        st.session_state.pop(key, None)
    else:
        st.session_state.pop(key, None)
        st.success(ctx.tr("board.send_done", n=len(ids)))


if tab_whatif.open:
    with tab_whatif:
        method = st.selectbox(
            ctx.tr("board.method"),
            board.METHODS,
            format_func=lambda m: board.method_label(m, lang),
            key="board_method",
        )
        st.caption(ctx.tr("board.whatif_note"))
        try:
            alloc, alloc_spec = _allocation(cycle_id, version, method, lang, big, user)
        except board.AllocationError as exc:
            ctx.show_error(exc)
        else:
            beyond = int((alloc["position"] == "above").sum())
            if beyond:
                st.warning(ctx.tr("board.beyond_count", n=beyond, total=len(alloc)))
            st.vega_lite_chart(alloc_spec, width="stretch")
            c_impl, c_sug = ctx.tr("board.col_implied"), ctx.tr("board.col_suggestion")
            c_dsug, c_dly = ctx.tr("board.col_delta_pct"), ctx.tr("board.col_vs_last_year_pct")
            frame = pd.DataFrame(
                {
                    ctx.tr("board.col_region"): alloc["name"],
                    c_impl: alloc["implied"].round(1),
                    c_sug: alloc["suggestion"].round(0),
                    c_dsug: alloc["vs_suggestion_pct"],
                    c_dly: alloc["vs_last_year_pct"],
                    ctx.tr("board.col_position"): alloc[f"label_{lang}"],
                }
            )
            for name in (c_impl, c_sug):
                frame[name] = [_fmt(v) for v in frame[name]]
            for name in (c_dsug, c_dly):
                frame[name] = [_fmt(v, pct=True) for v in frame[name]]
            right = st.column_config.TextColumn(alignment="right")
            st.dataframe(
                frame,
                hide_index=True,
                width="stretch",
                column_config=dict.fromkeys([c_impl, c_sug, c_dsug, c_dly], right),
            )
            if is_exec and is_open:
                _send_allocation(alloc, method)


def _close_lock_dialog() -> None:
    st.session_state.pop("board_lock_open", None)
    st.session_state.pop("board_lock_seen", None)


@st.dialog(":material/lock: " + t("board.lock", ctx.lang()), on_dismiss=_close_lock_dialog)
def _confirm_lock(total: float) -> None:
    st.write(ctx.tr("board.lock_confirm", total=_fmt(total), regions=len(table)))
    st.markdown("**" + _lock_summary(total, cycle["company_target"]) + "**")
    yes, no = st.columns(2)
    if no.button(ctx.tr("board.lock_cancel"), key="board_lock_no"):
        _close_lock_dialog()
        st.rerun()
    if yes.button(ctx.tr("board.lock_yes"), type="primary", key="board_lock_yes"):
        seen = st.session_state.get("board_lock_seen")
        _close_lock_dialog()
        try:
            agreed = negotiation.lock_cycle(ctx.cursor(), user, cycle_id, expected_last_event=seen)
        except (negotiation.NegotiationError, PermissionError) as exc:
            st.error(_refusal(exc))
        else:
            st.session_state["board_locked_total"] = sum(agreed.values())
            st.rerun()


def _seen(form: str) -> dict:
    """What the form's regions looked like when the person drew the form: region → last event.

    Taken on every run the person started and kept through the live tick's reruns (never
    recomputed at submit: the callback reads it before the run draws), so a region that
    changed under a half-filled form is refused with what changed.
    """
    key = f"board_seen_{form}_{cycle_id}"
    if key not in st.session_state or not tick_rerun:
        st.session_state[key] = {
            r: (None if pd.isna(e) else int(e))
            for r, e in zip(table["region"], table["last_event_id"], strict=True)
        }
    return st.session_state[key]


def _forget_seen(form: str) -> None:
    st.session_state.pop(f"board_seen_{form}_{cycle_id}", None)


def _refusal(exc: Exception) -> str:
    """A refused write as text for the person (region ids shown by name)."""
    # Names and actors are typed text: escaped before they enter our Markdown message.
    names = {r: plain(n) for r, n in zip(table["region"], table["name"], strict=True)}
    if isinstance(exc, negotiation.StaleWriteError):
        return exc.text(lang, names)
    values = plain_values(dict(getattr(exc, "values", {})))
    if "region" in values:
        values["region"] = names.get(values["region"], values["region"])
    key = getattr(exc, "key", None)
    return ctx.tr(key, **values) if key else plain(str(exc))


def _send_response() -> None:
    """Callback of the Respond form: the region and last event are those the form was drawn
    with; a refusal keeps what was typed."""
    ss = st.session_state
    region = ss.get("board_respond_region")
    action = ss.get("board_respond_action")
    seen = _seen("respond")
    names = dict(zip(table["region"], table["name"], strict=True))
    override = (ss.get("board_respond_override") or "").strip()
    try:
        if region not in names:
            raise negotiation.CycleStateError("nego.err_nothing_to_answer", region=str(region))
        negotiation.respond(
            ctx.cursor(),
            user,
            cycle_id,
            region,
            action,
            expected_last_event=seen.get(region),
            counter_value=ss.get("board_respond_value") if action == "counter" else None,
            reason=ss.get("board_respond_reason") or "",
            hr_override_reason=override if action == "accept" and override else None,
        )
    except negotiation.ValidationError as exc:
        ss["board_respond_msg"] = ("error", [ctx.tr(k) for k in exc.errors.values()])
    except (negotiation.NegotiationError, PermissionError) as exc:
        ss["board_respond_msg"] = ("error", [_refusal(exc)])
    else:
        ss["board_respond_msg"] = ("success", [ctx.tr("board.respond_done", region=plain(names[region]))])
        for key in ("board_respond_value", "board_respond_reason", "board_respond_override"):
            ss.pop(key, None)
    # Either way the next draw shows (and binds the form to) the region as it is now.
    _forget_seen("respond")


def _open_lock() -> None:
    # The lock is bound to the newest decision the executive saw when opening the dialog.
    last = pd.to_numeric(state["last_event_id"], errors="coerce").max()
    st.session_state["board_lock_open"] = True
    st.session_state["board_lock_seen"] = None if pd.isna(last) else int(last)


def _lock_summary(agreed: float, target: float | None) -> str:
    """"911 agreed, 289 below the company's 1,200" for the lock dialog."""
    if target is None:
        return ctx.tr("board.lock_vs_none", agreed=_fmt(agreed))
    diff = agreed - target
    key = "board.lock_vs_equal" if abs(diff) < 0.5 else (
        "board.lock_vs_below" if diff < 0 else "board.lock_vs_above")
    return ctx.tr(key, agreed=_fmt(agreed), diff=_fmt(abs(diff)), target=_fmt(target))


if tab_respond.open:
    with tab_respond:
        done_total = st.session_state.pop("board_locked_total", None)
        if done_total is not None:
            st.success(ctx.tr("board.locked", total=_fmt(done_total)))
        if cycle["status"] in ("locked", "tracking"):
            # After the lock the next step is the letters.
            st.page_link("pages/letters.py", label=ctx.tr("board.goto_letters"),
                         icon=":material/contract:")
        if not is_exec:
            st.info(ctx.tr("board.respond_only_exec"))
        elif not is_open:
            st.info(ctx.tr("board.respond_closed"))
        else:
            msg = st.session_state.pop("board_respond_msg", None)
            if msg:
                for text in msg[1]:
                    (st.success if msg[0] == "success" else st.error)(text)
            # Every region in the table's fixed order, named only by its name: options that
            # depended on statuses (or labels carrying a status, which is the widget's value)
            # let a change to another region move the selection. Accept needs a proposal; a
            # counter also goes to a region that has none yet; the service refuses the rest.
            names = dict(zip(table["region"], table["name"], strict=True))
            _seen("respond")
            if table["status"].ne("agreed").sum() == 0:
                st.info(ctx.tr("board.respond_none"))
            with st.form("board_respond", clear_on_submit=False):
                # The first draw starts on a proposal that can be accepted; after that the
                # key holds the person's choice whatever the statuses do.
                waiting = [r for want in ("proposed", "flagged", "countered", "none")
                           for r, st_ in zip(table["region"], table["status"], strict=True)
                           if st_ == want]
                st.selectbox(
                    ctx.tr("board.respond_region"),
                    list(names),
                    index=list(names).index(waiting[0]) if waiting else 0,
                    format_func=lambda r: names.get(r, str(r)),
                    key="board_respond_region",
                )
                st.radio(
                    ctx.tr("board.respond_action"),
                    ["accept", "counter"],
                    # Bound to this run's language (AppTest formats options outside it).
                    format_func=lambda a: t(f"board.respond_{a}", lang),
                    horizontal=True,
                    key="board_respond_action",
                )
                # Empty by default: a counter of 0 by oversight must be refused, not sent.
                st.number_input(
                    ctx.tr("board.respond_value"),
                    min_value=0.0,
                    step=1.0,
                    value=None,
                    key="board_respond_value",
                )
                st.text_area(ctx.tr("board.respond_reason"), key="board_respond_reason")
                st.text_area(
                    ctx.tr("board.respond_override"),
                    key="board_respond_override",
                    help=ctx.tr("board.respond_override_help"),
                )
                st.form_submit_button(
                    ctx.tr("board.respond_submit"), type="primary", on_click=_send_response
                )
            overrides = state[state["hr_override_reason"].notna()]
            for row in overrides.to_dict("records"):
                # Shown as text: the reason is what the executive typed.
                st.caption(
                    ":material/gpp_maybe: " + ctx.tr(
                        "board.hr_override_note", region=plain(names.get(row["region"], row["region"])),
                        actor=plain(row["hr_override_by"]),
                    )
                )
                st.text(row["hr_override_reason"])
            head = view["headline"]
            if head["all_agreed"]:
                st.button(
                    ctx.tr("board.lock"), help=ctx.tr("board.lock_help"), type="primary",
                    on_click=_open_lock, key="board_lock",
                )
                # Kept open by a flag: the confirmation must survive the live board's reruns.
                if st.session_state.get("board_lock_open"):
                    _confirm_lock(head["agreed_sum"])
            else:
                st.caption(ctx.tr("board.lock_help"))

if tab_join and tab_join[0].open:
    with tab_join[0]:
        st.caption(ctx.tr("join.intro", hours=int(join.DEFAULT_TTL.total_seconds() // 3600)))
        cur = ctx.cursor()
        leads = join.lead_accounts(cur, user)
        names = {x["username"]: x["display_name"] for x in leads}
        here = urlsplit(st.context.url or "http://localhost:8501/")
        default_base = urlunsplit((here.scheme, here.netloc, "/", "", ""))
        with st.form("board_join"):
            chosen = st.multiselect(ctx.tr("board.join_leads"), list(names), format_func=names.get)
            base = st.text_input(ctx.tr("board.join_base_url"), value=default_base)
            make = st.form_submit_button(ctx.tr("join.create"), type="primary")
        if make and chosen:
            try:
                made = join.create_join_links(cur, user, cycle_id, base, chosen)
            except join.JoinError as exc:
                ctx.show_error(exc)
            else:
                # Raw links exist only here (the database keeps hashes), so keep them for
                # this session's reruns.
                st.session_state["board_links"] = made
        made = st.session_state.get("board_links", [])
        if made:
            st.caption(ctx.tr("board.join_made"))
            cols = st.columns(3)
            for i, (lead, url) in enumerate(made):
                with cols[i % 3]:
                    st.image(
                        join.qr_png(url),
                        caption=ctx.tr("join.for_lead", name=plain(names.get(lead, lead))),
                        width=240,
                    )
                    st.code(url, language=None)
        status = join.link_status(cur, cycle_id)
        if not status.empty:
            st.subheader(ctx.tr("board.join_status"))
            st.dataframe(status, hide_index=True, width="stretch")
