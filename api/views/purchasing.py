"""Spec 001's Purchasing API under /api/aggregation/purchasing/: purchases (list with the
spec's filters, search and ordering; create; retrieve; partial update; soft delete), their
items and the arrival rule, and the workers' claims. Every write is a purchasing service.

Auth: the spec's ``Authorization: Bearer <BATCH_STATS_API_TOKEN>`` (a system actor with
every right here), or the API's user tokens and sessions with the purchasing
permissions. Any 401 here is the spec's exact ``{"detail": "Invalid token"}``."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import django_filters
from django import forms
from django.conf import settings
from django.db import models
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import authentication, exceptions, generics, serializers, status
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.request import Request
from rest_framework.response import Response

from api.authentication import ApiTokenAuthentication
from events.actors import Actor
from events.services import QUANTITY_LIMIT
from purchasing.models import InventoryItem, OfficialAccount, Purchasing
from purchasing.selectors import purchase_list, with_item_count
from purchasing.services import (
    CLAIM_LIMIT_MAX,
    MSG_PURCHASE_READ_ONLY,
    MSG_PURCHASE_UNKNOWN_FIELDS,
    PURCHASE_EDITABLE_FIELDS,
    PURCHASE_READ_ONLY_FIELDS,
    WORKER_MAX_LENGTH,
    ItemNotFound,
    PurchaseLockError,
    PurchaseNotFound,
    item_add,
    item_update,
    items_mark_arrived,
    purchase_claim,
    purchase_create,
    purchase_delete,
    purchase_release,
    purchase_update,
)
from skus.models import SKU_ID_MAX_LENGTH

from ..base import ApiView, JsonParser
from ..exceptions import Conflict

ID_MAX = 2**63 - 1  # the ids are 64-bit
BEARER_ACTOR = "batch-stats-api"
# The spec's 401 body, word for word (not translated: its clients compare it).
INVALID_TOKEN = "Invalid token"  # noqa: S105 (a message, no secret)

VIEW = (
    "purchasing.view_purchasing",
    "purchasing.view_inventoryitem",
    "purchasing.view_officialaccount",
)
ADD = "purchasing.add_purchasing"
CHANGE = "purchasing.change_purchasing"
ITEM_ADD = "purchasing.add_inventoryitem"
ITEM_CHANGE = "purchasing.change_inventoryitem"


# --- the spec's bearer token ------------------------------------------------------------


class BatchStatsCaller:
    """Who calls with the spec's bearer token: no staff account but a system process,
    with every right on the purchasing endpoints (the only ones that take the token)."""

    pk = None
    id = None
    username = BEARER_ACTOR
    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = True
    is_superuser = False

    def get_username(self) -> str:
        return self.username

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return True

    def has_perms(self, perms: Any, obj: Any = None) -> bool:
        return True

    def __str__(self) -> str:
        return self.username


class BatchStatsToken:
    """``request.auth`` for the bearer token; ``token_key`` names it for the throttle."""

    token_key = BEARER_ACTOR


class BatchStatsTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <BATCH_STATS_API_TOKEN>``, compared in constant time. A
    bearer token that is wrong, or any while the setting is empty (unconfigured), is
    refused; another scheme (``Token …``) is left to the next authentication class."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[BatchStatsCaller, BatchStatsToken] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        expected = (settings.BATCH_STATS_API_TOKEN or "").encode()
        if len(parts) != 2 or not expected or not secrets.compare_digest(parts[1], expected):
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        return BatchStatsCaller(), BatchStatsToken()

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class BatchStatsTokenScheme(OpenApiAuthenticationExtension):
    target_class = BatchStatsTokenAuthentication
    name = "batchStatsToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "`Bearer <BATCH_STATS_API_TOKEN>`: the token set in the server's "
                "environment (spec 001); full rights on the purchasing endpoints."
            ),
        }


def _actor(request: Request) -> Actor:
    if isinstance(request.auth, BatchStatsToken):
        return Actor.system(BEARER_ACTOR)
    return Actor.from_request(request)


INVALID_TOKEN_RESPONSE = OpenApiResponse(
    inline_serializer("InvalidToken", {"detail": serializers.CharField()}),
    description=(
        'The token is missing, wrong or not configured: exactly `{"detail": "Invalid token"}` '
        "(`WWW-Authenticate: Bearer`)."
    ),
)


def _responses(answers: dict[int, Any]) -> dict[int, Any]:
    """The operation's answers, and the spec's 401 (instead of the API's error shape)."""
    return {**answers, 401: INVALID_TOKEN_RESPONSE}


class PurchasingView(ApiView):
    """The purchasing endpoints' auth: the bearer token first (its ``WWW-Authenticate``
    makes any missing credentials a 401), then user tokens and sessions; JSON bodies."""

    authentication_classes = [
        BatchStatsTokenAuthentication,
        ApiTokenAuthentication,
        authentication.SessionAuthentication,
    ]
    parser_classes = [JsonParser]  # the spec's bodies are JSON
    filter_backends: list = []  # the list has its own

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            response = Response(
                {"detail": INVALID_TOKEN},
                status=status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": BatchStatsTokenAuthentication.keyword},
            )
            response.exception = True
            return response
        return super().handle_exception(exc)  # type: ignore[misc]


@contextmanager
def _refusals() -> Iterator[None]:
    """A purchase or item gone meanwhile is a 404; a lock refused is a 409."""
    try:
        yield
    except (PurchaseNotFound, ItemNotFound) as exc:
        raise exceptions.NotFound(str(exc)) from exc
    except PurchaseLockError as exc:
        raise Conflict(str(exc), code="lock_refused") from exc


# --- serializers ---------------------------------------------------------------------------


class UtcDateTimeField(serializers.DateTimeField):
    """Times in UTC (``…Z``, as the spec's examples); one no database can hold is bad
    input, not a server error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default_timezone", dt.UTC)
        super().__init__(*args, **kwargs)


class UtcModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: UtcDateTimeField,
    }


class OfficialAccountDisplaySerializer(UtcModelSerializer):
    class Meta:
        model = OfficialAccount
        fields = ["id", "account_id", "email", "name"]
        read_only_fields = fields


class PurchaseItemSerializer(UtcModelSerializer):
    """An item as the spec's ``inventory_items`` show it, with its SKU and quantity."""

    sku_id = serializers.CharField(
        read_only=True, allow_null=True, help_text="Our SKU, once known."
    )

    class Meta:
        model = InventoryItem
        fields = [
            "id",
            "uuid",
            "flag",
            "status",
            "product_type",
            "created_at",
            "sku_id",
            "quantity",
        ]
        read_only_fields = fields


# The spec's field order.
PURCHASE_FIELDS = [
    "id",
    "uuid",
    "order_number",
    "official_account",
    "official_account_display",
    "batch_encoding",
    "batch_level_1",
    "batch_level_2",
    "batch_level_3",
    "created_at",
    "confirmed_at",
    "shipped_at",
    "estimated_website_arrival_date",
    "estimated_website_arrival_date_2",
    "tracking_number",
    "estimated_delivery_date",
    "shipping_method",
    "official_query_url",
    "delivery_status",
    "delivery_status_display",
    "latest_delivery_status",
    "delivery_status_query_time",
    "delivery_status_query_source",
    "last_info_updated_at",
    "account_used",
    "payment_method",
    "inventory_count",
    "inventory_items",
    "is_locked",
    "locked_at",
    "locked_by_worker",
    "is_deleted",
    "creation_source",
    "updated_at",
]


class PurchaseSerializer(UtcModelSerializer):
    official_account_display = OfficialAccountDisplaySerializer(
        source="official_account", read_only=True, allow_null=True
    )
    delivery_status_display = serializers.CharField(
        source="get_delivery_status_display",
        read_only=True,
        help_text="The status's label in the request's language (Accept-Language).",
    )
    inventory_count = serializers.SerializerMethodField(help_text="Its items.")
    inventory_items = PurchaseItemSerializer(
        source="purchasing_inventories", many=True, read_only=True
    )

    class Meta:
        model = Purchasing
        fields = PURCHASE_FIELDS
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.INT)
    def get_inventory_count(self, purchase: Purchasing) -> int:
        counted = getattr(purchase, "inventory_count", None)
        return counted if counted is not None else len(purchase.purchasing_inventories.all())


class PurchaseWriteSerializer(UtcModelSerializer):
    """The fields a client may write, all optional. A read-only field of the spec (or a
    name it does not know) is refused with a 400 naming it, as the services refuse it."""

    official_account = serializers.PrimaryKeyRelatedField(
        queryset=OfficialAccount.objects.all(),
        allow_null=True,
        required=False,
        pk_field=serializers.IntegerField(min_value=1, max_value=ID_MAX),
        help_text="The official account's id (null: none).",
    )

    class Meta:
        model = Purchasing
        fields = [field for field in PURCHASE_FIELDS if field in PURCHASE_EDITABLE_FIELDS]

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, Mapping):
            errors = {}
            for name in sorted(map(str, data)):
                if name in PURCHASE_READ_ONLY_FIELDS:
                    errors[name] = [str(MSG_PURCHASE_READ_ONLY % {"fields": name})]
                elif name not in PURCHASE_EDITABLE_FIELDS:
                    errors[name] = [str(MSG_PURCHASE_UNKNOWN_FIELDS % {"fields": name})]
            if errors:
                raise serializers.ValidationError(errors, code="read_only")
        return super().to_internal_value(data)


# Named as the item it writes: the item's status enum then belongs to one component.
@extend_schema_serializer(component_name="PurchaseItem")
class ItemWriteSerializer(serializers.Serializer):
    sku_id = serializers.CharField(
        max_length=SKU_ID_MAX_LENGTH,
        allow_null=True,
        required=False,
        help_text="Our SKU the item is (null: not known yet); an arrived item with a SKU "
        "counts its quantity in that SKU's stock.",
    )
    quantity = serializers.IntegerField(min_value=1, max_value=QUANTITY_LIMIT, required=False)
    status = serializers.ChoiceField(choices=InventoryItem.Status.choices, required=False)
    flag = serializers.CharField(max_length=50, allow_blank=True, required=False)
    product_type = serializers.CharField(
        max_length=50, allow_null=True, allow_blank=True, required=False
    )


class ItemIdsSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX),
        min_length=1,
        max_length=1000,
        help_text="The items to mark arrived (all or none).",
    )


class ClaimSerializer(serializers.Serializer):
    worker = serializers.CharField(max_length=WORKER_MAX_LENGTH, help_text="The worker's name.")
    limit = serializers.IntegerField(
        min_value=1, max_value=CLAIM_LIMIT_MAX, default=1, help_text="How many to claim at most."
    )
    delivery_status = serializers.ListField(
        child=serializers.ChoiceField(choices=Purchasing.DeliveryStatus.choices),
        required=False,
        help_text="Claim only purchases in these delivery statuses.",
    )


class ReleaseSerializer(serializers.Serializer):
    worker = serializers.CharField(
        max_length=WORKER_MAX_LENGTH, help_text="The worker holding the lock."
    )


# --- filters -------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class PurchaseFilter(django_filters.FilterSet):
    official_account = IdFilter(
        field_name="official_account_id",
        min_value=1,
        max_value=ID_MAX,
        help_text="The official account's id.",
    )
    is_locked = django_filters.BooleanFilter(help_text="Locked by a worker, or not.")
    is_deleted = django_filters.BooleanFilter(
        help_text="Soft-deleted purchases (`true`) or live ones (`false`); without it, live."
    )

    class Meta:
        model = Purchasing
        fields = [
            "delivery_status",
            "payment_method",
            "order_number",
            "official_account",
            "tracking_number",
            "batch_encoding",
            "batch_level_1",
            "batch_level_2",
            "batch_level_3",
            "creation_source",
            "is_locked",
            "is_deleted",
        ]

    def filter_queryset(self, queryset: Any) -> Any:
        queryset = super().filter_queryset(queryset)
        if self.form.cleaned_data.get("is_deleted") is None:
            queryset = queryset.filter(is_deleted=False)
        return queryset


class StableOrdering(OrderingFilter):
    """The ordering asked for, then the id (the same way), so pages never overlap."""

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> list[str]:
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if ordering and not any(field.lstrip("-") in ("id", "pk") for field in ordering):
            ordering.append("-id" if ordering[-1].startswith("-") else "id")
        return ordering


# --- views ---------------------------------------------------------------------------------


def _purchase(pk: int) -> Purchasing:
    """One purchase as the API shows it (soft-deleted ones too: their id names them)."""
    return get_object_or_404(purchase_list(include_deleted=True), pk=pk)


class PurchaseList(PurchasingView, generics.ListAPIView):
    """Purchases, newest first; soft-deleted ones only with `is_deleted`. POST creates one
    from the spec's writable fields (its uuid is generated; read-only fields are refused)."""

    required = {"GET": VIEW, "POST": ADD}
    serializer_class = PurchaseSerializer
    filterset_class = PurchaseFilter
    filter_backends = [DjangoFilterBackend, SearchFilter, StableOrdering]
    search_fields = ["uuid", "order_number", "tracking_number", "account_used", "batch_encoding"]
    ordering_fields = [
        "id",
        "created_at",
        "updated_at",
        "confirmed_at",
        "shipped_at",
        "estimated_website_arrival_date",
        "estimated_website_arrival_date_2",
        "estimated_delivery_date",
        "delivery_status_query_time",
        "last_info_updated_at",
        "order_number",
        "delivery_status",
        "tracking_number",
        "batch_encoding",
        "inventory_count",
    ]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> Any:
        purchases = purchase_list(include_deleted=True)
        if "inventory_count" in self.request.query_params.get("ordering", ""):
            purchases = with_item_count(purchases)
        return purchases

    @extend_schema(responses=_responses({200: PurchaseSerializer(many=True)}))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=PurchaseWriteSerializer, responses=_responses({201: PurchaseSerializer}))
    def post(self, request: Request) -> Response:
        data = PurchaseWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        purchase = purchase_create(actor=_actor(request), **data.validated_data)
        return Response(
            PurchaseSerializer(_purchase(purchase.pk)).data, status=status.HTTP_201_CREATED
        )


class PurchaseDetail(PurchasingView, generics.GenericAPIView):
    """One purchase (a soft-deleted one too, with `is_deleted` true). PATCH changes its
    writable fields; DELETE soft-deletes it (kept, hidden from lists and claims)."""

    required = {"GET": VIEW, "PATCH": CHANGE, "DELETE": CHANGE}
    serializer_class = PurchaseSerializer
    queryset = Purchasing.objects.none()  # for the schema

    @extend_schema(responses=_responses({200: PurchaseSerializer}))
    def get(self, request: Request, pk: int) -> Response:
        return Response(PurchaseSerializer(_purchase(pk)).data)

    @extend_schema(request=PurchaseWriteSerializer, responses=_responses({200: PurchaseSerializer}))
    def patch(self, request: Request, pk: int) -> Response:
        _purchase(pk)
        data = PurchaseWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        with _refusals():
            purchase_update(purchase_id=pk, actor=_actor(request), **data.validated_data)
        return Response(PurchaseSerializer(_purchase(pk)).data)

    @extend_schema(responses=_responses({204: None}))
    def delete(self, request: Request, pk: int) -> Response:
        get_object_or_404(Purchasing.objects.all(), pk=pk)
        with _refusals():
            purchase_delete(purchase_id=pk, actor=_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PurchaseClaim(PurchasingView, generics.GenericAPIView):
    """A worker locks up to `limit` live purchases that are unlocked (or whose lock
    expired) and gets them, oldest first; concurrent workers get different ones."""

    required = {"POST": CHANGE}
    serializer_class = PurchaseSerializer
    queryset = Purchasing.objects.none()  # for the schema
    pagination_class = None  # answers a plain list

    @extend_schema(
        request=ClaimSerializer, responses=_responses({200: PurchaseSerializer(many=True)})
    )
    def post(self, request: Request) -> Response:
        data = ClaimSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        with _refusals():
            claimed = purchase_claim(
                worker=values["worker"],
                limit=values["limit"],
                delivery_statuses=values.get("delivery_status"),
            )
        rows = purchase_list(include_deleted=True).filter(pk__in=[p.pk for p in claimed])
        return Response(PurchaseSerializer(rows.order_by("pk"), many=True).data)


class PurchaseRelease(PurchasingView, generics.GenericAPIView):
    """The worker holding a purchase's lock releases it; anyone else (or a purchase not
    locked) is refused with 409."""

    required = {"POST": CHANGE}
    serializer_class = PurchaseSerializer
    queryset = Purchasing.objects.none()  # for the schema

    @extend_schema(request=ReleaseSerializer, responses=_responses({200: PurchaseSerializer}))
    def post(self, request: Request, pk: int) -> Response:
        _purchase(pk)
        data = ReleaseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _refusals():
            purchase_release(purchase_id=pk, worker=data.validated_data["worker"])
        return Response(PurchaseSerializer(_purchase(pk)).data)


class PurchaseItems(PurchasingView, generics.GenericAPIView):
    """Add an item to a live purchase. Added `arrived` with a SKU, its quantity joins the
    SKU's stock at once (a RECEIPT event)."""

    required = {"POST": ITEM_ADD}
    serializer_class = PurchaseItemSerializer
    queryset = InventoryItem.objects.none()  # for the schema

    @extend_schema(request=ItemWriteSerializer, responses=_responses({201: PurchaseItemSerializer}))
    def post(self, request: Request, pk: int) -> Response:
        _purchase(pk)
        data = ItemWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _refusals():
            item = item_add(purchase_id=pk, actor=_actor(request), **data.validated_data)
        return Response(PurchaseItemSerializer(item).data, status=status.HTTP_201_CREATED)


class ItemDetail(PurchasingView, generics.GenericAPIView):
    """Change an item's status, SKU, quantity, flag or product type. Its stock follows the
    arrival rule: arriving adds its quantity once (a replay adds nothing), leaving
    `arrived` takes it back, a SKU or quantity change corrects by the difference."""

    required = {"PATCH": ITEM_CHANGE}
    serializer_class = PurchaseItemSerializer
    queryset = InventoryItem.objects.none()  # for the schema

    @extend_schema(request=ItemWriteSerializer, responses=_responses({200: PurchaseItemSerializer}))
    def patch(self, request: Request, item_id: int) -> Response:
        get_object_or_404(InventoryItem.objects.all(), pk=item_id)
        data = ItemWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        with _refusals():
            item = item_update(item_id=item_id, actor=_actor(request), **data.validated_data)
        return Response(PurchaseItemSerializer(item).data)


class ItemsArrived(PurchasingView, generics.GenericAPIView):
    """Mark several items arrived in one transaction (all or none); those arrived already
    add nothing."""

    required = {"POST": ITEM_CHANGE}
    serializer_class = PurchaseItemSerializer
    queryset = InventoryItem.objects.none()  # for the schema
    pagination_class = None  # answers a plain list

    @extend_schema(
        request=ItemIdsSerializer, responses=_responses({200: PurchaseItemSerializer(many=True)})
    )
    def post(self, request: Request) -> Response:
        data = ItemIdsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            items = items_mark_arrived(item_ids=data.validated_data["ids"], actor=_actor(request))
        except ItemNotFound as exc:
            raise exceptions.ValidationError({"ids": [str(exc)]}, code="not_found") from exc
        return Response(PurchaseItemSerializer(items, many=True).data)
