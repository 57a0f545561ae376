"""Requests no page can serve are answered 400 with a message, before any view runs."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _


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
