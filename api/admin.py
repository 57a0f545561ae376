"""API tokens in the admin: listed and revoked (deleted), never shown or created here (a
token is shown once, by POST /api/tokens or `manage.py api_token_create`)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from knox.models import AuthToken

from events.actors import Actor
from events.models import AuditAction
from events.services import audit_record

from .models import ApiToken

# knox registers its own model, which api.ApiToken replaces (KNOX_TOKEN_MODEL).
if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("token_key", "name", "user", "created", "expiry", "last_used_at")
    list_filter = ("user",)
    search_fields = ("token_key", "name", "user__username")
    fields = ("token_key", "name", "user", "created", "expiry", "last_used_at")
    readonly_fields = fields
    list_select_related = ("user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: ApiToken) -> None:
        self._revoked(request, [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        self._revoked(request, list(queryset.select_related("user")))
        super().delete_queryset(request, queryset)

    def _revoked(self, request: HttpRequest, tokens: list[ApiToken]) -> None:
        for token in tokens:
            audit_record(
                actor=Actor.from_request(request),
                action=AuditAction.TOKEN_REVOKE,
                details={"token_key": token.token_key, "user": token.user.get_username()},
            )
