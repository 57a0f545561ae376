"""Stores, SKUs, a SKU's stock and registrations: the spec's /api/stores and /api/skus."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from events.actors import Actor
from skus.models import Sku
from skus.selectors import sku_explain, sku_search
from skus.services import set_define, sku_create, sku_update
from skus.sets import available_expression
from stores.models import Store, StoreSku
from stores.services import store_create
from sync.registry import binder_for

from ..base import ApiView
from ..serializers import (
    InventorySerializer,
    RegistrationSerializer,
    SkuCreateSerializer,
    SkuSerializer,
    SkuUpdateSerializer,
    StoreCreateSerializer,
    StoreSerializer,
)


def _stores() -> Any:
    return Store.objects.annotate(registered_skus=Count("registrations")).order_by("store_id")


class StoreFilter(django_filters.FilterSet):
    class Meta:
        model = Store
        fields = ["platform_type", "status"]


class StoreList(ApiView, generics.ListAPIView):
    """Every store, with its credentials masked."""

    required = {"GET": "stores.view_store", "POST": "stores.add_store"}
    serializer_class = StoreSerializer
    filterset_class = StoreFilter
    ordering_fields = ["store_id", "store_name", "created_at"]

    def get_queryset(self) -> Any:
        return _stores()

    @extend_schema(request=StoreCreateSerializer, responses={201: StoreSerializer})
    def post(self, request: Request) -> Response:
        data = StoreCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        store = store_create(actor=Actor.from_request(request), **data.validated_data)
        return Response(
            StoreSerializer(_stores().get(pk=store.pk)).data, status=status.HTTP_201_CREATED
        )


class StoreDetail(ApiView, generics.RetrieveAPIView):
    required = {"GET": "stores.view_store"}
    serializer_class = StoreSerializer
    lookup_field = "store_id"

    def get_queryset(self) -> Any:
        return _stores()


class StoreSkus(ApiView, generics.ListAPIView):
    """The SKUs registered to a store, each with its keys on the store's platform."""

    required = {"GET": ("stores.view_store", "stores.view_storesku")}
    serializer_class = RegistrationSerializer
    queryset = StoreSku.objects.none()  # for the schema
    ordering_fields = ["sku_id", "registered_at", "last_pushed_at"]
    ordering = ["sku_id"]

    def get_queryset(self) -> Any:
        self.store = get_object_or_404(Store, pk=self.kwargs["store_id"])
        return self.store.registrations.select_related("sku").order_by("sku_id")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "keys": getattr(self, "keys", {})}

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        rows = page if page is not None else list(queryset)
        self.keys = binder_for(self.store.platform_type).keys_of([r.pk for r in rows])
        return page


class SkuFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", help_text="Part of the SKU id or name.")
    store = django_filters.CharFilter(
        field_name="registrations__store_id", help_text="Registered to this store."
    )

    class Meta:
        model = Sku
        fields = ["environment", "status", "allow_oversell"]

    def search(self, queryset: Any, name: str, value: str) -> Any:
        value = value.strip()
        return queryset.filter(Q(sku_id__icontains=value) | Q(sku_name__icontains=value))


class SkuList(ApiView, generics.ListAPIView):
    """SKUs, filtered by environment, status, store or a search; with their stock."""

    required = {"GET": "skus.view_sku", "POST": "skus.add_sku"}
    serializer_class = SkuSerializer
    filterset_class = SkuFilter
    ordering_fields = ["sku_id", "sku_name", "created_at", "updated_at"]
    ordering = ["sku_id"]

    def get_queryset(self) -> Any:
        # One registration per store: filtering by store adds no rows.
        return _with_stock(sku_search())

    @extend_schema(request=SkuCreateSerializer, responses={201: SkuSerializer})
    def post(self, request: Request) -> Response:
        data = SkuCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        components = values.pop("components", None)
        actor = Actor.from_request(request)
        with transaction.atomic():
            sku = sku_create(actor=actor, **values)
            if components:
                set_define(sku_id=sku.sku_id, components=_parts(components), actor=actor)
        sku = _with_stock(Sku.objects.all()).get(pk=sku.pk)
        return Response(SkuSerializer(sku).data, status=status.HTTP_201_CREATED)


def _with_stock(skus: Any) -> Any:
    """SKUs with their available stock (a set's from its components) and components."""
    return skus.annotate(available_now=available_expression("sku_id")).prefetch_related(
        "components"
    )


def _parts(components: list[dict[str, Any]]) -> list[tuple[str, object]]:
    return [(part["sku_id"], part["quantity"]) for part in components]


class SkuDetail(ApiView, generics.RetrieveAPIView):
    """One SKU. PATCH changes its editable fields (never a price); no SKU is ever deleted:
    set its status to inactive instead."""

    required = {"GET": "skus.view_sku", "PATCH": "skus.change_sku"}
    serializer_class = SkuSerializer
    lookup_field = "sku_id"

    def get_object(self) -> Sku:
        return get_object_or_404(
            _with_stock(Sku.objects.all()), pk=str(self.kwargs["sku_id"]).lower()
        )

    @extend_schema(request=SkuUpdateSerializer, responses={200: SkuSerializer})
    def patch(self, request: Request, sku_id: str) -> Response:
        sku = self.get_object()
        data = SkuUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        components = values.pop("components", None)
        actor = Actor.from_request(request)
        with transaction.atomic():
            if values:
                sku_update(sku_id=sku.sku_id, actor=actor, **values)
            if components is not None:
                set_define(sku_id=sku.sku_id, components=_parts(components), actor=actor)
        return Response(SkuSerializer(self.get_object()).data)


class SkuRegistrations(ApiView, generics.ListAPIView):
    """The stores a SKU is registered to, with its keys in each."""

    required = {"GET": ("skus.view_sku", "stores.view_storesku")}
    serializer_class = RegistrationSerializer
    queryset = StoreSku.objects.none()  # for the schema
    pagination_class = None

    def get_queryset(self) -> Any:
        sku = get_object_or_404(Sku, pk=str(self.kwargs["sku_id"]).lower())
        return sku.registrations.select_related("sku", "store").order_by("store_id")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rows = list(self.get_queryset())
        keys: dict[int, dict[str, str]] = {}
        for platform in {row.store.platform_type for row in rows}:
            keys.update(
                binder_for(platform).keys_of(
                    [row.pk for row in rows if row.store.platform_type == platform]
                )
            )
        return Response(RegistrationSerializer(rows, many=True, context={"keys": keys}).data)


class Inventory(ApiView, generics.GenericAPIView):
    """A SKU's stock now, and what each store it is registered to should show."""

    required = {"GET": "events.view_inventorysnapshot"}
    serializer_class = InventorySerializer
    pagination_class = None

    def get(self, request: Request, sku_id: str) -> Response:
        sku = get_object_or_404(Sku, pk=sku_id.lower())
        explained = sku_explain(sku)
        stores = [
            {
                "store_id": view.registration.store_id,
                "safety_stock": view.safety,
                "should_show": view.should_show,
                "steps": [
                    {
                        "rule": step.kind,
                        "value": step.value,
                        "before": step.before,
                        "after": step.after,
                        "source": step.source,
                        "rule_id": step.rule_id,
                        "until": step.ends_at,
                        "text": f"{step.label} ({step.source_label})",
                    }
                    for step in view.allocation.steps
                ],
                "last_pushed_quantity": view.registration.last_pushed_quantity,
                "last_pushed_at": view.registration.last_pushed_at,
                "push_pending": view.pending is not None,
                "push_status": view.pending.status if view.pending else None,
                "push_error": view.pending.last_error if view.pending else "",
                "in_step": view.in_step,
            }
            for view in explained.stores
        ]
        data = {
            "sku_id": sku.sku_id,
            "original_sku": sku.original_sku,
            "available": explained.available,
            "allow_oversell": sku.allow_oversell,
            "components": [
                {
                    "sku_id": part.sku_id,
                    "quantity": part.quantity,
                    "available": part.available,
                    "allows": part.allows,
                }
                for part in explained.components
            ],
            "stores": stores,
            "recent_events": explained.events,
        }
        return Response(InventorySerializer(data).data)
