"""The API's routes, mounted beside the Streamlit app by server.py."""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    """Every /api/v1 route."""
    return []
