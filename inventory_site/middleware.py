"""Every request gets an id (``RequestId``); requests no page can serve are answered 400
with a message, before any view runs (``RefuseNulBytes``)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

from .logs import request_id

REQUEST_ID_HEADER = "X-Request-ID"
# An id from a proxy or load balancer is kept when it is a plain token (a UUID, a trace
# id); anything else (a line break that would forge a log line, 8 kB of text) is replaced.
_GOOD_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
_QUIET_PATHS = frozenset({"/healthz"})  # probed every few seconds: logged only when failing

request_logger = logging.getLogger("inventory_site.requests")


class RequestId:
    """Takes the request's ``X-Request-ID`` (or makes one), keeps it for the log lines
    written while the request is served, sends it back on the answer, and logs one line
    per request (method, path, status, milliseconds)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token, started = self._start(request)
        try:
            response = self.get_response(request)
            return self._finish(request, response, started)
        finally:
            request_id.reset(token)

    def _start(self, request: HttpRequest) -> tuple[Any, float]:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        value = given if _GOOD_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        request.request_id = value  # type: ignore[attr-defined]
        return request_id.set(value), time.monotonic()

    def _finish(self, request: HttpRequest, response: HttpResponse, started: float) -> HttpResponse:
        response[REQUEST_ID_HEADER] = request.request_id  # type: ignore[attr-defined]
        elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        quiet = request.path in _QUIET_PATHS and response.status_code < 400
        request_logger.log(
            logging.DEBUG if quiet else logging.INFO,
            "%s %s %s %.1f ms",
            request.method,
            request.path,
            response.status_code,
            elapsed_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": elapsed_ms,
            },
        )
        return response


class RefuseNulBytes:
    """A NUL byte in the path or any parameter: no database stores one (PostgreSQL refuses
    it in text), so refuse the request with a message rather than fail inside a view."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for params in (
                (request.GET, request.POST) if request.method == "POST" else (request.GET,)
            )
            for key, values in params.lists()
        ):
            message = _("The request holds a NUL byte, which no field may contain.")
            if request.path.startswith("/api/"):  # the API answers in its own error shape
                return JsonResponse({"detail": message, "code": "nul_byte"}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
