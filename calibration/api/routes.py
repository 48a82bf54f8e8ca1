"""The API's routes, mounted beside the Streamlit app by server.py.

Every endpoint goes through `_endpoint`: the body is read with the upload size limit, the
bearer token is checked (401 missing, unknown or revoked), its bucket is spent (429), the
handler runs in Starlette's threadpool on its own cursor of the process's one connection,
and the call is logged (a log line and a row of `api_calls`) with the token's name. A
refusal of the access policy is 403; a refused file 422 with its problems; nothing a
caller sent reaches them as a traceback.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from calibration import access, settings
from calibration.api import service, tokens
from calibration.api.openapi import document
from calibration.api.ratelimit import TokenBucket
from calibration.data import importer
from calibration.i18n import t
from calibration.negotiation.service import NegotiationError
from calibration.store import api as q
from calibration.store import shared_connection, transaction
from calibration.store.core import StoreError, utcnow

PREFIX = "/api/v1"
log = logging.getLogger("calibrate")
BUCKET = TokenBucket(settings.api_rate_per_minute, settings.api_burst)
_TRUE = ("1", "true", "yes")


class ApiError(Exception):
    """An answer other than success: HTTP status, error code and a translated message."""

    def __init__(self, status: int, code: str, key: str, **values: object) -> None:
        super().__init__(key)
        self.status = status
        self.code = code
        self.key = key
        self.values = values
        self.headers: dict[str, str] = {}
        self.token_user: tokens.TokenUser | None = None  # the caller of a rate-limited call


@dataclass
class Call:
    """One request as the handlers see it."""

    request: Request
    body: bytes
    cur: duckdb.DuckDBPyConnection
    user: tokens.TokenUser | None
    lang: str
    params: dict = field(default_factory=dict)

    def query(self, name: str) -> str | None:
        """A query parameter, None when absent or empty."""
        return self.request.query_params.get(name) or None


Handler = Callable[[Call], Response]


def connection() -> duckdb.DuckDBPyConnection:
    """The process-wide connection (the same one the pages use: one per database file)."""
    if settings.read_only():
        return shared_connection(settings.db_path(), read_only=True)
    from calibration.demo.workshop import init_database

    # Whichever comes first, a page or an API call, prepares an empty database the same way.
    return shared_connection(
        settings.db_path(), on_create=lambda con: list(init_database(con.cursor()))
    )


def _lang(request: Request) -> str:
    return "zh" if request.headers.get("accept-language", "").lower().startswith("zh") else "en"


def _error(exc: ApiError, lang: str) -> JSONResponse:
    body = {"error": exc.code, "message": t(exc.key, lang, **exc.values)}
    return JSONResponse(body, status_code=exc.status, headers=exc.headers)


async def _read_body(request: Request) -> bytes:
    limit = settings.max_upload_mb() * 1024 * 1024
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "too_large", "api.too_large", mb=settings.max_upload_mb())
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            # Stop reading: a client that lies about its length gets no further.
            raise ApiError(413, "too_large", "api.too_large", mb=settings.max_upload_mb())
        chunks.append(chunk)
    return b"".join(chunks)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _log_call(
    user: tokens.TokenUser | None, request: Request, status: int, size: int, started: float
) -> None:
    millis = (time.perf_counter() - started) * 1000
    name = user.token_name if user else None
    log.info(
        "api %s %s %s -> %s (%d bytes, %.0f ms)",
        name or "-",
        request.method,
        request.url.path,
        status,
        size,
        millis,
    )
    if settings.read_only():
        return
    try:
        cur = connection().cursor()
        with transaction(cur):
            q.log_call(cur, utcnow(), name, request.method, request.url.path, status, size, millis)
    except (duckdb.Error, StoreError):
        # The answer was already decided; a full disk must not turn it into a 500.
        log.exception("api call log not written")


def _authenticate(request: Request, needs_token: bool) -> tokens.TokenUser | None:
    """The token's user, its bucket spent (ApiError 401 or 429); None where none is needed."""
    if not needs_token:
        return None
    user = tokens.authenticate(connection().cursor(), _bearer(request))
    if user is None:
        exc = ApiError(401, "unauthorized", "api.unauthorized")
        exc.headers["WWW-Authenticate"] = "Bearer"
        raise exc
    wait = BUCKET.take(user.token_name)
    if wait > 0:
        exc = ApiError(429, "rate_limited", "api.rate_limited", seconds=int(wait) + 1)
        exc.headers["Retry-After"] = str(int(wait) + 1)
        exc.token_user = user
        raise exc
    return user


def _run(
    handler: Handler, request: Request, body: bytes, user: tokens.TokenUser | None, lang: str
) -> Response:
    """Run a handler on its own cursor (in a worker thread); every failure becomes JSON."""
    try:
        cur = connection().cursor()
        return handler(Call(request, body, cur, user, lang, dict(request.path_params)))
    except ApiError as exc:
        return _error(exc, lang)
    except access.AccessDenied:
        return _error(ApiError(403, "forbidden", "api.forbidden"), lang)
    except importer.ImportRejected as exc:
        return JSONResponse(service.rejection(exc), status_code=422)
    except NegotiationError as exc:
        values = getattr(exc, "values", {}) or {}
        status = 404 if exc.key == "nego.err_no_cycle" else 409
        body = {
            "error": "not_found" if status == 404 else "conflict",
            "message": t(exc.key, lang, **values),
        }
        return JSONResponse(body, status_code=status)
    except (duckdb.Error, StoreError):
        log.exception("api %s %s: database error", request.method, request.url.path)
        return _error(ApiError(503, "database", "api.database"), lang)
    except Exception:
        log.exception("api %s %s failed", request.method, request.url.path)
        return _error(ApiError(500, "internal", "api.internal"), lang)


def _endpoint(handler: Handler, needs_token: bool = True):
    async def endpoint(request: Request) -> Response:
        started = time.perf_counter()
        lang = _lang(request)
        user, size = None, 0
        try:
            # The token first: nobody without one gets to send a large body.
            user = await run_in_threadpool(_authenticate, request, needs_token)
            body = await _read_body(request)
            size = len(body)
            response = await run_in_threadpool(_run, handler, request, body, user, lang)
        except ApiError as exc:
            user = user or exc.token_user
            response = _error(exc, lang)
        except (duckdb.Error, StoreError):
            log.exception("api %s %s: database error", request.method, request.url.path)
            response = _error(ApiError(503, "database", "api.database"), lang)
        except ClientDisconnect:
            response = Response(status_code=499)
        await run_in_threadpool(_log_call, user, request, response.status_code, size, started)
        return response

    return endpoint


# ---------------------------------------------------------------------------- handlers


def _health(call: Call) -> Response:
    try:
        return JSONResponse(service.health(call.cur))
    except (duckdb.Error, StoreError):
        log.exception("api health: database unreachable")
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)


def _import(call: Call) -> Response:
    kind = call.params["kind"]
    if kind not in importer.KINDS:
        raise ApiError(404, "not_found", "api.unknown_kind", kinds=", ".join(importer.KINDS))
    assert call.user is not None
    name = Path(call.query("filename") or "").name
    if not name:
        name = f"{kind}.xlsx" if call.body[:4] == b"PK\x03\x04" else f"{kind}.csv"
    result = service.import_file(
        call.cur,
        call.user,
        kind,
        name,
        call.body,
        call.query("sheet"),
        (call.query("cumulative") or "").lower() in _TRUE,
    )
    return JSONResponse(result)


def _cycles(call: Call) -> Response:
    assert call.user is not None
    return JSONResponse({"cycles": service.cycles(call.cur, call.user)})


def _format(call: Call, allowed: tuple[str, ...], default: str) -> str:
    fmt = (call.query("format") or default).lower()
    if fmt not in allowed:
        raise ApiError(400, "bad_request", "api.bad_format", formats=", ".join(allowed))
    return fmt


def _file(data: bytes, media: str, name: str) -> Response:
    return Response(
        data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _targets(call: Call) -> Response:
    assert call.user is not None
    fmt = _format(call, service.TARGET_FORMATS, "json")
    cycle_id = int(call.params["cycle_id"])
    data, media = service.targets_bytes(call.cur, call.user, cycle_id, fmt)
    if fmt == "json":
        return Response(data, media_type=media)
    return _file(data, media, f"cycle-{cycle_id}-targets.{fmt}")


def _decisions(call: Call) -> Response:
    assert call.user is not None
    fmt = _format(call, service.DECISION_FORMATS, "csv")
    cycle_id = int(call.params["cycle_id"])
    data, media = service.decisions_bytes(call.cur, call.user, cycle_id, fmt)
    return _file(data, media, f"cycle-{cycle_id}-decisions.{fmt}")


def _backup(call: Call) -> Response:
    assert call.user is not None
    target = (call.query("target") or "download").lower()
    if target == "server":
        try:
            return JSONResponse(service.backup_to_folder(connection(), call.user))
        except LookupError:
            raise ApiError(409, "no_backup_dir", "api.no_backup_dir") from None
    if target != "download":
        raise ApiError(400, "bad_request", "api.bad_target")
    path = service.backup_zip(connection(), call.user)
    return FileResponse(
        path,
        media_type="application/zip",
        filename="calibrate-backup.zip",
        background=BackgroundTask(shutil.rmtree, path.parent, ignore_errors=True),
    )


def _verify(call: Call) -> Response:
    assert call.user is not None
    anchors: list = []
    if call.body.strip():
        try:
            parsed = json.loads(call.body)
        except ValueError:
            raise ApiError(400, "bad_request", "api.bad_json") from None
        anchors = parsed.get("anchors", []) if isinstance(parsed, dict) else None
        if not isinstance(anchors, list):
            raise ApiError(400, "bad_request", "api.bad_json")
    try:
        return JSONResponse(service.verify(call.cur, call.user, anchors))
    except ValueError:
        raise ApiError(400, "bad_request", "api.bad_json") from None


def _openapi(call: Call) -> Response:
    return JSONResponse(document())


# ---------------------------------------------------------------------------- the table

# (path, method, handler, needs a token); openapi.py describes exactly these.
ENDPOINTS: tuple[tuple[str, str, Handler, bool], ...] = (
    (f"{PREFIX}/health", "GET", _health, False),
    (f"{PREFIX}/openapi.json", "GET", _openapi, False),
    (f"{PREFIX}/import/{{kind}}", "POST", _import, True),
    (f"{PREFIX}/cycles", "GET", _cycles, True),
    (f"{PREFIX}/cycles/{{cycle_id:int}}/targets", "GET", _targets, True),
    (f"{PREFIX}/cycles/{{cycle_id:int}}/decisions", "GET", _decisions, True),
    (f"{PREFIX}/backup", "POST", _backup, True),
    (f"{PREFIX}/audit/verify", "POST", _verify, True),
)


def _fallback(known: list[Route]) -> Handler:
    def handler(call: Call) -> Response:
        # Streamlit answers unknown paths with its HTML page and 200; under /api/v1 a
        # client gets JSON: 405 for a known path with another method, else 404.
        path = call.request.url.path
        if any(r.path_regex.match(path) for r in known):
            raise ApiError(405, "method_not_allowed", "api.method_not_allowed")
        raise ApiError(404, "not_found", "api.not_found")

    return handler


def routes() -> list[BaseRoute]:
    """Every /api/v1 route, then a JSON 404/405 for anything else under /api/v1."""
    known = [
        Route(path, _endpoint(handler, token), methods=[method])
        for path, method, handler, token in ENDPOINTS
    ]
    fallback = _endpoint(_fallback(known), needs_token=False)
    return [
        *known,
        Route(PREFIX, fallback),
        Route(f"{PREFIX}/{{rest:path}}", fallback),
    ]


def route_table() -> list[tuple[str, str]]:
    """(OpenAPI path, method) of every endpoint (`{cycle_id:int}` written `{cycle_id}`)."""
    return [(re.sub(r":\w+}", "}", path), method.lower()) for path, method, _, _ in ENDPOINTS]
