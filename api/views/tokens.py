"""API tokens: a staff user creates, lists and revokes their own; an admin (the
``api.view_apitoken`` / ``api.delete_apitoken`` permissions) sees and revokes everyone's.
A token is shown once, when it is created; only its digest is kept."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.settings import knox_settings
from rest_framework import generics, serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from events.actors import Actor
from events.models import AuditAction
from events.services import audit_record

from ..models import ApiToken
from ..serializers import TokenCreateSerializer, TokenSerializer

TOKENS_PER_USER = 50


class StaffOnly(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


def _sees_all(request: Request) -> bool:
    return request.user.has_perm("api.view_apitoken")


class Tokens(generics.ListAPIView):
    """Your API tokens (an admin: everyone's). POST creates one and shows it once."""

    permission_classes = [IsAuthenticated, StaffOnly]
    serializer_class = TokenSerializer
    queryset = ApiToken.objects.none()  # for the schema
    ordering_fields = ["created", "expiry"]
    ordering = ["-created"]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        tokens = ApiToken.objects.select_related("user").order_by("-created")
        return tokens if _sees_all(self.request) else tokens.filter(user=self.request.user)

    @extend_schema(
        request=TokenCreateSerializer,
        responses={
            201: inline_serializer(
                "NewToken",
                {
                    "token": serializers.CharField(help_text="Shown this once: keep it safe."),
                    "token_key": serializers.CharField(),
                    "name": serializers.CharField(),
                    "expiry": serializers.DateTimeField(allow_null=True),
                },
            )
        },
    )
    def post(self, request: Request) -> Response:
        data = TokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if ApiToken.objects.filter(user=request.user).count() >= TOKENS_PER_USER:
            raise serializers.ValidationError(
                {"non_field_errors": [f"At most {TOKENS_PER_USER} tokens per user."]},
                code="too_many_tokens",
            )
        days = data.validated_data.get("expires_in_days", -1)
        if days == -1:  # not given: the default lifetime
            ttl = knox_settings.TOKEN_TTL
        else:
            ttl = dt.timedelta(days=days) if days is not None else None
        instance, token = ApiToken.objects.create(
            user=request.user, expiry=ttl, name=data.validated_data["name"]
        )
        audit_record(
            actor=Actor.from_request(request),
            action=AuditAction.TOKEN_CREATE,
            details={"token_key": instance.token_key, "name": instance.name},
        )
        return Response(
            {
                "token": token,
                "token_key": instance.token_key,
                "name": instance.name,
                "expiry": instance.expiry,
            },
            status=status.HTTP_201_CREATED,
        )


class TokenRevoke(generics.GenericAPIView):
    """Revoke one token (yours; an admin: anyone's), by its ``token_key``."""

    permission_classes = [IsAuthenticated, StaffOnly]
    serializer_class = TokenSerializer

    @extend_schema(responses={204: None})
    def delete(self, request: Request, token_key: str) -> Response:
        tokens = ApiToken.objects.filter(token_key=token_key)
        if not request.user.has_perm("api.delete_apitoken"):
            tokens = tokens.filter(user=request.user)
        token = get_object_or_404(tokens[:1])
        ApiToken.objects.filter(digest=token.digest).delete()
        audit_record(
            actor=Actor.from_request(request),
            action=AuditAction.TOKEN_REVOKE,
            details={"token_key": token.token_key, "user": token.user.get_username()},
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
