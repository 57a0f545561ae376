"""What the API reads and writes. Writes go through the services, never ``save()``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from events.models import AuditLog, InventoryEvent
from events.services import REASON_MAX_LENGTH
from skus.models import SET_COMPONENT_QUANTITY_MAX, Sku
from skus.sets import availability
from stores.models import AllocationRule, Store, StoreSku

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


class ComponentSerializer(serializers.Serializer):
    """One component of a set: the SKU and how many of it one set takes."""

    sku_id = serializers.CharField(max_length=100)
    quantity = serializers.IntegerField(min_value=1, max_value=SET_COMPONENT_QUANTITY_MAX)


class SkuSerializer(serializers.ModelSerializer):
    available = serializers.SerializerMethodField(
        help_text="The stock available now; for a set, what its components allow."
    )
    components = serializers.SerializerMethodField(
        help_text="A set's components (empty for a SKU that is not a set)."
    )
    low_stock_threshold = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Sku
        fields = [
            "sku_id",
            "original_sku",
            "sku_name",
            "environment",
            "status",
            "allow_oversell",
            "low_stock_threshold",
            "metadata",
            "aliases",
            "available",
            "components",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_available(self, sku: Sku) -> int:
        if hasattr(sku, "available_now"):
            return sku.available_now
        return availability([sku.sku_id])[sku.sku_id]

    @extend_schema_field(ComponentSerializer(many=True))
    def get_components(self, sku: Sku) -> list[dict[str, Any]]:
        return [
            {"sku_id": part.component_id, "quantity": part.quantity}
            for part in sorted(sku.components.all(), key=lambda part: part.component_id)
        ]


class SkuCreateSerializer(serializers.Serializer):
    sku_id = serializers.CharField(max_length=100)
    sku_name = serializers.CharField(max_length=200)
    environment = serializers.ChoiceField(choices=Sku.Environment.choices, default="prod")
    allow_oversell = serializers.BooleanField(default=False)
    initial_stock = serializers.IntegerField(
        required=False, min_value=-(2**31), max_value=2**31 - 1
    )
    metadata = serializers.DictField(required=False, default=dict)
    low_stock_threshold = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=2**31 - 1
    )
    components = ComponentSerializer(
        many=True,
        required=False,
        help_text="Make the new SKU a set of these components (it then has no stock of its own).",
    )


class SkuUpdateSerializer(serializers.Serializer):
    """The editable fields of a SKU; anything price-like is refused by name."""

    sku_name = serializers.CharField(max_length=200, required=False)
    allow_oversell = serializers.BooleanField(required=False)
    environment = serializers.ChoiceField(choices=Sku.Environment.choices, required=False)
    status = serializers.ChoiceField(choices=Sku.Status.choices, required=False)
    metadata = serializers.DictField(required=False)
    aliases = serializers.DictField(required=False)
    low_stock_threshold = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=2**31 - 1
    )
    components = ComponentSerializer(
        many=True,
        required=False,
        help_text="The set's components, replacing the ones it has; [] makes it a plain SKU.",
    )

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


class StepSerializer(serializers.Serializer):
    rule = serializers.CharField(help_text="zero_below, share, buffer, cap, platform or floor.")
    value = serializers.IntegerField()
    before = serializers.IntegerField()
    after = serializers.IntegerField()
    source = serializers.CharField(
        help_text="sku_window, store_window, sku, store, registration_safety, store_safety, "
        "platform or floor."
    )
    rule_id = serializers.IntegerField(allow_null=True)
    until = serializers.DateTimeField(allow_null=True)
    text = serializers.CharField(help_text="The step in words, in the request's language.")


class StoreShownSerializer(serializers.Serializer):
    store_id = serializers.CharField()
    safety_stock = serializers.IntegerField(help_text="The units held back (the buffer in force).")
    should_show = serializers.IntegerField()
    steps = StepSerializer(many=True, help_text="Each rule applied, in order, with its effect.")
    last_pushed_quantity = serializers.IntegerField(allow_null=True)
    last_pushed_at = serializers.DateTimeField(allow_null=True)
    push_pending = serializers.BooleanField()
    push_status = serializers.CharField(allow_null=True, help_text="pending, in_progress, failed.")
    push_error = serializers.CharField(allow_blank=True)
    in_step = serializers.BooleanField(
        help_text="The store was last told what it should show and nothing waits to go."
    )


class ComponentStockSerializer(serializers.Serializer):
    sku_id = serializers.CharField()
    quantity = serializers.IntegerField()
    available = serializers.IntegerField()
    allows = serializers.IntegerField(help_text="Sets this component allows.")


class RecentEventSerializer(serializers.Serializer):
    event_id = serializers.UUIDField()
    sku_id = serializers.CharField()
    event_type = serializers.CharField()
    quantity = serializers.IntegerField()
    balance_after = serializers.IntegerField()
    store_id = serializers.CharField(allow_null=True)
    order_id = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()


class InventorySerializer(serializers.Serializer):
    sku_id = serializers.CharField()
    original_sku = serializers.CharField()
    available = serializers.IntegerField(help_text="For a set: what its components allow.")
    allow_oversell = serializers.BooleanField()
    components = ComponentStockSerializer(many=True)
    stores = StoreShownSerializer(many=True)
    recent_events = RecentEventSerializer(
        many=True, help_text="The last changes of the stock behind it (a set's components')."
    )


class AllocationRuleSerializer(serializers.ModelSerializer):
    store_id = serializers.CharField(read_only=True)
    # The same range on every database (a model's positive integer is 64-bit on SQLite).
    value = serializers.IntegerField(
        min_value=0, max_value=2**31 - 1, help_text="Units, or a percentage for a share."
    )
    sku_id = serializers.CharField(
        allow_null=True, required=False, help_text="Empty: every SKU of the store."
    )

    class Meta:
        model = AllocationRule
        fields = [
            "id",
            "store_id",
            "sku_id",
            "kind",
            "value",
            "starts_at",
            "ends_at",
            "note",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "store_id", "created_at", "updated_at"]


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
