"""Per-session context for pages: the connection, the acting user, language and cycle."""

from __future__ import annotations

import errno
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import duckdb
import streamlit as st

from calibration import access, settings
from calibration.accounts.auth import User
from calibration.i18n import DEFAULT_LANG, t
from calibration.store import shared_connection
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


def sign_in(user: User, method: str = "password") -> None:
    """Make user the signed-in person of this session (every sign-in path ends here).

    method: password, join (a QR join link) or sso; the session cookie hooks in here.
    """
    st.session_state["user"] = user
    touch()


def sign_out() -> None:
    """End this session's sign-in (the sidebar's sign-out; the session cookie hooks in here)."""
    for key in ("user", "last_seen", "cycle_id"):
        st.session_state.pop(key, None)


def touch() -> None:
    """Record activity for the idle timeout."""
    st.session_state["last_seen"] = time.time()


def idle_expired() -> bool:
    """Whether the signed-in session has been idle longer than allowed."""
    last = st.session_state.get("last_seen")
    return last is not None and time.time() - last > settings.idle_minutes() * 60


def expire_session() -> None:
    """Sign an idle session out, keeping only its language, and note why for the sign-in page."""
    kept = lang()
    st.session_state.clear()
    st.session_state["lang"] = kept  # the language picker on the sign-in page reads it
    st.session_state["expired_notice"] = True


def session_expired() -> bool:
    """Whether no one is signed in any more or the session has been idle too long."""
    return current_user() is None or idle_expired()


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
    """Show (once) the message of a callback that failed before this run."""
    key = st.session_state.pop("_callback_error", None)
    if key:
        st.error(tr(key))


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
