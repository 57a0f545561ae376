"""What every API view shares: token auth, permissions by method, errors as JSON with a
code, pagination and throttling per token."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any, ClassVar

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.http import JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django_filters.fields import IsoDateTimeField
from rest_framework import exceptions, permissions
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.utils.urls import replace_query_param

MSG_BAD_CURSOR = _("The cursor is not valid.")


class MethodPermission(permissions.BasePermission):
    """A staff user with the permission the view names for the request's method
    (``required = {"GET": "skus.view_sku", "POST": "skus.add_sku"}``): the same
    permissions as the pages. 401 without credentials, 403 without the permission."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if not user.is_staff:
            return False
        if not hasattr(view, request.method.lower()):
            return True  # the view answers 405 Method Not Allowed
        required = getattr(view, "required", {}).get(request.method)
        if request.method in ("HEAD", "OPTIONS"):
            required = getattr(view, "required", {}).get("GET")
        if required is None:
            return False
        return all(user.has_perm(perm) for perm in _as_list(required))


def _as_list(value: str | list[str] | tuple[str, ...]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


class ApiView:
    """Mixin for the API views: the perms each method needs."""

    required: ClassVar[dict[str, str | tuple[str, ...]]] = {}


class Pages(PageNumberPagination):
    """``?page=`` and ``?page_size=`` (at most 500): ``count/next/previous/results``."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class TimelineCursor(BasePagination):
    """The event timeline, newest first, by keyset: ``?after=<cursor>`` continues below the
    last event of the previous page; ``next`` carries it. Stable while events are added."""

    page_size = 50
    max_page_size = 500

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list:
        self.request = request
        try:
            size = int(request.query_params.get("page_size", self.page_size))
        except ValueError:
            size = self.page_size
        self.size = max(1, min(size, self.max_page_size))
        after = request.query_params.get("after")
        queryset = queryset.order_by("-created_at", "-event_id")
        if after:
            created_at, event_id = self._decode(after)
            queryset = queryset.filter(
                Q(created_at__lt=created_at) | Q(created_at=created_at, event_id__lt=event_id)
            )
        rows = list(queryset[: self.size + 1])
        self.more = len(rows) > self.size
        self.rows = rows[: self.size]
        return self.rows

    @staticmethod
    def _decode(cursor: str) -> tuple[dt.datetime, str]:
        try:
            raw = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)).decode()
            when, event_id = raw.split("|", 1)
            created_at = parse_datetime(when)
            uuid.UUID(event_id)
        except (ValueError, UnicodeDecodeError, TypeError):
            raise exceptions.ValidationError({"after": [MSG_BAD_CURSOR]}, code="invalid") from None
        if created_at is None or timezone.is_naive(created_at):
            raise exceptions.ValidationError({"after": [MSG_BAD_CURSOR]}, code="invalid")
        try:
            return created_at.astimezone(dt.UTC), event_id
        except (OverflowError, ValueError):
            raise exceptions.ValidationError({"after": [MSG_BAD_CURSOR]}, code="invalid") from None

    @staticmethod
    def encode(created_at: dt.datetime, event_id: Any) -> str:
        raw = f"{created_at.isoformat()}|{event_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def get_paginated_response(self, data: Any) -> Response:
        next_url = None
        if self.more and self.rows:
            last = self.rows[-1]
            cursor = self.encode(last.created_at, last.event_id)
            url = self.request.build_absolute_uri()
            next_url = replace_query_param(url, "after", cursor)
        return Response({"next": next_url, "results": data})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        return [
            {
                "name": "after",
                "required": False,
                "in": "query",
                "description": "The cursor from the previous page's `next`.",
                "schema": {"type": "string"},
            },
            {
                "name": "page_size",
                "required": False,
                "in": "query",
                "description": f"Events per page (at most {self.max_page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]


class TokenThrottle(SimpleRateThrottle):
    """Requests per API token (per user for a browser session); the rate is
    ``API_THROTTLE_RATE`` (``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api"]``)."""

    scope = "api"

    def get_rate(self) -> str | None:
        # Read at each request (not at import), so a settings change takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        token = getattr(request, "auth", None)
        key = getattr(token, "token_key", None)
        if key:
            ident = f"token:{key}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


MSG_NUL = _("The request holds a NUL byte, which no field may contain.")


class JsonParser(JSONParser):
    """JSON, refusing a NUL character in any string (no database stores one: PostgreSQL
    refuses it in text), as the middleware does for forms and query strings."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        if _holds_nul(data):
            raise exceptions.ParseError(MSG_NUL, code="nul_byte")
        return data


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


@csrf_exempt
def not_found(request: Any, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any other path under /api/: a 404 in the API's error shape (whatever the method: a
    PATCH to no resource is a 404, not the CSRF check's HTML 403; it changes nothing)."""
    return JsonResponse({"detail": str(_("Not found.")), "code": "not_found"}, status=404)


MSG_BAD_TIME = _("Enter a date and time with a valid offset, between years 1 and 9999.")


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 date and time, turned to UTC (the database refuses odd offsets such as
    -16:28); one that cannot be is bad input, not a server error."""

    def to_python(self, value: Any) -> dt.datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            if timezone.is_naive(parsed):
                parsed = timezone.make_aware(parsed)
            return parsed.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            raise DjangoValidationError(MSG_BAD_TIME, code="invalid") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField
