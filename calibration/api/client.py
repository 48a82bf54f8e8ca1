"""A small HTTP client of the API for the CLI's --server mode (standard library only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

TIMEOUT = 600  # a backup of a large database takes a while


class ClientError(RuntimeError):
    """The server could not be reached or did not answer as a Calibrate API."""


@dataclass
class Answer:
    """A response: status, content type and body."""

    status: int
    content_type: str
    body: bytes

    def json(self) -> dict:
        """The body as JSON (ClientError when the server answered something else)."""
        if not self.content_type.startswith("application/json"):
            raise ClientError(
                "the server did not answer as a Calibrate API (is --server the app's address?)"
            )
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise ClientError(f"the server sent malformed JSON ({exc})") from None

    def message(self) -> str:
        """The error message of a refused call."""
        try:
            return str(self.json().get("message") or f"HTTP {self.status}")
        except ClientError:
            return f"HTTP {self.status}"


class Client:
    """Calls to one server with one bearer token."""

    def __init__(self, base_url: str, token: str | None) -> None:
        self.base = base_url.rstrip("/")
        self.token = token

    def call(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        body: bytes | None = None,
        content_type: str = "application/octet-stream",
    ) -> Answer:
        """One request; any HTTP status comes back as an Answer, network failures raise."""
        url = f"{self.base}/api/v1/{path.lstrip('/')}"
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v})
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if body is not None:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return Answer(
                    response.status, response.headers.get("Content-Type", ""), response.read()
                )
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, exc.headers.get("Content-Type", ""), exc.read())
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ClientError(f"cannot reach the server at {self.base}: {reason}") from None
