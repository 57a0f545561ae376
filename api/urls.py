"""/api/: the spec's endpoints (paths as it names them, without a trailing slash), the
tokens, the OpenAPI schema and its docs."""

from django.urls import include, path, re_path, register_converter
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from .base import not_found
from .views import allocation, catalog, ledger, sync, tokens

app_name = "api"


class IdConverter:
    """A row id: 1 to 18 digits (ids are 64-bit; a longer number is no id, so a 404)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")

urlpatterns = [
    path("stores", catalog.StoreList.as_view(), name="stores"),
    path("stores/<str:store_id>", catalog.StoreDetail.as_view(), name="store"),
    path("stores/<str:store_id>/skus", catalog.StoreSkus.as_view(), name="store_skus"),
    path(
        "stores/<str:store_id>/allocation-rules",
        allocation.AllocationRules.as_view(),
        name="allocation_rules",
    ),
    path(
        "stores/<str:store_id>/allocation-rules/<id:rule_id>",
        allocation.AllocationRuleDetail.as_view(),
        name="allocation_rule",
    ),
    path("stores/<str:store_id>/sync-skus", sync.SkuSync.as_view(), name="sku_sync"),
    path(
        "stores/<str:store_id>/sku-sync-status",
        sync.SkuSyncStatus.as_view(),
        name="sku_sync_status",
    ),
    path("stores/<str:store_id>/auth-test", sync.AuthTest.as_view(), name="auth_test"),
    path("stores/<str:store_id>/poll", sync.Poll.as_view(), name="poll"),
    # The same as POST /api/sync/{store_id}, for a store whose id is "failed".
    path("stores/<str:store_id>/push", sync.PushAll.as_view(), name="store_push"),
    path("skus", catalog.SkuList.as_view(), name="skus"),
    path("skus/<str:sku_id>", catalog.SkuDetail.as_view(), name="sku"),
    path(
        "skus/<str:sku_id>/registrations",
        catalog.SkuRegistrations.as_view(),
        name="sku_registrations",
    ),
    path("inventory/<str:sku_id>", catalog.Inventory.as_view(), name="inventory"),
    path("events/manual", ledger.ManualAdjustment.as_view(), name="adjust"),
    path("events/<str:sku_id>", ledger.Timeline.as_view(), name="timeline"),
    path("audit/logs", ledger.AuditLogs.as_view(), name="audit_logs"),
    path("audit/oversell", ledger.Oversells.as_view(), name="oversell"),
    path("sync/failed", sync.FailedSyncs.as_view(), name="failed"),
    path("sync/failed/retry", sync.FailedRetry.as_view(), name="failed_retry"),
    path("sync/<str:store_id>", sync.PushAll.as_view(), name="push_all"),
    path("runs/<id:pk>", sync.Run.as_view(), name="run"),
    path("audit/reconcile", sync.Reconcile.as_view(), name="reconcile"),
    path("rakuten/auth-test", sync.RakutenAuthTest.as_view(), name="rakuten_auth_test"),
    path("rakuten/manual-poll", sync.RakutenManualPoll.as_view(), name="rakuten_manual_poll"),
    path("test/reset", sync.TestReset.as_view(), name="test_reset"),
    path("import/", include("api.urls_imports")),
    path("aggregation/purchasing/", include("api.urls_purchasing")),
    path("tokens", tokens.Tokens.as_view(), name="tokens"),
    path("tokens/<str:token_key>", tokens.TokenRevoke.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    re_path(r"^[\s\S]*$", not_found),  # last: any other path (newlines too): a JSON 404
]
