"""Shared admin behaviour."""

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from events.actors import Actor
from inventory_site.errors import InventoryError


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable, never added, changed or deleted from the admin."""

    actions = None

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceAdmin(admin.ModelAdmin):
    """An admin whose writes go through the app's services."""

    def actor(self, request: HttpRequest) -> Actor:
        return Actor.from_request(request)

    def run_service(self, request: HttpRequest, call: Any, success: str = "") -> bool:
        """Run ``call``; a refusal becomes an error message, not a 500."""
        try:
            call()
        except InventoryError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return False
        if success:
            self.message_user(request, success, messages.SUCCESS)
        return True
