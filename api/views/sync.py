"""The engine over the API: SKU syncs, pushes, polls and auth tests of any store's platform
(and the spec's /api/rakuten/... for Rakuten stores), runs, failed syncs, reconciliation
and the test reset."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from events.actors import Actor
from events.models import PendingPush
from events.selectors import snapshot_drift
from skus.services import env_test_reset
from stores.models import Store
from sync.catalog import sku_sync_start
from sync.models import SyncRun
from sync.orders import poll_start
from sync.push import failed_syncs_retry, push_all_start
from sync.selectors import latest_runs
from sync.services import store_auth_test

from ..base import ApiView

RUN_SYNC = "sync.run_sync"
ID_MAX = 2**63 - 1  # the ids are 64-bit


class RunSerializer(serializers.ModelSerializer):
    store_id = serializers.CharField(read_only=True, allow_null=True)
    total = serializers.SerializerMethodField()
    percent = serializers.IntegerField(read_only=True, allow_null=True)
    log = serializers.SerializerMethodField()

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "store_id",
            "kind",
            "status",
            "operator",
            "started_at",
            "finished_at",
            "counts",
            "total",
            "percent",
            "error",
            "log",
        ]
        read_only_fields = fields

    def get_total(self, run: SyncRun) -> int | None:
        return run.details.get("total")

    def get_log(self, run: SyncRun) -> list[str]:
        return run.log.splitlines()[-50:]


def _accepted(run: SyncRun) -> Response:
    data = RunSerializer(run).data
    data["url"] = f"/api/runs/{run.pk}"
    return Response(data, status=status.HTTP_202_ACCEPTED)


ACCEPTED_RUN = inline_serializer(
    "AcceptedRun",
    {
        "id": serializers.IntegerField(),
        "status": serializers.CharField(),
        "url": serializers.CharField(),
    },
)
QUEUED_FIELDS = {"queued": serializers.BooleanField(), "store_id": serializers.CharField()}
QUEUED = inline_serializer("Queued", QUEUED_FIELDS)
AUTH_FIELDS = {
    "store_id": serializers.CharField(),
    "ok": serializers.BooleanField(),
    "message": serializers.CharField(),
    "expires_at": serializers.DateTimeField(allow_null=True),
}
AUTH_RESULT = inline_serializer("AuthResult", AUTH_FIELDS)


def _store(store_id: str, platform: str | None = None) -> Store:
    stores = Store.objects.all()
    if platform:
        stores = stores.filter(platform_type=platform)
    return get_object_or_404(stores, pk=store_id)


def _auth(store: Store) -> dict[str, Any]:
    ok, message = store_auth_test(store_id=store.store_id)
    store.refresh_from_db(fields=["license_expires_at"])
    return {
        "store_id": store.store_id,
        "ok": ok,
        "message": message,
        "expires_at": store.license_expires_at,
    }


class Run(ApiView, generics.RetrieveAPIView):
    """A run's status and progress (SKU sync, push, poll, import…) and the end of its log."""

    required = {"GET": "sync.view_syncrun"}
    serializer_class = RunSerializer
    queryset = SyncRun.objects.all()

    def check_permissions(self, request: Request) -> None:
        # Whoever may import follows their own import, as on the pages.
        run = SyncRun.objects.filter(pk=self.kwargs["pk"]).only("kind", "operator").first()
        if (
            run is not None
            and run.kind == SyncRun.Kind.IMPORT
            and request.user.is_authenticated
            and request.user.is_staff
            and run.operator == request.user.get_username()
            and request.user.has_perm("imports.add_uploadedfile")
        ):
            return
        super().check_permissions(request)


class SkuSync(ApiView, generics.GenericAPIView):
    """Start a SKU sync from the store's platform; follow it at the returned url."""

    required = {"POST": RUN_SYNC}
    serializer_class = RunSerializer

    @extend_schema(request=None, responses={202: ACCEPTED_RUN})
    def post(self, request: Request, store_id: str) -> Response:
        store = _store(store_id)
        return _accepted(sku_sync_start(store_id=store.store_id, actor=Actor.from_request(request)))


class SkuSyncStatus(ApiView, generics.GenericAPIView):
    """The store's latest SKU sync (404 when it never had one)."""

    required = {"GET": ("stores.view_store", "sync.view_syncrun")}
    serializer_class = RunSerializer

    def get(self, request: Request, store_id: str) -> Response:
        store = _store(store_id)
        run = latest_runs(SyncRun.Kind.SKU_SYNC, [store.store_id]).get(store.store_id)
        if run is None:
            raise Http404(_("This store has had no SKU sync yet."))
        return Response(RunSerializer(run).data)


class PushAll(ApiView, generics.GenericAPIView):
    """Push every registered SKU of the store now (the spec's manual sync)."""

    required = {"POST": RUN_SYNC}
    serializer_class = RunSerializer

    @extend_schema(request=None, responses={202: ACCEPTED_RUN})
    def post(self, request: Request, store_id: str) -> Response:
        store = _store(store_id)
        return _accepted(push_all_start(store_id=store.store_id, actor=Actor.from_request(request)))


class Poll(ApiView, generics.GenericAPIView):
    """Poll the store's orders now (queued; its run shows in the store's runs)."""

    required = {"POST": RUN_SYNC}
    serializer_class = RunSerializer
    platform: str | None = None

    @extend_schema(request=None, responses={202: QUEUED})
    def post(self, request: Request, store_id: str) -> Response:
        store = _store(store_id, self.platform)
        poll_start(store_id=store.store_id, actor=Actor.from_request(request))
        return Response({"queued": True, "store_id": store.store_id}, status=202)


class AuthTest(ApiView, generics.GenericAPIView):
    """Ask the store's platform whether it accepts the store's credentials."""

    required = {"POST": RUN_SYNC}
    serializer_class = RunSerializer

    @extend_schema(request=None, responses={200: AUTH_RESULT})
    def post(self, request: Request, store_id: str) -> Response:
        return Response(_auth(_store(store_id)))


STORE_PARAM = inline_serializer("StoreChoice", {"store_id": serializers.CharField()})


class RakutenAuthTest(ApiView, generics.GenericAPIView):
    """The spec's auth test: every active Rakuten store's credentials (or ``?store_id=``)."""

    required = {"GET": RUN_SYNC}
    serializer_class = RunSerializer
    queryset = Store.objects.none()  # for the schema

    @extend_schema(responses={200: inline_serializer("AuthResults", AUTH_FIELDS, many=True)})
    def get(self, request: Request) -> Response:
        stores = Store.objects.filter(platform_type=Store.Platform.RAKUTEN).order_by("store_id")
        store_id = request.query_params.get("store_id")
        if store_id:
            stores = [_store(store_id, Store.Platform.RAKUTEN)]
        else:
            stores = stores.filter(status=Store.Status.ACTIVE)
        return Response([_auth(store) for store in stores])


class RakutenManualPoll(ApiView, generics.GenericAPIView):
    """The spec's manual poll: a Rakuten store's orders now (``store_id``; without it,
    every active Rakuten store)."""

    required = {"POST": RUN_SYNC}
    serializer_class = RunSerializer
    queryset = Store.objects.none()  # for the schema

    @extend_schema(
        request=STORE_PARAM,
        responses={202: inline_serializer("QueuedMany", QUEUED_FIELDS, many=True)},
    )
    def post(self, request: Request) -> Response:
        store_id = request.data.get("store_id") if hasattr(request.data, "get") else None
        if store_id:
            stores = [_store(str(store_id), Store.Platform.RAKUTEN)]
        else:
            stores = list(
                Store.objects.filter(
                    platform_type=Store.Platform.RAKUTEN, status=Store.Status.ACTIVE
                ).order_by("store_id")
            )
        actor = Actor.from_request(request)
        for store in stores:
            poll_start(store_id=store.store_id, actor=actor)
        return Response([{"queued": True, "store_id": s.store_id} for s in stores], status=202)


class FailedPushSerializer(serializers.ModelSerializer):
    store_id = serializers.CharField(read_only=True)
    sku_id = serializers.CharField(read_only=True)
    platform = serializers.CharField(source="store.platform_type", read_only=True)

    class Meta:
        model = PendingPush
        fields = ["id", "store_id", "platform", "sku_id", "attempts", "last_error", "updated_at"]
        read_only_fields = fields


class FailedSyncs(ApiView, generics.ListAPIView):
    """Pushes that failed after their last attempt (kept until retried)."""

    required = {"GET": "events.view_pendingpush"}
    serializer_class = FailedPushSerializer
    ordering_fields = ["store_id", "sku_id", "updated_at"]
    ordering = ["store_id", "sku_id"]

    def get_queryset(self) -> Any:
        rows = PendingPush.objects.filter(status=PendingPush.Status.FAILED).select_related("store")
        store_id = self.request.query_params.get("store")
        return rows.filter(store_id=store_id) if store_id else rows


class RetrySerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX),
        required=False,
        help_text="The failed pushes to retry (their ids); none given: every failed one.",
    )


class FailedRetry(ApiView, generics.GenericAPIView):
    """Retry failed pushes now: those named by ``ids``, or every failed one."""

    required = {"POST": RUN_SYNC}
    serializer_class = FailedPushSerializer

    @extend_schema(
        request=RetrySerializer,
        responses={200: inline_serializer("Retried", {"retried": serializers.IntegerField()})},
    )
    def post(self, request: Request) -> Response:
        data = RetrySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        push_ids = data.validated_data.get("ids")
        retried = failed_syncs_retry(actor=Actor.from_request(request), push_ids=push_ids)
        return Response({"retried": retried})


class Reconcile(ApiView, generics.GenericAPIView):
    """The ledger's own check (snapshots against the sum of events) and each store's latest
    reconcile run (what the store shows against what we last told it)."""

    required = {"GET": "events.view_inventorysnapshot"}
    serializer_class = RunSerializer

    @extend_schema(
        responses={
            200: inline_serializer(
                "Reconciliation",
                {
                    "ledger_ok": serializers.BooleanField(),
                    "ledger_drift": serializers.ListField(child=serializers.DictField()),
                    "stores": serializers.ListField(child=serializers.DictField()),
                },
            )
        }
    )
    def get(self, request: Request) -> Response:
        drift = snapshot_drift()
        store_ids = list(Store.objects.order_by("store_id").values_list("store_id", flat=True))
        latest = latest_runs(SyncRun.Kind.RECONCILE, store_ids)
        return Response(
            {
                "ledger_ok": not drift,
                "ledger_drift": [
                    {"sku_id": d.sku_id, "snapshot": d.snapshot, "ledger": d.ledger} for d in drift
                ],
                "stores": [
                    {
                        "store_id": store_id,
                        "run": RunSerializer(latest[store_id]).data,
                        "drift": latest[store_id].details.get("drift", []),
                    }
                    for store_id in store_ids
                    if store_id in latest
                ],
            }
        )


class TestReset(ApiView, generics.GenericAPIView):
    """Put the test environment (ce1111) back to its known stock. Only in test mode."""

    required = {"POST": "events.reset_test_data"}
    serializer_class = RunSerializer

    @extend_schema(
        request=None,
        responses={200: inline_serializer("Reset", {"events": serializers.IntegerField()})},
    )
    def post(self, request: Request) -> Response:
        if not settings.INVENTORY_TEST_MODE:
            raise Http404(_("The test reset exists only in test mode."))
        events = env_test_reset(actor=Actor.from_request(request))
        return Response({"events": len(events)})
