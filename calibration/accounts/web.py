"""HTTP side of sign-in: the routes and middleware server.py mounts for session cookies."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    """Routes that set and clear the session cookie."""
    return []


def middleware() -> list[Middleware]:
    """Middleware for every request (none yet)."""
    return []
