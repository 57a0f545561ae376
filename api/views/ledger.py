"""Stock changes and what they left: manual adjustment, a SKU's timeline, the audit log and
the oversell report."""

from __future__ import annotations

from typing import Any

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from events.actors import Actor
from events.models import AuditLog, InventoryEvent
from events.selectors import oversold_events, sku_events
from events.services import make_token, stock_adjust
from skus.models import Sku

from ..base import ApiView, TimelineCursor, UtcDateTimeFilter
from ..serializers import AdjustSerializer, AuditLogSerializer, EventSerializer

IDEMPOTENCY_HEADER = "Idempotency-Key"


class ManualAdjustment(ApiView, generics.GenericAPIView):
    """Adjust a SKU's stock by a signed quantity, with a reason. Send an idempotency key
    (body ``idempotency_key`` or the ``Idempotency-Key`` header) to retry safely: the same
    key returns the first event (200) instead of adjusting twice; the same key with another
    SKU or quantity is refused (409)."""

    required = {"POST": "events.adjust_stock"}
    serializer_class = AdjustSerializer

    @extend_schema(
        request=AdjustSerializer,
        responses={201: EventSerializer, 200: EventSerializer},
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False
            )
        ],
    )
    def post(self, request: Request) -> Response:
        data = AdjustSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        key = values.get("idempotency_key") or request.headers.get(IDEMPOTENCY_HEADER)
        actor = Actor.from_request(request)
        # Keys are the client's: scoped to the user, so two clients never collide.
        token = make_token("api.adjust", request.user.pk, key) if key else None
        event = stock_adjust(
            sku_id=values["sku_id"],
            quantity=values["quantity"],
            reason=values["reason"],
            actor=actor,
            token=token,
        )
        replayed = bool(getattr(event, "replayed", False))
        return Response(
            EventSerializer(event).data,
            status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED,
        )


class EventFilter(django_filters.FilterSet):
    since = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")
    store = django_filters.CharFilter(field_name="store_id")

    class Meta:
        model = InventoryEvent
        fields = ["event_type", "source", "oversold"]


class Timeline(ApiView, generics.ListAPIView):
    """A SKU's events, newest first, by cursor (``after``)."""

    required = {"GET": "events.view_inventoryevent"}
    serializer_class = EventSerializer
    pagination_class = TimelineCursor
    queryset = InventoryEvent.objects.none()  # for the schema
    filterset_class = EventFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]

    def get_queryset(self) -> Any:
        sku = get_object_or_404(Sku, pk=str(self.kwargs["sku_id"]).lower())
        return sku_events(sku_id=sku.sku_id)


class AuditFilter(django_filters.FilterSet):
    since = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditLog
        fields = ["user", "action"]


class AuditLogs(ApiView, generics.ListAPIView):
    """Who did what, newest first."""

    required = {"GET": "events.view_auditlog"}
    serializer_class = AuditLogSerializer
    filterset_class = AuditFilter
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]

    def get_queryset(self) -> Any:
        return AuditLog.objects.order_by("-created_at", "-log_id")


class Oversells(ApiView, generics.ListAPIView):
    """Events that took a SKU below zero, newest first."""

    required = {"GET": "events.view_inventoryevent"}
    serializer_class = EventSerializer
    filterset_class = EventFilter
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]

    def get_queryset(self) -> Any:
        return oversold_events()
