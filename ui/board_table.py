"""The live board's headline, per-region table and charts."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from calibration import settings
from calibration.accounts.auth import User
from calibration.board import view as bview
from calibration.board.view import fmt
from ui import cache
from ui import context as ctx
from ui.text import plain

STATUS_COLOURS = {
    "flagged": "background-color:#fde0dc; color:#8a1c10",
    "countered": "background-color:#fff1c2; color:#6b4e00",
    "agreed": "background-color:#d8f0df; color:#14532d",
    "proposed": "background-color:#e3eefc; color:#1e3a6e",
}


def _status_style(column: pd.Series, statuses: pd.Series) -> list[str]:
    return [STATUS_COLOURS.get(s, "") for s in statuses]


def styled(frame: pd.DataFrame, table: pd.DataFrame, numbers: list[str], pct: list[str]) -> Styler:
    """Status colours, thousands separators and a dash for missing numbers (not "None")."""
    # Text, not numbers: the data grid draws a missing number as "None" whatever the format.
    frame = frame.copy()
    for name in numbers:
        frame[name] = [fmt(v) for v in frame[name]]
    for name in pct:
        frame[name] = [fmt(v, pct=True) for v in frame[name]]
    styler = frame.style.apply(
        _status_style,
        statuses=table["status"].reset_index(drop=True),
        subset=[ctx.tr("board.col_status")],
    )
    return styler.hide(axis="index")


def headline(head: dict) -> None:
    """The four numbers across the top and the counts under them."""
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(ctx.tr("board.kpi_target"), fmt(head["company_target"]))
    change = head["current_sum"] - head["suggestion_sum"]
    way = "up" if change >= 0.5 else "down" if change <= -0.5 else "off"
    c2.metric(
        ctx.tr("board.kpi_current_sum"),
        fmt(head["current_sum"]),
        # The arrow says the direction: the number after it carries no sign ("↓ 53"), so its
        # colour is set by the direction too (unsigned, it would always be green).
        delta=fmt(abs(change)),
        delta_arrow=way,
        delta_color={"up": "green", "down": "red", "off": "gray"}[way],
        help=f"{ctx.tr('board.kpi_suggestion_sum')}: {fmt(head['suggestion_sum'])}",
    )
    # The % is relative to the regions' sum, as in the seeds (980 vs 1,200: a 22% gap).
    c3.metric(
        ctx.tr("board.kpi_gap"),
        fmt(head["gap"]),
        delta=ctx.tr("board.kpi_gap_pct", pct=fmt(head["gap_pct"], pct=True).lstrip("+")),
        delta_color="off",
        delta_arrow="off",
        help=ctx.tr(
            "board.kpi_gap_help", share=fmt(head["gap_share_of_target_pct"], unit="measure")
        ),
    )
    c4.metric(ctx.tr("board.kpi_agreed_sum"), fmt(head["agreed_sum"]))
    st.caption(bview.counts_line(head, ctx.lang()))


def regions_table(table: pd.DataFrame, lit: set[str], big: bool, view_key: tuple) -> None:
    """One row per region: the projector's large paged st.table, or the detailed data grid."""
    if big:
        projector_table(table, lit)
    else:
        detail_table(table, lit, view_key)
    if table["older_run"].any():
        st.caption("⚠ " + ctx.tr("board.older_run"))


def projector_table(table: pd.DataFrame, lit: set[str]) -> None:
    """The projector's rows, a page at a time when they do not fit one 1280×720 screen."""
    pages = bview.present_pages(len(table))
    seconds = settings.present_page_seconds()

    # Only this fragment reruns to turn the page; a change on the board reruns the app.
    @st.fragment(run_every=seconds if len(pages) > 1 else None)
    def paged() -> None:
        number = bview.page_at(time.time(), seconds, len(pages))
        part = table.iloc[pages[number]].reset_index(drop=True)
        if len(pages) > 1:
            st.caption(ctx.tr("board.page_of", page=number + 1, pages=len(pages)))
        lang = ctx.lang()
        col = bview.column_labels(lang)
        shown = bview.shown_table(part, lit, True, lang)
        numbers = [col[k] for k in bview.NUMBER_COLUMNS if col[k] in shown.columns]
        pct = [col[k] for k in bview.PCT_COLUMNS]
        # st.table renders Markdown in cells: names from an import are escaped.
        shown[col["region"]] = [plain(n) for n in shown[col["region"]]]
        styler = (
            styled(shown, part, numbers, pct)
            .set_table_styles(
                [{"selector": "th, td", "props": "font-size:1.45rem; padding:0.3rem 0.8rem"}]
            )
            # !important: st.table's own stylesheet aligns every cell left.
            .set_properties(
                subset=[*numbers, *pct, col["interval"]], **{"text-align": "right !important"}
            )
            .set_table_styles(
                {
                    c: [{"selector": "th", "props": "text-align:right !important"}]
                    for c in [*numbers, *pct, col["interval"]]
                },
                overwrite=False,
            )
        )
        st.table(styler)

    paged()


# The board's twelve columns need the room Streamlit's wide layout leaves as side padding.
DETAIL_CSS = """<style>
[data-testid='stMainBlockContainer'] {padding-left:2.5rem; padding-right:2.5rem}
</style>"""


def detail_table(table: pd.DataFrame, lit: set[str], view_key: tuple) -> None:
    """The normal layout's data grid; widths chosen so every column fits at 1440 px.

    view_key (database, cycle, version): the styled grid is worked out once per change, zone
    and set of marked regions, and shared by every screen that shows the same.
    """
    st.html(DETAIL_CSS)
    lang = ctx.lang()
    tz = settings.company_tz()
    col = bview.column_labels(lang)
    numbers = [col[k] for k in bview.NUMBER_COLUMNS]
    pct = [col[k] for k in bview.PCT_COLUMNS]

    def build() -> Styler:
        shown = bview.shown_table(table, lit, False, lang, tz)
        return frozen(styled(shown, table, numbers, pct))

    grid = cache.board_styler(*view_key, lang, str(tz), tuple(sorted(lit)), _build=build)
    right = st.column_config.TextColumn(alignment="right", width=70)
    st.dataframe(
        grid,
        hide_index=True,
        width="stretch",
        column_config={
            **dict.fromkeys([*numbers, *pct], right),
            col["mark"]: st.column_config.TextColumn(width=24),
            col["region"]: st.column_config.TextColumn(width=95),
            col["interval"]: st.column_config.TextColumn(alignment="right", width=85),
            col["source"]: st.column_config.TextColumn(width=70),
            col["status"]: st.column_config.TextColumn(width=120),
            # The person's words: as much room as is left (hover shows the rest).
            col["justification"]: st.column_config.TextColumn(width=200),
            col["last_change"]: st.column_config.TextColumn(
                width=80, help=ctx.tr("board.last_change_help", zone=str(tz))
            ),
        },
    )


def frozen(styler: Styler) -> Styler:
    """The styler with its cells and styles worked out now, once.

    Streamlit's st.dataframe asks a Styler for them on every draw (pandas' _compute and
    _translate, per cell: ~40 ms at 200 regions); this one answers with what it worked out,
    so a cached styler costs each screen only the serialisation. When every cell is already
    the text shown (styled() formats the numbers) and there are no table styles, the cells
    are their own display values and only the styled cells are looked at, grouped by style
    in the order pandas gives them. Instance attributes: only this object changes
    (tests/test_board_grid.py checks that it marshals exactly as the plain styler).
    """
    styler._compute()
    data = styler.data
    if styler.table_styles or not all(pd.api.types.is_string_dtype(data[c]) for c in data.columns):
        done = styler._translate(False, False)
    else:
        groups: dict[tuple, list[str]] = {}
        for (row, col), css in sorted(styler.ctx.items()):
            if css:
                groups.setdefault(tuple(css), []).append(f"row{row}_col{col}")
        # Without "body" Streamlit takes the cells as they are instead of matching every
        # cell's id (another ~25 ms a screen at 200 regions).
        done = {
            "table_styles": [],
            "cellstyle": [{"props": list(p), "selectors": s} for p, s in groups.items()],
            "body": [],
        }
    styler._compute = lambda: styler
    styler._translate = lambda *args, **kwargs: done
    return styler


def charts(view: dict, cycle_id: int, version: tuple, big: bool, user: User) -> None:
    """The regions and bridge charts, in a section closed at first; only the open tab's drawn.

    Charts are below the fold: a change costs the first screen its headline and table only,
    and the charts are built (once per change, for every screen) when somebody opens them.
    """
    section = st.expander(
        ctx.tr("board.charts"), key="board_charts", on_change="rerun", icon=":material/bar_chart:"
    )
    if not section.open:
        return
    lang, db = ctx.lang(), cache.board_db()
    with section:
        chart_tabs = [ctx.tr("board.tab_regions"), ctx.tr("board.tab_bridge")]
        tab_regions, tab_bridge = st.tabs(chart_tabs, key="board_chart_tab", on_change="rerun")
        if tab_regions.open:
            with tab_regions:
                spec = cache.board_chart(db, cycle_id, version, lang, big, "regions", user)
                st.vega_lite_chart(spec, width="stretch")
                roll = view["rollup"]
                if not roll.empty:
                    st.subheader(ctx.tr("board.rollup_title"))
                    st.dataframe(roll, hide_index=True, width="stretch")
        if tab_bridge.open:
            with tab_bridge:
                spec = cache.board_chart(db, cycle_id, version, lang, big, "bridge", user)
                st.vega_lite_chart(spec, width="stretch")


def render(view: dict, lit: set[str], cycle_id: int, version: tuple, big: bool, user: User) -> None:
    """Headline, counts, the per-region table and the charts."""
    headline(view["headline"])
    regions_table(view["table"], lit, big, (cache.board_db(), cycle_id, version))
    charts(view, cycle_id, version, big, user)
