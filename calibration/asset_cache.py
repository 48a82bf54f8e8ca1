"""Streamlit's hashed, immutable front-end files served from memory after their first request.

Every new browser (each lead joining a workshop, each test's browser context) fetches about
90 files, 2.7 MB, before the sign-in form shows. Streamlit's static handler opens and reads
each one through worker threads in 64 KB chunks: about 0.3 s of the server's CPU per page
load, time the server's one event loop does not spend on the sessions already running. The
files carry `Cache-Control: immutable` (their names hold their hash), so a copy of the first
answer is the answer for good.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BYTES = 64 * 1024 * 1024  # all cached files together (Streamlit's whole bundle: ~25 MB)
MAX_FILE_BYTES = 8 * 1024 * 1024
# A request that asks for part of a file or for a check against a copy it holds gets the
# handler's own answer (206, 304); so does anything that sets a cookie.
_PASS_THROUGH = (b"range", b"if-none-match", b"if-modified-since", b"if-range")


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


class ImmutableAssetCache:
    """ASGI middleware: replays 200 answers marked immutable (GET, whole file, no cookie)."""

    def __init__(
        self, app: ASGIApp, max_bytes: int = MAX_BYTES, max_file_bytes: int = MAX_FILE_BYTES
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_file_bytes = max_file_bytes
        self.size = 0
        self._answers: dict[tuple[str, bytes, bytes], tuple[list, bytes]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        asked = scope.get("headers") or []
        if any(key.lower() in _PASS_THROUGH for key, _ in asked):
            await self.app(scope, receive, send)
            return
        key = (
            scope["path"],
            scope.get("query_string", b""),
            _header(asked, b"accept-encoding") or b"",
        )
        answer = self._answers.get(key)
        if answer is not None:
            headers, body = answer
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, self._recorder(key, send))

    def _recorder(self, key: tuple[str, bytes, bytes], send: Send) -> Send:
        """A send that passes every message on and keeps a cacheable answer's copy."""
        state: dict[str, Any] = {"keep": False, "headers": [], "parts": [], "size": 0}

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                control = (_header(headers, b"cache-control") or b"").lower()
                state["keep"] = (
                    message["status"] == 200
                    and b"immutable" in control
                    and _header(headers, b"set-cookie") is None
                )
                state["headers"] = headers
            elif message["type"] == "http.response.body" and state["keep"]:
                body = bytes(message.get("body", b""))
                state["parts"].append(body)
                state["size"] += len(body)
                if state["size"] > self.max_file_bytes:
                    state["keep"], state["parts"] = False, []
                elif not message.get("more_body", False):
                    self._store(key, state["headers"], b"".join(state["parts"]))
            await send(message)

        return record

    def _store(self, key: tuple[str, bytes, bytes], headers: list, body: bytes) -> None:
        if key in self._answers or self.size + len(body) > self.max_bytes:
            return
        self._answers[key] = (headers, body)
        self.size += len(body)
