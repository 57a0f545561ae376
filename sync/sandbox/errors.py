"""The one exception a sandbox raises to answer anything but success."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An HTTP answer other than success, raised anywhere in a request.

    Raising rather than returning lets a check deep inside a platform's endpoint stop the
    request with that platform's own error body; the handler turns it into the response.
    """

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}
