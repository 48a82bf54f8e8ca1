"""HTTP side of sign-in: the routes server.py mounts to set and clear the session cookie.

A Streamlit script run cannot set a cookie, so the tab that signed someone in posts a
one-time ticket to `POST /auth/session`, in the background (`fetch`, answered 204: the page
is not loaded again) or, without scripts or when that fails, as an auto-submitted
same-origin form (answered by a redirect to the page the person was on); the route trades
it for the cookie. `POST /auth/signout` ends the cookie's session and clears it. Both
refuse requests from another site.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

import duckdb
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from calibration import settings
from calibration.accounts import auth, sessions
from calibration.i18n import LANGS, t
from calibration.store import shared_connection

SESSION_PATH = "/auth/session"
SIGNOUT_PATH = "/auth/signout"
# lang -> the provider's end-session address for a signing-out browser, or None.
EndSession = Callable[[str], str | None]
MAX_NEXT_CHARS = 500
log = logging.getLogger("calibrate")


# Posts the form in the background once per ticket (a redrawn element must not post a used
# ticket again); anything but 204 falls back to the plain submit, whose page says what failed.
_BACKGROUND_POST = """<script>(() => {
  const form = document.getElementById("calibrate-handoff");
  const body = new FormData(form);
  const key = body.get("ticket");
  if (window.__calibrateHandoff === key) return;
  window.__calibrateHandoff = key;
  body.set("reply", "status");
  fetch(form.action, {method: "POST", body, credentials: "same-origin"})
    .then((r) => { if (r.status !== 204) form.submit(); })
    .catch(() => form.submit());
})();</script>"""
_SUBMIT = '<script>document.getElementById("calibrate-handoff").submit();</script>'
# The page's HTML sanitiser drops a `name` that is also a property of the form or the
# document (`form.lang`, `form.method`: DOM clobbering), so such a field never reaches the
# route (a Chinese sign-out came back to the English page). Field names avoid them.
_FORM_PROPERTIES = frozenset(
    {"action", "method", "target", "name", "id", "lang", "title", "dir", "hidden", "style"}
    | {"submit", "reset", "elements", "length", "enctype", "encoding", "autocomplete"}
    | {"cookie", "domain", "location", "body", "forms", "images", "links", "URL"}
)


def handoff_html(action: str, fields: dict[str, str], label: str, background: bool = False) -> str:
    """The same-origin form that takes a ticket or a sign-out to a cookie route.

    Submitted at once (the browser leaves the page), or with background=True posted by
    fetch while the page stays (a sign-in: nothing to load again). Only server-made values
    go in (a ticket, a path, a language code, a translated label), each escaped; the action
    must be one of this module's routes.
    """
    if action not in (SESSION_PATH, SIGNOUT_PATH):
        raise ValueError(f"not a cookie route: {action!r}")
    clobbering = set(fields) & _FORM_PROPERTIES
    if clobbering:
        raise ValueError(f"field names the page would drop: {sorted(clobbering)}")
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(str(value))}">'
        for name, value in fields.items()
    )
    hidden = " hidden" if background else ""
    return (
        f'<form id="calibrate-handoff" method="post" action="{action}"{hidden}>{inputs}'
        f'<button type="submit">{html.escape(label)}</button></form>'
        + (_BACKGROUND_POST if background else _SUBMIT)
    )


def _connection() -> duckdb.DuckDBPyConnection:
    # The process's one connection, shared with the script runs (ui.context.connection).
    return shared_connection(settings.db_path(), read_only=settings.read_only())


def safe_next(value: str | None) -> str:
    """A same-origin relative path to go to after the cookie is set ('/' for anything else)."""
    if not value or len(value) > MAX_NEXT_CHARS or not value.startswith("/"):
        return "/"
    if value.startswith("//") or "\\" in value or any(ord(c) < 32 for c in value):
        return "/"  # //host and /\host are other sites to a browser
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def _scheme(request: Request) -> str:
    """http or https as the browser sees it (a proxy's X-Forwarded-Proto only if trusted)."""
    if settings.trust_forwarded_proto():
        forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        if forwarded in ("http", "https"):
            return forwarded
    return request.url.scheme


def same_origin(request: Request) -> bool:
    """Whether a POST comes from a page of this app (not from another site).

    Browsers send Sec-Fetch-Site (which page scripts cannot forge) on every request; older
    ones at least Origin. A request with neither is refused: the routes are for browsers.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("origin")
    if not origin:
        return False
    host = request.headers.get("host", request.url.netloc)
    return origin.rstrip("/") == f"{_scheme(request)}://{host}"


def _client(request: Request) -> str | None:
    host = request.client.host if request.client else None
    # The same address the sign-in form counts (st.context.ip_address: None on localhost).
    return None if host in (None, "127.0.0.1", "::1") else host


def _refusal(key: str, lang: str, status: int) -> Response:
    """A small page saying why, with the way back to sign-in (never a traceback)."""
    body = (
        f'<!doctype html><html lang="{lang}"><meta charset="utf-8">'
        f"<title>{html.escape(t('login.title', lang))}</title>"
        f"<p>{html.escape(t(key, lang))}</p>"
        f'<p><a href="/?lang={lang}">{html.escape(t("session.back_to_sign_in", lang))}</a></p>'
        "</html>"
    )
    return HTMLResponse(body, status_code=status)


async def _fields(request: Request) -> dict[str, str]:
    form = await request.form(max_files=0, max_fields=10, max_part_size=4096)
    return {k: v for k, v in form.items() if isinstance(v, str)}


def make_session_route(
    connect: Callable[[], duckdb.DuckDBPyConnection] = _connection,
) -> Callable[[Request], object]:
    """The handler of POST /auth/session: ticket -> HttpOnly cookie -> redirect to next."""

    async def session_route(request: Request) -> Response:
        fields = await _fields(request)
        lang = fields.get("ui_lang") if fields.get("ui_lang") in LANGS else "en"
        if not same_origin(request):
            log.warning("session ticket refused: cross-site request")
            return _refusal("session.err_cross_site", lang, 403)
        cur = connect().cursor()
        try:
            _, token = sessions.redeem(cur, fields.get("ticket", ""), client=_client(request))
            # One browser, one session: the cookie being replaced stops working too.
            sessions.end_token(cur, request.cookies.get(sessions.COOKIE, ""), "replaced")
        except sessions.SessionError as exc:
            return _refusal(exc.key, lang, 400)
        except auth.AuthError as exc:
            log.warning("session ticket refused while delayed: %s", exc.key)
            return _refusal("session.err_busy", lang, 429)
        finally:
            cur.close()
        # A background post (the page stays) needs only the cookie; a form, the way back.
        response: Response
        if fields.get("reply") == "status":
            response = Response(status_code=204)
        else:
            response = RedirectResponse(safe_next(fields.get("next")), status_code=303)
        response.set_cookie(
            sessions.COOKIE,
            token,
            max_age=int(settings.session_hours() * 3600),
            path="/",
            secure=_scheme(request) == "https",
            httponly=True,
            samesite="lax",
        )
        return response

    return session_route


def make_signout_route(
    connect: Callable[[], duckdb.DuckDBPyConnection] = _connection,
    end_session: EndSession | None = None,
) -> Callable[[Request], object]:
    """The handler of POST /auth/signout: end the cookie's session, clear it, go to sign-in
    (through the provider's end-session page when the session came from single sign-on)."""

    async def signout_route(request: Request) -> Response:
        fields = await _fields(request)
        lang = fields.get("ui_lang") if fields.get("ui_lang") in LANGS else "en"
        if not same_origin(request):
            log.warning("sign-out refused: cross-site request")
            return _refusal("session.err_cross_site", lang, 403)
        token = request.cookies.get(sessions.COOKIE, "")
        method = None
        if token and not settings.read_only():
            cur = connect().cursor()
            try:
                method = sessions.end_token(cur, token)
            finally:
                cur.close()
        if method is None and fields.get("via") == "sso":
            # No cookie yet (a sign-out within a second of signing in: the page posts it in
            # the background): the tab says it came from the provider. A cookie's own
            # method wins; a forged same-origin form could at most end a provider session.
            method = "sso"
        target = f"/?lang={lang}"
        if method == "sso" and end_session is not None:
            # A shared laptop: the next "Sign in with …" must not find the last person
            # still signed in at the provider. The discovery read may wait on the network.
            target = await run_in_threadpool(end_session, lang) or target
        response = RedirectResponse(target, status_code=303)
        response.delete_cookie(
            sessions.COOKIE,
            path="/",
            secure=_scheme(request) == "https",
            httponly=True,
            samesite="lax",
        )
        return response

    return signout_route


def routes(
    connect: Callable[[], duckdb.DuckDBPyConnection] = _connection,
    end_session: EndSession | None = None,
) -> list[BaseRoute]:
    """Routes that set and clear the session cookie (end_session: see make_signout_route)."""
    return [
        Route(SESSION_PATH, make_session_route(connect), methods=["POST"]),
        Route(SIGNOUT_PATH, make_signout_route(connect, end_session), methods=["POST"]),
    ]


def middleware() -> list[Middleware]:
    """Middleware for every request (none yet)."""
    return []
