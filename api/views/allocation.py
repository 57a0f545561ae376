"""A store's allocation rules: /api/stores/{store_id}/allocation-rules."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from events.actors import Actor
from stores.models import AllocationRule, Store
from stores.services import allocation_rule_delete, allocation_rule_save

from ..base import ApiView
from ..serializers import AllocationRuleSerializer


class AllocationRules(ApiView, generics.ListAPIView):
    """A store's allocation rules (for every SKU, or one), standing or for a period. POST
    adds one; what the store is told is pushed again."""

    required = {"GET": "stores.view_allocationrule", "POST": "stores.add_allocationrule"}
    serializer_class = AllocationRuleSerializer
    queryset = AllocationRule.objects.none()  # for the schema
    pagination_class = None

    def get_queryset(self) -> Any:
        store = get_object_or_404(Store, pk=self.kwargs["store_id"])
        return store.allocation_rules.order_by("sku_id", "kind", "starts_at", "id")

    @extend_schema(request=AllocationRuleSerializer, responses={201: AllocationRuleSerializer})
    def post(self, request: Request, store_id: str) -> Response:
        store = get_object_or_404(Store, pk=store_id)
        data = AllocationRuleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = allocation_rule_save(
            actor=Actor.from_request(request), store_id=store.store_id, **data.validated_data
        )
        return Response(AllocationRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class AllocationRuleDetail(ApiView, generics.RetrieveAPIView):
    """One rule. PATCH changes it, DELETE removes it; both push what it covers again."""

    required = {
        "GET": "stores.view_allocationrule",
        "PATCH": "stores.change_allocationrule",
        "DELETE": "stores.delete_allocationrule",
    }
    serializer_class = AllocationRuleSerializer

    def get_object(self) -> AllocationRule:
        return get_object_or_404(
            AllocationRule, pk=self.kwargs["rule_id"], store_id=self.kwargs["store_id"]
        )

    @extend_schema(request=AllocationRuleSerializer, responses={200: AllocationRuleSerializer})
    def patch(self, request: Request, store_id: str, rule_id: int) -> Response:
        rule = self.get_object()
        data = AllocationRuleSerializer(rule, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = {
            "sku_id": rule.sku_id,
            "kind": rule.kind,
            "value": rule.value,
            "starts_at": rule.starts_at,
            "ends_at": rule.ends_at,
            "note": rule.note,
            **data.validated_data,
        }
        saved = allocation_rule_save(
            actor=Actor.from_request(request), store_id=store_id, rule_id=rule.pk, **values
        )
        return Response(AllocationRuleSerializer(saved).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, store_id: str, rule_id: int) -> Response:
        rule = self.get_object()
        allocation_rule_delete(actor=Actor.from_request(request), rule_id=rule.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
