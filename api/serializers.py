"""What the API reads and writes. Writes go through the services, never ``save()``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from events.models import AuditLog, InventoryEvent
from events.services import REASON_MAX_LENGTH
from skus.models import Sku
from stores.models import Store, StoreSku

from .models import ApiToken

MSG_PRICE_REFUSED = _("Inventory Sync keeps no prices: %(fields)s refused.")
PRICE_HINTS = ("price", "価格", "cost", "amount")


class StoreSerializer(serializers.ModelSerializer):
    credentials = serializers.SerializerMethodField(
        help_text="Each credential masked (never in full)."
    )
    registered_skus = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Store
        fields = [
            "store_id",
            "store_name",
            "platform_type",
            "status",
            "safety_stock",
            "reconcile_repairs",
            "api_config",
            "credentials",
            "registered_skus",
            "last_sku_sync_at",
            "license_expires_at",
            "last_auth_test_at",
            "last_auth_error",
            "created_at",
        ]
        read_only_fields = fields

    def get_credentials(self, store: Store) -> dict[str, str]:
        return store.credentials_masked


class StoreCreateSerializer(serializers.Serializer):
    store_id = serializers.CharField(max_length=50)
    store_name = serializers.CharField(max_length=100)
    platform_type = serializers.ChoiceField(choices=Store.Platform.choices)
    status = serializers.ChoiceField(choices=Store.Status.choices, default=Store.Status.ACTIVE)
    safety_stock = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0)
    api_config = serializers.DictField(required=False, default=dict)
    credentials = serializers.DictField(
        child=serializers.CharField(max_length=500, allow_blank=True),
        required=False,
        default=dict,
        write_only=True,
        help_text="The platform's credentials (encrypted at rest, never returned).",
    )


class SkuSerializer(serializers.ModelSerializer):
    available = serializers.IntegerField(
        source="snapshot.internal_available", read_only=True, default=0
    )

    class Meta:
        model = Sku
        fields = [
            "sku_id",
            "original_sku",
            "sku_name",
            "environment",
            "status",
            "allow_oversell",
            "metadata",
            "aliases",
            "available",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SkuCreateSerializer(serializers.Serializer):
    sku_id = serializers.CharField(max_length=100)
    sku_name = serializers.CharField(max_length=200)
    environment = serializers.ChoiceField(choices=Sku.Environment.choices, default="prod")
    allow_oversell = serializers.BooleanField(default=False)
    initial_stock = serializers.IntegerField(
        required=False, min_value=-(2**31), max_value=2**31 - 1
    )
    metadata = serializers.DictField(required=False, default=dict)


class SkuUpdateSerializer(serializers.Serializer):
    """The editable fields of a SKU; anything price-like is refused by name."""

    sku_name = serializers.CharField(max_length=200, required=False)
    allow_oversell = serializers.BooleanField(required=False)
    environment = serializers.ChoiceField(choices=Sku.Environment.choices, required=False)
    status = serializers.ChoiceField(choices=Sku.Status.choices, required=False)
    metadata = serializers.DictField(required=False)
    aliases = serializers.DictField(required=False)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            priced = sorted(k for k in data if any(h in str(k).lower() for h in PRICE_HINTS))
            if priced:
                raise serializers.ValidationError(
                    {key: [MSG_PRICE_REFUSED % {"fields": ", ".join(priced)}] for key in priced},
                    code="price_refused",
                )
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {key: [_("Not a field of a SKU, or not editable.")] for key in unknown},
                    code="not_editable",
                )
        return super().to_internal_value(data)


class RegistrationSerializer(serializers.ModelSerializer):
    sku_id = serializers.CharField(read_only=True)
    store_id = serializers.CharField(read_only=True)
    original_sku = serializers.CharField(source="sku.original_sku", read_only=True)
    keys = serializers.SerializerMethodField(help_text="The listing's keys on the platform.")

    class Meta:
        model = StoreSku
        fields = [
            "store_id",
            "sku_id",
            "original_sku",
            "keys",
            "safety_stock",
            "registered_at",
            "last_pushed_quantity",
            "last_pushed_at",
        ]
        read_only_fields = fields

    def get_keys(self, registration: StoreSku) -> dict[str, str]:
        return self.context.get("keys", {}).get(registration.pk, {})


class InventorySerializer(serializers.Serializer):
    sku_id = serializers.CharField()
    original_sku = serializers.CharField()
    available = serializers.IntegerField()
    allow_oversell = serializers.BooleanField()
    stores = serializers.ListField(child=serializers.DictField())


class EventSerializer(serializers.ModelSerializer):
    sku_id = serializers.CharField(read_only=True)
    store_id = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = InventoryEvent
        fields = [
            "event_id",
            "sku_id",
            "event_type",
            "quantity",
            "balance_after",
            "oversold",
            "store_id",
            "order_id",
            "platform_status",
            "operator",
            "reason",
            "source",
            "created_at",
        ]
        read_only_fields = fields


class AdjustSerializer(serializers.Serializer):
    sku_id = serializers.CharField(max_length=100)
    quantity = serializers.IntegerField(min_value=-(2**31), max_value=2**31 - 1)
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)
    idempotency_key = serializers.CharField(
        max_length=100,
        required=False,
        help_text=(
            "Any string unique to this adjustment (or the Idempotency-Key header): sending "
            "it again returns the same event instead of adjusting twice."
        ),
    )

    def validate_quantity(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError(_("The quantity must not be 0."))
        return value


class AuditLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditLog
        fields = ["log_id", "user", "action", "details", "ip", "created_at"]
        read_only_fields = fields


class TokenSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.get_username", read_only=True)

    class Meta:
        model = ApiToken
        fields = ["token_key", "name", "user", "created", "expiry", "last_used_at"]
        read_only_fields = fields


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, allow_blank=True, default="")
    expires_in_days = serializers.IntegerField(
        min_value=1,
        max_value=3650,
        required=False,
        allow_null=True,
        help_text="Days until the token expires (default: API_TOKEN_DAYS); null: never.",
    )
