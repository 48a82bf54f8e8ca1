"""Live board: proposals beside the model, the gap to the target, what-if allocations, links."""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import streamlit as st

from calibration import board, board_service, charts_board, join, negotiation
from calibration.auth import User
from calibration.i18n import t
from ui import context as ctx

REFRESH_SECONDS = 1
HIGHLIGHT_SECONDS = 15

user = ctx.require_user("board")
lang = ctx.lang()
# The sidebar's choice; the newest open cycle when there is none (a rerun in AppTest drops
# the sidebar's widget state).
cycle_id = ctx.current_cycle() or board_service.default_cycle(ctx.cursor())

st.title(ctx.tr("board.title"))
if cycle_id is None:
    st.info(ctx.tr("board.no_cycle"))
    st.stop()
big = st.toggle(ctx.tr("board.presentation"), key="board_big")
if big:
    # Presentation mode: the headline must be readable from the back of the room.
    st.html(
        "<style>[data-testid='stMetricValue']{font-size:3.6rem}"
        "[data-testid='stMetricLabel'] p{font-size:1.4rem}</style>"
    )


@st.cache_data(ttl=1, show_spinner=False)
def _snapshot(cycle_id: int, _viewer: User) -> dict:
    # One read per second shared by every screen on the board; every board role sees all
    # regions, so the first viewer's snapshot is valid for the others.
    return board_service.snapshot(ctx.cursor(), _viewer, cycle_id)


@st.cache_data(ttl=1, show_spinner=False)
def _view(cycle_id: int, lang: str, big: bool, _viewer: User) -> dict:
    # Table, headline and charts built once a second for all screens, not once per screen.
    snap = _snapshot(cycle_id, _viewer)
    cycle, state = snap["cycle"], snap["state"]
    if state.empty:
        return {"state": state}
    table = board.board_table(state, snap["regions"], snap["history"], cycle["period"], lang)
    head = board.headline(state, cycle["company_target"], snap["signed"])
    return {
        "state": state,
        "table": table,
        "headline": head,
        "rollup": board.rollup(table),
        # Specs, not Altair objects: converting (and validating) a chart costs ~25 ms, so it
        # is done here once a second rather than by every screen on every refresh.
        "regions_chart": charts_board.regions_chart(table, lang, big=big).to_dict(),
        "bridge_chart": charts_board.bridge_chart(head, table, lang, big=big).to_dict(),
    }


def _recently_changed(state: pd.DataFrame, table: pd.DataFrame) -> set[str]:
    """Regions changed in the last few seconds; a toast for each change seen just now."""
    memo = st.session_state.setdefault("board_seen", {})
    prev = memo.get(cycle_id)
    now = time.time()
    lit = st.session_state.setdefault("board_lit", {})
    fresh = board.changes_since(prev, state)
    if fresh:
        rows = table.set_index("region")
        for region in sorted(fresh):
            lit[region] = now
            if region in rows.index:
                row = rows.loc[region]
                st.toast(
                    ctx.tr(
                        "board.toast_change",
                        region=row["name"],
                        status=row["status_label"],
                        value=_fmt(row["current"]),
                    ),
                    icon=":material/notifications:",
                )
    memo[cycle_id] = state
    if fresh and prev is not None:
        # The respond and lock controls live outside this fragment: a change the room
        # just saw must reach them too, so the whole page reruns once.
        st.session_state["board_rerun_for"] = sorted(fresh)
        st.rerun(scope="app")
    # One refresh (1 s) is too short to notice a change: keep it lit for a while.
    return {r for r, at in lit.items() if now - at < HIGHLIGHT_SECONDS}


def _fmt(value: float | None, pct: bool = False) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{value:+.1f}%" if pct else f"{value:,.0f}"


@st.fragment(run_every=REFRESH_SECONDS)
def live() -> None:
    """Headline, table and charts; reruns on its own every second."""
    view = _view(cycle_id, lang, big, user)
    state = view["state"]
    if state.empty:
        st.info(ctx.tr("board.no_regions"))
        return
    table, head = view["table"], view["headline"]
    lit = _recently_changed(state, table)

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
        + ctx.tr(
            "board.live", seconds=REFRESH_SECONDS, time=time.strftime("%H:%M:%S", time.gmtime())
        )
    )

    shown = pd.DataFrame(
        {
            "": ["●" if r in lit else "" for r in table["region"]],
            ctx.tr("board.col_region"): table["name"],
            ctx.tr("board.col_last_actual"): table["last_actual"].round(0),
            ctx.tr("board.col_same_period_last_year"): table["same_period_last_year"].round(0),
            ctx.tr("board.col_suggestion"): table["suggestion"].round(0),
            ctx.tr("board.col_interval"): [
                f"{lo:,.0f} – {hi:,.0f}" if pd.notna(lo) and pd.notna(hi) else "–"
                for lo, hi in zip(table["lower80"], table["upper80"], strict=True)
            ],
            # Numeric dtype, so a region without a proposal shows an empty cell, not "None".
            ctx.tr("board.col_proposal"): pd.to_numeric(table["proposal"]).round(0),
            ctx.tr("board.col_delta_pct"): pd.to_numeric(table["delta_pct"]),
            ctx.tr("board.col_status"): [
                f"{label} ⚠" if older else label
                for label, older in zip(table["status_label"], table["older_run"], strict=True)
            ],
            ctx.tr("board.col_justification"): table["justification_preview"],
            ctx.tr("board.col_last_change"): table["last_change_at"],
        }
    )
    if table["parent"].notna().any():
        shown.insert(2, ctx.tr("board.col_parent"), table["parent_name"])
    number = st.column_config.NumberColumn(format="localized")
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            ctx.tr("board.col_last_actual"): number,
            ctx.tr("board.col_same_period_last_year"): number,
            ctx.tr("board.col_suggestion"): number,
            ctx.tr("board.col_proposal"): number,
            ctx.tr("board.col_delta_pct"): st.column_config.NumberColumn(format="%+.1f%%"),
            ctx.tr("board.col_last_change"): st.column_config.DatetimeColumn(format="HH:mm:ss"),
        },
    )
    if table["older_run"].any():
        st.caption("⚠ " + ctx.tr("board.older_run"))

    tab_regions, tab_bridge = st.tabs([ctx.tr("board.tab_regions"), ctx.tr("board.tab_bridge")])
    with tab_regions:
        st.vega_lite_chart(view["regions_chart"], width="stretch")
        roll = view["rollup"]
        if not roll.empty:
            st.subheader(ctx.tr("board.rollup_title"))
            st.dataframe(roll, hide_index=True, width="stretch")
    with tab_bridge:
        st.vega_lite_chart(view["bridge_chart"], width="stretch")


live()

# Below the live part: actions and what-ifs, computed on the snapshot of this script run.
snap = _snapshot(cycle_id, user)
cycle, state = snap["cycle"], snap["state"]
is_exec = user.role in ("executive", "admin")
tabs = [ctx.tr("board.tab_whatif"), ctx.tr("board.tab_respond")]
if is_exec:
    tabs.append(ctx.tr("board.tab_join"))
tab_whatif, tab_respond, *tab_join = st.tabs(tabs)

with tab_whatif:
    method = st.selectbox(
        ctx.tr("board.method"),
        board.METHODS,
        format_func=lambda m: board.method_label(m, lang),
        key="board_method",
    )
    st.caption(ctx.tr("board.whatif_note"))
    if not state.empty:
        try:
            alloc = board.allocate(
                method,
                cycle["company_target"],
                state,
                snap["history"],
                snap["signals"],
                cycle["period"],
            )
        except board.AllocationError as exc:
            ctx.show_error(exc)
        else:
            names = board.board_table(state, snap["regions"], None, cycle["period"], lang)[
                ["region", "name"]
            ]
            alloc = alloc.merge(names, on="region", how="left")
            beyond = int((alloc["position"] == "above").sum())
            if beyond:
                st.warning(ctx.tr("board.beyond_count", n=beyond, total=len(alloc)))
            st.altair_chart(charts_board.allocation_chart(alloc, lang, big=big), width="stretch")
            st.dataframe(
                pd.DataFrame(
                    {
                        ctx.tr("board.col_region"): alloc["name"],
                        ctx.tr("board.col_implied"): alloc["implied"].round(1),
                        ctx.tr("board.col_suggestion"): alloc["suggestion"].round(0),
                        ctx.tr("board.col_delta_pct"): alloc["vs_suggestion_pct"],
                        ctx.tr("board.col_vs_last_year_pct"): alloc["vs_last_year_pct"],
                        ctx.tr("board.col_position"): alloc[f"label_{lang}"],
                    }
                ),
                hide_index=True,
                width="stretch",
                column_config={
                    ctx.tr("board.col_implied"): st.column_config.NumberColumn(format="localized"),
                    ctx.tr("board.col_suggestion"): st.column_config.NumberColumn(
                        format="localized"
                    ),
                    ctx.tr("board.col_delta_pct"): st.column_config.NumberColumn(format="%+.1f%%"),
                    ctx.tr("board.col_vs_last_year_pct"): st.column_config.NumberColumn(
                        format="%+.1f%%"
                    ),
                },
            )

with tab_respond:
    if not is_exec:
        st.info(ctx.tr("board.respond_only_exec"))
    else:
        table = board.board_table(state, snap["regions"], None, cycle["period"], lang)
        waiting = table[table["proposal"].notna() & (table["status"] != "agreed")]
        if waiting.empty:
            st.info(ctx.tr("board.respond_none"))
        else:
            labels = dict(zip(waiting["region"], waiting["name"], strict=True))
            with st.form("board_respond", clear_on_submit=True):
                region = st.selectbox(
                    ctx.tr("board.respond_region"), list(labels), format_func=labels.get
                )
                action = st.radio(
                    ctx.tr("board.respond_action"),
                    ["accept", "counter"],
                    # Bound to this run's language (AppTest formats options outside the run).
                    format_func=lambda a: t(f"board.respond_{a}", lang),
                    horizontal=True,
                )
                # Empty by default: a counter of 0 by oversight must be refused, not sent.
                value = st.number_input(
                    ctx.tr("board.respond_value"), min_value=0.0, step=1.0, value=None
                )
                reason = st.text_area(ctx.tr("board.respond_reason"))
                sent = st.form_submit_button(ctx.tr("board.respond_submit"), type="primary")
            if sent:
                seen = table.set_index("region").loc[region, "last_event_id"]
                try:
                    negotiation.respond(
                        ctx.cursor(),
                        user,
                        cycle_id,
                        region,
                        action,
                        expected_last_event=None if pd.isna(seen) else int(seen),
                        counter_value=value if action == "counter" else None,
                        reason=reason,
                    )
                except negotiation.ValidationError as exc:
                    for key in exc.errors.values():
                        st.error(ctx.tr(key))
                except (negotiation.NegotiationError, PermissionError) as exc:
                    ctx.show_error(exc)
                else:
                    st.success(ctx.tr("board.respond_done", region=labels[region]))
                    _snapshot.clear()
        head = board.headline(state, cycle["company_target"], snap["signed"])
        if cycle["status"] == "open" and head["all_agreed"]:
            if st.button(ctx.tr("board.lock"), help=ctx.tr("board.lock_help"), type="primary"):
                last = pd.to_numeric(state["last_event_id"], errors="coerce").max()
                try:
                    agreed = negotiation.lock_cycle(
                        ctx.cursor(),
                        user,
                        cycle_id,
                        expected_last_event=None if pd.isna(last) else int(last),
                    )
                except (negotiation.NegotiationError, PermissionError) as exc:
                    ctx.show_error(exc)
                else:
                    st.success(ctx.tr("board.locked", total=f"{sum(agreed.values()):,.0f}"))
                    _snapshot.clear()

if tab_join:
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
                        caption=ctx.tr("join.for_lead", name=names.get(lead, lead)),
                        width=240,
                    )
                    st.code(url, language=None)
        status = join.link_status(cur, cycle_id)
        if not status.empty:
            st.subheader(ctx.tr("board.join_status"))
            st.dataframe(status, hide_index=True, width="stretch")
