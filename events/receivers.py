"""Signal edges: each receiver calls one service and nothing else."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import connections
from django.dispatch import receiver
from django.http import HttpRequest

from events.actors import Actor, client_ip
from events.models import AuditAction
from events.services import audit_record
from skus.services import env_test_sku_ensure


@receiver(user_logged_in, dispatch_uid="events.audit_login")
def audit_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    ip = client_ip(request) if request is not None else None
    audit_record(actor=Actor(username=user.get_username(), ip=ip), action=AuditAction.LOGIN)


@receiver(user_login_failed, dispatch_uid="events.audit_login_failed")
def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Django has already masked the password in ``credentials``; keep only the name.
    username = str(credentials.get("username", ""))[:100] or "unknown"
    ip = client_ip(request) if request is not None else None
    audit_record(actor=Actor(username=username, ip=ip), action=AuditAction.LOGIN_FAILED)


def ensure_test_sku(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """ce1111 exists after every migrate (and after a test flush)."""
    tables = set(connections[using].introspection.table_names())
    if {"sku_master", "inventory_snapshots", "inventory_events"} <= tables:
        env_test_sku_ensure()
