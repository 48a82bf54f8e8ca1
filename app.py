"""Calibrate: the router and frame (navigation by role, shared sidebar); sign-in is ui/signin."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import streamlit as st

from calibration.access import pages_for
from calibration.accounts import auth
from calibration.demo.workshop import is_demo
from calibration.i18n import LANGS
from calibration.store import StoreError
from calibration.tracking import service as tracking_service
from ui import context as ctx
from ui import sso as sso_ui
from ui.join_link import accept_join_link
from ui.signin import language_picker, login_view
from ui.slots import slot
from ui.text import plain

ROOT = Path(__file__).parent
PAGES = {
    "board": ("pages/board.py", ":material/monitoring:"),
    "my_region": ("pages/my_region.py", ":material/edit_note:"),
    "review": ("pages/review.py", ":material/fact_check:"),
    "model_lab": ("pages/model_lab.py", ":material/science:"),
    "letters": ("pages/letters.py", ":material/contract:"),
    "tracking": ("pages/tracking.py", ":material/timeline:"),
    "data": ("pages/data.py", ":material/database:"),
    "inbox": ("pages/inbox.py", ":material/inbox:"),
    "admin": ("pages/admin.py", ":material/manage_accounts:"),
}

log = logging.getLogger("calibrate")
# A file shipped with the app: a ":material/..." page icon makes every page load ask
# fonts.gstatic.com for it, an error on every load where company networks block it.
ICON = ROOT / "static" / "calibrate-icon.png"
st.set_page_config(page_title="Calibrate", page_icon=ICON, layout="wide")


def init_language() -> None:
    """Default language for a new session: ?lang=zh in the link, else English."""
    if "lang" not in st.session_state:
        wanted = st.query_params.get("lang", "en")
        st.session_state["lang"] = wanted if wanted in LANGS else "en"


@ctx.guarded
def _apply_cycle() -> None:
    st.session_state["cycle_id"] = st.session_state["cycle_picker"]
    ctx.remember_preferences()


def sidebar(cur, user: auth.User) -> None:
    """The shared sidebar: who, demo badge, cycle, language, sign out."""
    with st.sidebar:
        st.markdown(f"### {ctx.tr('app.title')}")
        if is_demo(cur):
            st.badge(ctx.tr("app.demo_badge"), color="orange", icon=":material/science:")
        st.caption(
            ctx.tr(
                "app.signed_in_as", name=plain(user.display_name), role=ctx.tr(f"role.{user.role}")
            )
        )
        cycles = ctx.list_cycles(cur)
        if cycles:
            ids = [c["id"] for c in cycles]
            labels = {c["id"]: c["label"] for c in cycles}
            if st.session_state.get("cycle_id") not in ids:
                # The cycle that needs this person, not simply the first in the list.
                wanted = ctx.default_cycle(cur, user)
                st.session_state["cycle_id"] = wanted if wanted in ids else ids[0]
            # The widget has its own key: a plain key survives runs where the widget is absent.
            st.session_state["cycle_picker"] = st.session_state["cycle_id"]
            st.selectbox(
                ctx.tr("app.cycle"),
                ids,
                format_func=lambda i: labels[i],
                key="cycle_picker",
                on_change=_apply_cycle,
            )
        language_picker()
        if st.button(ctx.tr("app.sign_out"), icon=":material/logout:"):
            ctx.sign_out()
            st.rerun()


def run_guarded(page: st.navigation) -> None:
    """Run a page; no traceback ever reaches the user."""
    ctx.show_callback_error()
    try:
        page.run()
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if type(exc).__module__.startswith("streamlit"):
            raise
        log.exception("page %s failed", page.title)
        # Full disk, read-only file, lock or anything else: a plain message, nothing half-done.
        st.error(ctx.tr(ctx.error_key(exc)))


def page_title(cur, user: auth.User, key: str) -> str:
    """A page's title; the Inbox shows its unread count."""
    title = ctx.tr(f"page.{key}")
    if key == "inbox":
        try:
            unread = tracking_service.unread_count(cur, user)
        except duckdb.Error:  # e.g. a read-only file from before the inbox existed
            unread = 0
        title += f" ({unread})" if unread else ""
    return title


def refused_page() -> None:
    """The "ask your administrator" page of a refused single sign-on, in the chosen language."""
    sso_ui.refused_view()
    _, mid, _ = st.columns([1, 1.3, 1])
    with mid:
        language_picker()


def main() -> None:
    """Route the visitor: sign-in, or the pages their role may open."""
    init_language()
    try:
        cur = ctx.cursor()
    except StoreError as exc:
        st.error(ctx.tr("app.db_error", error=plain(str(exc))))
        st.stop()
    # A sign-in's cookie hand-off (first run only) or a sign-out (the browser leaves), in a
    # place drawn on every run: the page below must not move when the hand-off is gone.
    handoff = slot()
    ctx.navigate_if_pending(handoff)
    # The session before anything else: this tab's, or the cookie's after a reload.
    user = ctx.resolve_session(cur)
    if accept_join_link(cur):  # a projector QR link signs a lead in on the workshop's cycle
        ctx.navigate_if_pending(handoff)
        user = ctx.current_user()
    if user is None:
        sso_ui.accept_identity(cur)  # back from the company's sign-in page (single sign-on)
        ctx.navigate_if_pending(handoff)
        user = ctx.current_user()
    if user is None and sso_ui.refused():
        # A person the company vouches for but Calibrate does not know: never a default role.
        refused = st.Page(refused_page, title=ctx.tr("sso.refused_title"))
        run_guarded(st.navigation([refused]))
        return
    if user is None:
        run_guarded(st.navigation([st.Page(lambda: login_view(cur), title=ctx.tr("login.title"))]))
        return
    pages = [
        st.Page(PAGES[key][0], title=page_title(cur, user, key), icon=PAGES[key][1], url_path=key)
        for key in pages_for(user)
        if key in PAGES and (ROOT / PAGES[key][0]).exists()
    ]
    if not pages:
        pages = [st.Page(lambda: st.info(ctx.tr("app.no_pages")), title=ctx.tr("app.title"))]
    sidebar(cur, user)
    run_guarded(st.navigation(pages))


main()
