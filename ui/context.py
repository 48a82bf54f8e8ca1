"""Per-session context for pages: the connection, the acting user, language and cycle."""

from __future__ import annotations

import logging
import time

import duckdb
import streamlit as st

from calibration import settings
from calibration.auth import User
from calibration.i18n import DEFAULT_LANG, t
from calibration.store import connect

log = logging.getLogger("calibrate")


@st.cache_resource(show_spinner=False)
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    from calibration.demo import init_database

    if settings.read_only():
        return connect(path, read_only=True)
    con = connect(path)
    for line in init_database(con.cursor()):
        log.info("init: %s", line)
    return con


def connection() -> duckdb.DuckDBPyConnection:
    """The process-wide connection to the configured database."""
    return _connection(settings.db_path())


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
    from calibration.auth import pages_for

    user = current_user()
    if user is None:
        st.stop()
    if page not in pages_for(user.role):
        st.error(tr("app.page_not_allowed"))
        st.stop()
    return user


def current_cycle() -> int | None:
    """The cycle chosen in the sidebar, if any."""
    return st.session_state.get("cycle_id")


def touch() -> None:
    """Record activity for the idle timeout."""
    st.session_state["last_seen"] = time.time()


def idle_expired() -> bool:
    """Whether the signed-in session has been idle longer than allowed."""
    last = st.session_state.get("last_seen")
    return last is not None and time.time() - last > settings.idle_minutes() * 60


def show_error(exc: Exception) -> None:
    """Show a known error as a message a user can act on; never a traceback."""
    key = getattr(exc, "key", None)
    if key:
        st.error(tr(key, **getattr(exc, "values", {})))
    else:
        st.error(str(exc))


def list_cycles(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    """Cycles for the sidebar picker ([] until the negotiation feature is present)."""
    try:
        from calibration import negotiation
    except ImportError:
        return []
    return negotiation.cycle_choices(cur, lang())


def default_cycle(cur: duckdb.DuckDBPyConnection, user: User) -> int | None:
    """The cycle the picker starts on: the one that needs this person (a lead with an
    unsigned letter lands on that cycle, not on last quarter's)."""
    try:
        from calibration import negotiation
    except ImportError:
        return None
    return negotiation.cycle_needing(cur, user)


def metric_select(label: str, metrics: list[str], key: str) -> str:
    """A select of the stored metrics, new_customers first when there is one (the demo's)."""
    default = metrics.index("new_customers") if "new_customers" in metrics else 0
    return st.selectbox(label, metrics, index=default, key=key)
