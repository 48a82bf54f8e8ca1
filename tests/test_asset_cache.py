"""Immutable front-end files from memory: the same bytes and headers, anything else untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from calibration.asset_cache import ImmutableAssetCache

IMMUTABLE = "public, immutable, max-age=31536000"


@pytest.fixture
def served(tmp_path: Path):
    """An app with a hashed bundle, an index page, a cookie-setting file and a big file."""
    bundle = tmp_path / "main.abc123.js"
    bundle.write_bytes(b"console.log('x');" * 10_000)  # several 64 KB chunks
    big = tmp_path / "big.js"
    big.write_bytes(b"b" * 600_000)
    calls: list[str] = []

    async def asset(request: Request) -> Response:
        calls.append(request.url.path)
        return FileResponse(bundle, headers={"Cache-Control": IMMUTABLE})

    async def index(request: Request) -> Response:
        calls.append(request.url.path)
        return PlainTextResponse("index", headers={"Cache-Control": "no-cache"})

    async def cookie(request: Request) -> Response:
        calls.append(request.url.path)
        response = PlainTextResponse("c", headers={"Cache-Control": IMMUTABLE})
        response.set_cookie("session", "someone")
        return response

    async def large(request: Request) -> Response:
        calls.append(request.url.path)
        return FileResponse(big, headers={"Cache-Control": IMMUTABLE})

    async def missing(request: Request) -> Response:
        calls.append(request.url.path)
        return PlainTextResponse("no", status_code=404, headers={"Cache-Control": IMMUTABLE})

    app = Starlette(
        routes=[
            Route("/static/js/main.abc123.js", asset),
            Route("/", index),
            Route("/static/cookie.js", cookie),
            Route("/static/big.js", large),
            Route("/static/missing.js", missing),
        ],
        middleware=[Middleware(ImmutableAssetCache, max_file_bytes=500_000)],
    )
    return TestClient(app), calls, bundle.read_bytes()


def test_an_immutable_file_is_read_once_and_answered_the_same_from_memory(served) -> None:
    client, calls, body = served
    first = client.get("/static/js/main.abc123.js")
    second = client.get("/static/js/main.abc123.js")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content == body
    assert {k: v for k, v in first.headers.items()} == {k: v for k, v in second.headers.items()}
    assert calls == ["/static/js/main.abc123.js"]


def test_pages_cookies_errors_big_files_and_partial_requests_reach_the_handler(served) -> None:
    client, calls, body = served
    for path in ("/", "/static/cookie.js", "/static/missing.js", "/static/big.js"):
        client.get(path)
        client.get(path)
        assert calls.count(path) == 2, path
    # A range request gets the handler's partial answer, never the cached whole file.
    client.get("/static/js/main.abc123.js")
    part = client.get("/static/js/main.abc123.js", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == body[:10]
    # A HEAD or a POST is not a GET: passed on.
    client.head("/static/js/main.abc123.js")
    assert calls.count("/static/js/main.abc123.js") == 3


def test_the_cache_keeps_within_its_bound(tmp_path: Path) -> None:
    files = {}
    for n in range(4):
        f = tmp_path / f"f{n}.js"
        f.write_bytes(bytes([65 + n]) * 1_000)
        files[f"/static/f{n}.js"] = f

    async def asset(request: Request) -> Response:
        return FileResponse(files[request.url.path], headers={"Cache-Control": IMMUTABLE})

    cache: list[ImmutableAssetCache] = []

    def make(app):
        cache.append(ImmutableAssetCache(app, max_bytes=2_500))
        return cache[0]

    app = Starlette(routes=[Route(p, asset) for p in files])
    client = TestClient(make(app))
    for path, f in files.items():
        assert client.get(path).content == f.read_bytes()
        assert client.get(path).content == f.read_bytes()
    assert cache[0].size == 2_000 and len(cache[0]._answers) == 2
