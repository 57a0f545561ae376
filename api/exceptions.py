"""Errors as JSON with a code: ``{"detail": ..., "code": ...}``, and per field."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from events.services import LedgerError, OversellRefused, TokenReused, UnknownSku, UnknownStore
from inventory_site.errors import InventoryError


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state.")
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Errors as ``{"detail": ..., "code": ...}``; field errors as ``{"detail", "code",
    "errors": {field: [messages]}}``. The services' own errors keep their message."""
    if isinstance(exc, UnknownSku | UnknownStore | Http404):
        exc = exceptions.NotFound(str(exc) if not isinstance(exc, Http404) else None)
    elif isinstance(exc, OversellRefused):
        exc = exceptions.ValidationError({"quantity": [str(exc)]}, code="oversell_refused")
    elif isinstance(exc, TokenReused):
        exc = Conflict(str(exc), code="idempotency_key_reused")
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, LedgerError | InventoryError):
        exc = exceptions.ValidationError({"non_field_errors": [str(exc)]}, code="invalid")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        codes = exc.get_codes()
        code = _first_code(codes) or "invalid"
        response.data = {"detail": str(_("Invalid input.")), "code": code, "errors": errors}
    else:
        detail = data.get("detail", "") if isinstance(data, dict) else data
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = {"detail": str(detail), "code": code}
    return response


def _first_code(codes: Any) -> str | None:
    if isinstance(codes, str):
        return codes
    if isinstance(codes, dict):
        for value in codes.values():
            found = _first_code(value)
            if found:
                return found
    if isinstance(codes, list):
        for value in codes:
            found = _first_code(value)
            if found:
                return found
    return None
