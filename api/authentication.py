"""Token auth: knox's hashed, expiring tokens (``api.ApiToken``), for staff only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication
from rest_framework import exceptions

MSG_NOT_STAFF = _("This account may not use the API.")


class ApiTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <token>``: a knox token of an active staff user. Answers 401
    with ``WWW-Authenticate: Token`` when it is missing, unknown or expired."""

    def validate_user(self, auth_token: Any) -> tuple[Any, Any]:
        user, token = super().validate_user(auth_token)
        if not user.is_staff:
            raise exceptions.AuthenticationFailed(MSG_NOT_STAFF)
        now = timezone.now()
        last = getattr(token, "last_used_at", None)
        if last is None or now - last > dt.timedelta(minutes=1):
            type(token).objects.filter(pk=token.pk).update(last_used_at=now)
        return user, token
