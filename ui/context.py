"""Per-session context for pages: the connection, the acting user, language and cycle."""

from __future__ import annotations

import errno
import functools
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import duckdb
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from calibration import access, settings
from calibration.accounts import auth, sessions
from calibration.accounts.auth import User
from calibration.accounts.web import SESSION_PATH, SIGNOUT_PATH, handoff_html
from calibration.i18n import DEFAULT_LANG, LANGS, t
from calibration.store import shared_connection
from ui.slots import slot
from ui.text import plain, plain_values

log = logging.getLogger("calibrate")


def _init(con: duckdb.DuckDBPyConnection) -> None:
    from calibration.demo.workshop import init_database

    for line in init_database(con.cursor()):
        log.info("init: %s", line)


def connection() -> duckdb.DuckDBPyConnection:
    """The process-wide connection to the configured database (shared with server.py's routes)."""
    if settings.read_only():
        return shared_connection(settings.db_path(), read_only=True)
    return shared_connection(settings.db_path(), on_create=_init)


def cursor() -> duckdb.DuckDBPyConnection:
    """A cursor for this script run."""
    return connection().cursor()


def lang() -> str:
    """The chosen UI language (en or zh)."""
    return st.session_state.get("lang", DEFAULT_LANG)


def tr(key: str, **values: object) -> str:
    """Translate key into the session's language."""
    return t(key, lang(), **values)


def current_user() -> User | None:
    """The signed-in user, or None."""
    return st.session_state.get("user")


def require_user(page: str) -> User:
    """The signed-in user allowed on this page; otherwise a refusal and the page stops.

    Navigation already hides pages a role may not open; this is the second lock.
    """
    user = current_user()
    if user is None:
        st.stop()
    if not access.can(user, "page.open", page):
        st.error(tr("app.page_not_allowed"))
        st.stop()
    return user


def can(action: str, scope: access.Scope | str | None = None) -> bool:
    """Whether the signed-in person may do action (what a page draws; services check again)."""
    return access.can(current_user(), action, scope)


def current_cycle() -> int | None:
    """The cycle chosen in the sidebar, if any."""
    return st.session_state.get("cycle_id")


SESSION_ID = "session_id"
_NAV = "_session_nav"  # a browser navigation to make before anything else is drawn
_ENDED = "session_ended"  # why the last session ended, for the sign-in page
_DEAD = "_session_dead_cookie"  # hash of a cookie token already found dead in this tab
_ENDED_REASONS = ("signed_out", "revoked", "password_changed", "replaced", "idle", "expired")


def sign_in(user: User, method: str = "password") -> None:
    """Make user the signed-in person of this session (every sign-in path ends here).

    method: password, join (a QR join link) or sso. Starts a stored session (new token
    every time) and queues the hand-off of its cookie: the next run of app.py sends the
    browser to POST /auth/session with a one-time ticket. Works from a callback or the
    script body alike: in the body, `st.rerun()` (or `navigate_if_pending()`) right after
    makes the hand-off. A read-only database keeps the sign-in in this tab only.
    """
    if not settings.read_only():
        cur = cursor()
        sid, ticket = sessions.start(cur, user, method, client_address(), _user_agent())
        # The language and cycle chosen so far come back after the cookie's page load.
        sessions.remember(cur, sid, lang(), current_cycle())
        st.session_state[SESSION_ID] = sid
        st.session_state[_NAV] = {
            "action": SESSION_PATH,
            "ticket": ticket,
            "next": _current_path(),
            "ui_lang": lang(),
        }
    st.session_state.pop(_ENDED, None)
    st.session_state["user"] = user
    touch()


def sign_out() -> None:
    """End this session's sign-in: the stored session is revoked here, and the next run of
    app.py sends the browser to POST /auth/signout, which clears the cookie."""
    sid = st.session_state.get(SESSION_ID)
    method = None  # how the session signed in, when this tab ends it here
    if sid is not None and not settings.read_only():
        method = sessions.end(cursor(), sid)
    _forget_cookie()
    for key in ("user", "last_seen", "cycle_id", SESSION_ID):
        st.session_state.pop(key, None)
    # The cookie may have been set after this tab's connection opened (a sign-in posts it in
    # the background), so a stored session is reason enough to clear it.
    if _cookie_token() or sid is not None:
        nav = {"action": SIGNOUT_PATH, "ui_lang": lang()}
        if method == "sso":
            # The route learns it from the cookie, which may not have arrived yet.
            nav["via"] = "sso"
        st.session_state[_NAV] = nav


def resolve_session(cur: duckdb.DuckDBPyConnection) -> User | None:
    """The signed-in person of this run (app.py asks first, before anything is drawn).

    This tab's stored session if it has one, else the session of the `calibrate_session`
    cookie (a reload, a new tab, a reconnect), else nobody. A session that ended (signed
    out elsewhere, revoked, idle, too old) signs the tab out with the reason for the
    sign-in page. Sign-ins without a stored session (AppTest, read-only database) keep
    the in-memory idle timeout.
    """
    ss = st.session_state
    sid = ss.get(SESSION_ID)
    if sid is not None:
        status = sessions.check(cur, sid)
        if not status.ok:
            _end_tab(status.reason)
            return None
        _touch_stored(cur, status.session)
        touch()
        return ss.get("user")
    user = ss.get("user")
    if user is not None:
        if idle_expired():
            expire_session()
            return None
        touch()
        return user
    return _resume_from_cookie(cur)


def _resume_from_cookie(cur: duckdb.DuckDBPyConnection) -> User | None:
    token = _cookie_token()
    if not token or st.session_state.get(_DEAD) == sessions.secret_hash(token):
        return None
    try:
        status = sessions.resolve(cur, token)
        user = auth.load_user(cur, status.session["username"]) if status.ok else None
    except duckdb.Error:
        # e.g. an archive opened read-only from before sessions existed: nobody is signed in.
        log.exception("session cookie could not be resolved")
        return None
    if user is None:
        _end_tab(status.reason if status.session is not None else None)
        return None
    row = status.session
    ss = st.session_state
    ss["user"] = user
    ss[SESSION_ID] = row["session_id"]
    # The language and cycle the person had chosen, unless the link names a language.
    if row["lang"] in LANGS and "lang" not in st.query_params:
        ss["lang"] = row["lang"]
    if row["cycle_id"] is not None and "cycle_id" not in ss:
        ss["cycle_id"] = int(row["cycle_id"])
    _touch_stored(cur, row)
    touch()
    return user


def _touch_stored(cur: duckdb.DuckDBPyConnection, session: dict) -> None:
    if settings.read_only():
        return
    try:
        sessions.touch(cur, session)
    except duckdb.TransactionException:
        pass  # another tab of the same session wrote it at the same moment: bookkeeping only


def _end_tab(reason: str | None) -> None:
    """Sign this tab out after its session ended elsewhere; keep the language and the why."""
    kept = lang()
    _forget_cookie()
    dead = st.session_state.get(_DEAD)
    st.session_state.clear()
    st.session_state["lang"] = kept
    if dead is not None:
        st.session_state[_DEAD] = dead
    if reason in _ENDED_REASONS:
        st.session_state[_ENDED] = reason


def _forget_cookie() -> None:
    # The cookie of this tab's connection cannot be cleared from a run; remember that it is
    # dead so the next runs do not resume it (or announce its end twice).
    token = _cookie_token()
    if token:
        st.session_state[_DEAD] = sessions.secret_hash(token)


def ended_notice() -> str | None:
    """Once: why the last session ended, as a sentence for the sign-in page."""
    reason = st.session_state.pop(_ENDED, None)
    if st.session_state.pop("expired_notice", False):
        reason = reason or "idle"
    if reason is None:
        return None
    return tr(
        f"session.ended.{reason}",
        minutes=settings.idle_minutes(),
        hours=f"{settings.session_hours():g}",
    )


def remember_preferences() -> None:
    """Keep the chosen language and cycle with the stored session (restored after a reload)."""
    sid = st.session_state.get(SESSION_ID)
    if sid is not None and not settings.read_only():
        sessions.remember(cursor(), sid, lang(), current_cycle())


# The background hand-off takes no room on the page (a constant: nothing typed goes in).
HIDE_HANDOFF = "<style>.st-key-session_handoff { display: none; }</style>"


def navigate_if_pending(place: DeltaGenerator) -> None:
    """Hand a queued sign-in's ticket to the cookie route, or make a sign-out's navigation,
    drawn into place (a slot drawn on every run, ui/slots.py).

    A script run cannot set cookies: the page posts the ticket in the background (the run
    goes on), or an auto-submitted same-origin form posts the sign-out to the routes of
    calibration/accounts/web.py (the run stops: the browser leaves). Only a browser can
    follow it; other clients (AppTest, the load harness) stay signed in to this tab.
    """
    nav = st.session_state.pop(_NAV, None)
    if not nav or not _is_browser():
        return
    fields = {name: str(value) for name, value in nav.items() if name != "action"}
    if nav["action"] == SESSION_PATH:
        # A sign-in: the ticket is posted in the background and the page draws on, signed in
        # already (this tab's stored session); loading the app again would cost seconds.
        with place, st.container(key="session_handoff"):
            st.html(HIDE_HANDOFF)
            st.html(
                handoff_html(SESSION_PATH, fields, tr("session.continue"), background=True),
                unsafe_allow_javascript=True,
            )
        return
    place.caption(tr("session.signing_out"))
    # Server-made values only, escaped by the builder (tests/test_hostile_input.py names it).
    place.html(
        handoff_html(nav["action"], fields, tr("session.continue")), unsafe_allow_javascript=True
    )
    st.stop()


def _is_browser() -> bool:
    # Browsers send Origin on the websocket handshake; AppTest and scripted clients do not.
    try:
        return isinstance(st.context.headers.get("Origin"), str)
    except Exception:  # noqa: BLE001 - no request context
        return False


def _cookie_token() -> str | None:
    try:
        token = st.context.cookies.get(sessions.COOKIE)
    except Exception:  # noqa: BLE001 - no request context (AppTest, bare mode)
        return None
    return token if isinstance(token, str) and token else None


def _user_agent() -> str | None:
    try:
        agent = st.context.headers.get("User-Agent")
    except Exception:  # noqa: BLE001 - no request context
        return None
    return agent if isinstance(agent, str) else None


def _current_path() -> str:
    """The path of the page this run shows (where the browser returns after the cookie)."""
    try:
        url = st.context.url
    except Exception:  # noqa: BLE001 - no request context
        url = None
    path = urlsplit(url).path if isinstance(url, str) else "/"
    return path or "/"


def touch() -> None:
    """Record activity in this tab (the idle timeout of sign-ins without a stored session)."""
    st.session_state["last_seen"] = time.time()


def idle_expired() -> bool:
    """Whether a sign-in without a stored session has been idle longer than allowed."""
    last = st.session_state.get("last_seen")
    return last is not None and time.time() - last > settings.idle_minutes() * 60


def expire_session() -> None:
    """Sign an idle session out, keeping only its language, and note why for the sign-in page."""
    _end_tab("idle")


def session_expired() -> bool:
    """Whether no one is signed in any more, or the session ended (live ticks ask this)."""
    if current_user() is None:
        return True
    sid = st.session_state.get(SESSION_ID)
    if sid is not None:
        return not sessions.check(cursor(), sid).ok
    return idle_expired()


def client_address() -> str | None:
    """The browser's address for sign-in delays (None on localhost and in tests)."""
    try:
        return st.context.ip_address
    except Exception:  # noqa: BLE001 - no request context (AppTest, bare mode)
        return None


def _disk_full(exc: BaseException) -> bool:
    """Whether exc, or an error it came from, says the disk is full."""
    seen: BaseException | None = exc
    for _ in range(10):  # a short chain is enough; never loop on a strange one
        if seen is None:
            break
        if isinstance(seen, OSError) and seen.errno == errno.ENOSPC:
            return True
        text = str(seen).lower()
        if isinstance(seen, duckdb.Error) and ("no space left" in text or "disk is full" in text):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def error_key(exc: BaseException) -> str:
    """The translation key of the message a user sees for an unexpected failure."""
    if _disk_full(exc):
        return "app.disk_full"
    if isinstance(exc, duckdb.Error):
        # Storage failures (read-only file, lock): a plain message, nothing half-done.
        return "app.db_write_error"
    return "app.unexpected_error"


def guarded(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a widget callback in the app's error guard.

    Streamlit runs callbacks before the script, outside the page's guard; a failure is
    logged and its message kept for this run, which shows it instead of Streamlit's box.
    """

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if type(exc).__module__.startswith("streamlit"):
                raise  # st.rerun / st.stop are control flow, not failures
            log.exception("callback %s failed", getattr(callback, "__name__", callback))
            st.session_state["_callback_error"] = error_key(exc)
            return None

    return run


def show_callback_error() -> None:
    """Show (once) the message of a callback that failed before this run, in a place drawn
    on every run (the page below must not move when it goes; ui/slots.py)."""
    place = slot()
    key = st.session_state.pop("_callback_error", None)
    if key:
        place.error(tr(key))


def _region_names() -> dict[str, str]:
    """Region id → name in the session's language, for messages drawn without a names map."""
    from calibration.data import service as data_service

    user = current_user()
    if user is None:
        return {}
    try:
        regions = data_service.visible_regions(cursor(), user, lang())
    except Exception:  # noqa: BLE001 - a message must still show if the lookup fails
        return {}
    return dict(zip(regions["region"], regions["label"], strict=True))


def refusal_text(exc: Exception, names: dict[str, str] | None = None) -> str:
    """A refused write as text for the person (region ids shown by escaped name; without
    names, the regions the person sees are looked up)."""
    if names is None:
        names = _region_names()
    shown = {r: plain(n) for r, n in names.items()}
    text_of = getattr(exc, "text", None)
    if callable(text_of):
        return text_of(lang(), shown)
    key = getattr(exc, "key", None)
    if not key:
        return plain(str(exc))
    values = plain_values(dict(getattr(exc, "values", {})))
    if "region" in values:
        values["region"] = shown.get(values["region"], values["region"])
    return tr(key, **values)


def show_error(exc: Exception) -> None:
    """Show a known error as a message a user can act on; never a traceback."""
    st.error(refusal_text(exc))


def list_cycles(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    """Cycles for the sidebar picker."""
    from calibration.negotiation import service as negotiation

    return negotiation.cycle_choices(cur, lang())


def default_cycle(cur: duckdb.DuckDBPyConnection, user: User) -> int | None:
    """The cycle the picker starts on: the one that needs this person (a lead with an
    unsigned letter lands on that cycle, not on last quarter's)."""
    from calibration.negotiation import service as negotiation

    return negotiation.cycle_needing(cur, user)


def metric_select(label: str, metrics: list[str], key: str) -> str:
    """A select of the stored metrics, new_customers first when there is one (the demo's)."""
    from calibration.i18n import name_of

    default = metrics.index("new_customers") if "new_customers" in metrics else 0
    # Labels computed now: a format_func may run outside this script run (AppTest), where
    # the session's language is not at hand.
    labels = {m: name_of("metric", m, lang()) for m in metrics}
    return st.selectbox(label, metrics, index=default, key=key, format_func=labels.get)
