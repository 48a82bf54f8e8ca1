"""The HTTP API under /api/v1 (Starlette routes mounted by server.py)."""
