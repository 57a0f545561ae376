"""The move of the engine from rakuten to sync keeps every row of a database made by the
previous release: rows are written through the previous release's historical models,
the migrations run forwards (and back, and forwards again), and every row is compared.

Each test leaves the database at the latest migrations, even when it fails."""

import datetime as dt
import importlib
from typing import Any

import pytest
from django.apps import apps as global_apps
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Sum

from stores.crypto import encrypt_secret

pytestmark = pytest.mark.django_db(transaction=True)

# The previous release's leaf migrations (sync did not exist).
PREVIOUS_RELEASE = [
    ("skus", "0001_initial"),
    ("stores", "0003_store_last_auth_error_store_last_auth_test_at_and_more"),
    ("events", "0004_job_runs_import_and_audit"),
    ("imports", "0001_initial"),
    ("rakuten", "0005_plural_names"),
]
OUR_APPS = {
    "skus",
    "stores",
    "events",
    "imports",
    "rakuten",
    "sync",
    "futureshop",
    "ebay",
    "api",
    "purchasing",
}
# Apps the previous release did not have: unapplied entirely to go back to it.
NEW_APPS = [("sync", None), ("futureshop", None), ("ebay", None), ("purchasing", None)]

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)

STORES = ["tokyo", "osaka"]
SKUS = ["cup-1", "mug-2", "plate-3", "bowl-4", "spoon-5", "fork-6"]
# (store, sku, manage_number, variant_id, merchant_sku_id): some with RMS ids, some without.
REGISTRATIONS = [
    ("tokyo", "cup-1", "cup-1", "Red-S", "CUP-1-RED-S"),
    ("tokyo", "mug-2", "mug-2", "", "MUG-2"),
    ("tokyo", "plate-3", "", "", ""),
    ("tokyo", "bowl-4", "", "", "BOWL-4"),
    ("osaka", "cup-1", "cup-1", "Red-S", ""),
    ("osaka", "spoon-5", "", "", ""),
    ("osaka", "fork-6", "fork-6", "blue-l", "Fork6"),
]
# (store, order number, progress, final, confirm_status, attempts, next_at, error)
ORDERS = [
    ("tokyo", "100001-20261120-0000001", 100, False, "pending", 0, T0, ""),
    ("tokyo", "100001-20261120-0000002", 300, False, "done", 1, None, ""),
    ("tokyo", "100001-20261120-0000003", 900, True, "", 0, None, ""),
    ("tokyo", "100001-20261120-0000004", 500, True, "", 0, None, ""),
    ("osaka", "100001-20261120-0000001", 100, False, "failed", 8, None, "HTTP 500: ES00-01"),
    (
        "osaka",
        "200002-20261120-0000009",
        200,
        False,
        "pending",
        2,
        T0 + dt.timedelta(hours=1),
        "timeout",
    ),
    ("osaka", "200002-20261120-0000010", 800, False, "", 0, None, ""),
]
LONG = ("m" * 64, "V" * 64, "S" * 96)
# (order index, position, sku, units, deleted, manage_number, variant_id, merchant_sku_id,
#  listing, listing_label) with the listing and label the migration must write.
LINES = [
    (
        0,
        1,
        "cup-1",
        2,
        False,
        "cup-1",
        "Red-S",
        "CUP-1-RED-S",
        {"manage_number": "cup-1", "variant_id": "Red-S", "merchant_sku_id": "CUP-1-RED-S"},
        "cup-1/Red-S (CUP-1-RED-S)",
    ),
    (
        0,
        2,
        None,
        1,
        False,
        "unknown-item",
        "x1",
        "",
        {"manage_number": "unknown-item", "variant_id": "x1"},
        "unknown-item/x1",
    ),
    (
        1,
        1,
        "mug-2",
        1,
        False,
        "mug-2",
        "",
        "MUG-2",
        {"manage_number": "mug-2", "variant_id": "", "merchant_sku_id": "MUG-2"},
        "mug-2/ (MUG-2)",
    ),
    (
        1,
        2,
        "bowl-4",
        4,
        True,
        "",
        "",
        "BOWL-4",
        {"manage_number": "", "variant_id": "", "merchant_sku_id": "BOWL-4"},
        "/ (BOWL-4)",
    ),
    (
        2,
        1,
        "cup-1",
        3,
        False,
        "cup-1",
        "Red-S",
        "",
        {"manage_number": "cup-1", "variant_id": "Red-S"},
        "cup-1/Red-S",
    ),
    (
        3,
        1,
        "mug-2",
        1,
        False,
        "mug-2",
        "",
        "",
        {"manage_number": "mug-2", "variant_id": ""},
        "mug-2/",
    ),
    (
        4,
        1,
        "fork-6",
        5,
        False,
        "fork-6",
        "blue-l",
        "Fork6",
        {"manage_number": "fork-6", "variant_id": "blue-l", "merchant_sku_id": "Fork6"},
        "fork-6/blue-l (Fork6)",
    ),
    (
        5,
        1,
        "cup-1",
        1,
        False,
        *LONG,
        {"manage_number": LONG[0], "variant_id": LONG[1], "merchant_sku_id": LONG[2]},
        f"{LONG[0]}/{LONG[1]} ({LONG[2]})"[:200],
    ),
    (
        6,
        1,
        "spoon-5",
        2,
        False,
        "spoon-5",
        "",
        "",
        {"manage_number": "spoon-5", "variant_id": ""},
        "spoon-5/",
    ),
]
# (order index, sku, taken, events, confirmed_recorded)
SKU_STATES = [
    (0, "cup-1", 2, 1, False),
    (1, "mug-2", 1, 2, True),
    (1, "bowl-4", 0, 2, True),
    (2, "cup-1", 0, 2, False),
    (3, "mug-2", 1, 3, True),
    (4, "fork-6", 5, 1, False),
    (5, "cup-1", 1, 1, False),
    (6, "spoon-5", 2, 2, True),
]
# (store, kind, status, counts, log, error)
RUNS = [
    ("tokyo", "poll", "succeeded", {"orders": 4, "events": 6}, "searched 4 orders\n", ""),
    ("tokyo", "push", "partial", {"pushed": 3, "failed": 1}, "cup-1: 18\n", "1 failed"),
    ("tokyo", "confirm", "failed", {"confirmed": 0}, "", "HTTP 500"),
    ("osaka", "sku_sync", "running", {"items": 2}, "page 1\n", ""),
    ("osaka", "reconcile", "cancelled", {"checked": 7}, "", ""),
    ("tokyo", "import", "succeeded", {"rows": 6}, "stock.csv\n", ""),
    ("osaka", "poll", "skipped", {}, "", ""),
]

# How the previous release's permissions are named now (content types moved, codenames
# follow the models' new names).
MOVED_MODELS = {
    "joblease": "joblease",
    "pollstate": "pollstate",
    "syncrun": "syncrun",
    "rakutenorder": "order",
    "rakutenorderline": "orderline",
    "orderskustate": "orderskustate",
}
VIEWER_GAINS = {
    ("sync", "view_order"),
    ("sync", "view_orderline"),
    ("rakuten", "view_rakutenbinding"),
    ("rakuten", "view_rakutenorderconfirmation"),
    ("sync", "view_syncrun"),
    ("futureshop", "view_futureshopbinding"),
    ("ebay", "view_ebaybinding"),
    ("ebay", "view_ebaylisting"),
    ("purchasing", "view_officialaccount"),
    ("purchasing", "view_purchasing"),
    ("purchasing", "view_inventoryitem"),
    ("stores", "view_allocationrule"),
    ("skus", "view_skucomponent"),
}
OPERATOR_GAINS = {
    ("purchasing", "add_purchasing"),
    ("purchasing", "change_purchasing"),
    ("purchasing", "add_inventoryitem"),
    ("purchasing", "change_inventoryitem"),
}
ADMIN_GAINS = {
    ("api", "view_apitoken"),
    ("api", "delete_apitoken"),
    ("purchasing", "add_officialaccount"),
    ("purchasing", "change_officialaccount"),
    ("stores", "add_allocationrule"),
    ("stores", "change_allocationrule"),
    ("stores", "delete_allocationrule"),
}


def migrate_to_previous_release():
    """The database as the previous release left it; its historical models."""
    executor = MigrationExecutor(connection)
    others = [node for node in executor.loader.graph.leaf_nodes() if node[0] not in OUR_APPS]
    executor.migrate([*PREVIOUS_RELEASE, *NEW_APPS])
    executor.loader.build_graph()
    ContentType.objects.clear_cache()
    return executor.loader.project_state([*others, *PREVIOUS_RELEASE]).apps


def migrate_to_latest():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()


def migrate_to_latest_even_emptied():
    """Fully migrated again whatever happened: the other tests need the latest schema.

    When a migration fails on this test's rows (it rolls back, the failure is reported by
    the test), the database is emptied so that the migrations can still run, and the
    failure is raised again."""
    try:
        migrate_to_latest()
    except Exception:
        tables = [
            table
            for table in connection.introspection.table_names()
            if table != "django_migrations"
        ]
        connection.ops.execute_sql_flush(
            connection.ops.sql_flush(no_style(), tables, allow_cascade=True)
        )
        migrate_to_latest()
        raise


@pytest.fixture
def old_apps():
    try:
        yield migrate_to_previous_release()
    finally:
        migrate_to_latest_even_emptied()


def rows(model) -> list[dict[str, Any]]:
    return list(model.objects.order_by("pk").values())


def without(row: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name not in names}


def permission_names(permissions) -> set[tuple[str, str]]:
    return set(permissions.values_list("content_type__app_label", "codename"))


def renamed(permission: tuple[str, str]) -> tuple[str, str]:
    app_label, codename = permission
    action, _, model = codename.partition("_")
    if app_label == "rakuten" and model in MOVED_MODELS:
        return ("sync", f"{action}_{MOVED_MODELS[model]}")
    if (app_label, codename) == ("rakuten", "run_sync"):
        return ("sync", "run_sync")
    return permission


def previous_release_fill(old) -> None:
    """What a shop running the previous release has: stores, SKUs, a ledger, orders,
    confirmations, runs, a lease, uploads, groups and a user with permissions."""
    Store = old.get_model("stores", "Store")
    StoreSku = old.get_model("stores", "StoreSku")
    Sku = old.get_model("skus", "Sku")
    InventoryEvent = old.get_model("events", "InventoryEvent")
    InventorySnapshot = old.get_model("events", "InventorySnapshot")
    AuditLog = old.get_model("events", "AuditLog")
    PendingPush = old.get_model("events", "PendingPush")
    UploadedFile = old.get_model("imports", "UploadedFile")
    RakutenOrder = old.get_model("rakuten", "RakutenOrder")
    RakutenOrderLine = old.get_model("rakuten", "RakutenOrderLine")
    OrderSkuState = old.get_model("rakuten", "OrderSkuState")
    SyncRun = old.get_model("rakuten", "SyncRun")
    PollState = old.get_model("rakuten", "PollState")
    JobLease = old.get_model("rakuten", "JobLease")
    OldGroup = old.get_model("auth", "Group")
    OldUser = old.get_model("auth", "User")
    OldPermission = old.get_model("auth", "Permission")
    OldContentType = old.get_model("contenttypes", "ContentType")
    OldLogEntry = old.get_model("admin", "LogEntry")

    # The staff groups exactly as the previous release's migration makes them (a test
    # that flushed the database before this one took them away).
    importlib.import_module("rakuten.migrations.0003_staff_groups").groups_create(old, None)

    stores = {
        store_id: Store.objects.create(
            store_id=store_id,
            store_name=f"{store_id.title()} shop",
            api_config={"shop_url": f"{store_id}-shop", "confirm_orders": store_id == "tokyo"},
            safety_stock=index,
            last_sku_sync_at=T0,
            last_auth_test_at=T0,
            license_expires_at=T0 + dt.timedelta(days=90),
            # tokyo has both RMS credentials, osaka only its service secret.
            service_secret_encrypted=encrypt_secret(f"SP-{store_id}-secret"),
            license_key_encrypted=encrypt_secret("SL-tokyo-key" if store_id == "tokyo" else ""),
        )
        for index, store_id in enumerate(STORES)
    }
    skus = {
        sku_id: Sku.objects.create(
            sku_id=sku_id,
            original_sku=sku_id.upper(),
            sku_name=f"{sku_id.split('-')[0].title()} #{index}",
            allow_oversell=sku_id == "fork-6",
            metadata={"colour": "red"} if index % 2 else {},
            aliases={"tokyo": sku_id.upper()} if index % 3 == 0 else {},
            status="inactive" if sku_id == "spoon-5" else "active",
        )
        for index, sku_id in enumerate(SKUS)
    }
    for index, (store_id, sku_id, manage_number, variant_id, merchant_sku_id) in enumerate(
        REGISTRATIONS
    ):
        StoreSku.objects.create(
            store=stores[store_id],
            sku=skus[sku_id],
            manage_number=manage_number,
            variant_id=variant_id,
            merchant_sku_id=merchant_sku_id,
            safety_stock=2 if index == 0 else None,
            last_pushed_at=T0 if index % 2 else None,
            last_pushed_quantity=17 if index % 2 else None,
        )

    # The ledger: an initial stock per SKU, orders taking from it, an adjustment, an
    # oversell; a snapshot per SKU equal to the sum of its events.
    token = 0
    for index, sku_id in enumerate(SKUS):
        balance = 0
        moves = [("INITIAL", 20 - 3 * index, None, None, "system")]
        moves += [("ORDER_RECEIVED", -2, "tokyo", "100001-20261120-0000001", "api")]
        if sku_id == "fork-6":
            moves += [("ORDER_RECEIVED", -5, "osaka", "100001-20261120-0000001", "api")]
        moves += [("MANUAL_ADJUSTMENT", index, None, None, "manual")]
        last = None
        for event_type, quantity, store_id, order_number, source in moves:
            token += 1
            balance += quantity
            last = InventoryEvent.objects.create(
                sku=skus[sku_id],
                store=stores[store_id] if store_id else None,
                event_type=event_type,
                quantity=quantity,
                balance_after=balance,
                oversold=balance < 0,
                platform_status="100" if order_number else None,
                order_id=order_number,
                operator="alice" if source == "manual" else "system",
                reason="counted" if source == "manual" else None,
                source=source,
                token=f"token-{token}",
                metadata={"position": 1} if order_number else {},
                created_at=T0 + dt.timedelta(minutes=token),
            )
        InventorySnapshot.objects.update_or_create(
            sku=skus[sku_id],
            defaults={"internal_available": balance, "last_event": last, "updated_at": T0},
        )
    AuditLog.objects.create(
        user="alice", action="stock.adjust", details={"sku_id": "cup-1"}, ip="192.0.2.1"
    )
    PendingPush.objects.create(
        store=stores["osaka"], sku=skus["fork-6"], status="failed", attempts=3, last_error="503"
    )

    orders = []
    for store_id, number, progress, final, status, attempts, next_at, error in ORDERS:
        orders.append(
            RakutenOrder.objects.create(
                store=stores[store_id],
                order_number=number,
                progress=progress,
                ordered_at=T0 - dt.timedelta(hours=len(orders)),
                final=final,
                first_seen_at=T0,
                last_seen_at=T0 + dt.timedelta(minutes=5),
                confirm_status=status,
                confirm_attempts=attempts,
                confirm_next_at=next_at,
                confirm_error=error,
            )
        )
    for order, position, sku_id, units, deleted, manage, variant, merchant, _, _ in LINES:
        RakutenOrderLine.objects.create(
            order=orders[order],
            position=position,
            sku=skus[sku_id] if sku_id else None,
            units=units,
            deleted=deleted,
            manage_number=manage,
            variant_id=variant,
            merchant_sku_id=merchant,
        )
    for order, sku_id, taken, events, confirmed_recorded in SKU_STATES:
        OrderSkuState.objects.create(
            order=orders[order],
            sku=skus[sku_id],
            taken=taken,
            events=events,
            confirmed_recorded=confirmed_recorded,
        )

    runs = []
    for index, (store_id, kind, status, counts, log, error) in enumerate(RUNS):
        runs.append(
            SyncRun.objects.create(
                store=stores[store_id],
                kind=kind,
                status=status,
                started_at=T0 + dt.timedelta(minutes=index),
                finished_at=None if status == "running" else T0 + dt.timedelta(minutes=index + 1),
                counts=counts,
                details={"total": 10} if kind in ("push", "sku_sync") else {},
                log=log,
                error=error,
                cancel_requested=status == "cancelled",
                operator="alice" if index % 2 else "system",
            )
        )
    PollState.objects.create(
        store=stores["tokyo"],
        origin=T0 - dt.timedelta(days=3),
        cursor=T0,
        last_poll_at=T0,
        last_sweep_at=T0 - dt.timedelta(hours=1),
    )
    PollState.objects.create(store=stores["osaka"], origin=T0)
    JobLease.objects.create(
        key="poll:tokyo",
        holder="worker-1:4242",
        acquired_at=T0,
        expires_at=T0 + dt.timedelta(minutes=10),
    )
    JobLease.objects.create(key="push:osaka", expires_at=T0)
    UploadedFile.objects.create(
        store=stores["tokyo"],
        filename="stock.csv",
        original_content="sku_id,quantity\ncup-1,20\n",
        import_mode="reset_stock",
        zero_handling="ignore",
        operator="alice",
        status="confirmed",
    )
    UploadedFile.objects.create(
        store=stores["osaka"],
        filename="names.csv",
        original_content="sku_id,sku_name\nmug-2,Mug\n",
        import_mode="metadata_only",
        zero_handling="set_zero",
        operator="bob",
    )

    # A group and a user of the shop's own, holding permissions on the moved models, and
    # admin log entries pointing at moved rows.
    def permission(codename):
        return OldPermission.objects.get(content_type__app_label="rakuten", codename=codename)

    auditors = OldGroup.objects.create(name="auditors")
    auditors.permissions.set(
        [permission("view_rakutenorderline"), permission("change_syncrun"), permission("run_sync")]
    )
    user = OldUser.objects.create(username="carol", is_staff=True)
    user.groups.set([auditors, OldGroup.objects.get(name="viewer")])
    user.user_permissions.set(
        [
            permission("change_rakutenorder"),
            permission("view_orderskustate"),
            permission("view_joblease"),
        ]
    )
    for model, obj in [("syncrun", runs[0]), ("rakutenorder", orders[0])]:
        OldLogEntry.objects.create(
            user=user,
            content_type=OldContentType.objects.get(app_label="rakuten", model=model),
            object_id=str(obj.pk),
            object_repr=str(obj.pk),
            action_flag=2,
            change_message="[]",
            action_time=T0,
        )


def previous_release_read(old) -> dict[str, Any]:
    """Everything the previous release's database holds, as plain values."""
    ContentTypeModel = old.get_model("contenttypes", "ContentType")
    found = {
        label: rows(old.get_model(*label.split(".")))
        for label in [
            "stores.Store",
            "stores.StoreSku",
            "skus.Sku",
            "events.InventoryEvent",
            "events.InventorySnapshot",
            "events.AuditLog",
            "events.PendingPush",
            "imports.UploadedFile",
            "rakuten.RakutenOrder",
            "rakuten.RakutenOrderLine",
            "rakuten.OrderSkuState",
            "rakuten.SyncRun",
            "rakuten.PollState",
            "rakuten.JobLease",
            "admin.LogEntry",
        ]
    }
    found["groups"] = {
        group.name: permission_names(group.permissions)
        for group in old.get_model("auth", "Group").objects.all()
    }
    found["user permissions"] = {
        user.username: permission_names(user.user_permissions)
        for user in old.get_model("auth", "User").objects.all()
    }
    found["content types"] = {
        model: ContentTypeModel.objects.get(app_label="rakuten", model=model).pk
        for model in MOVED_MODELS
    }
    return found


def latest_model(label: str):
    return global_apps.get_model(label)


def test_forwards_keeps_every_row_of_the_previous_release(old_apps):
    assert "rakuten_orders" in connection.introspection.table_names()
    previous_release_fill(old_apps)
    before = previous_release_read(old_apps)
    assert len(before["rakuten.RakutenOrder"]) == len(ORDERS)
    assert len(before["rakuten.RakutenOrderLine"]) == len(LINES)

    migrate_to_latest()

    tables = set(connection.introspection.table_names())
    assert {"sync_orders", "sync_order_lines", "sync_order_sku_state", "sync_runs"} <= tables
    assert {"sync_job_lease", "sync_poll_state", "rakuten_binding"} <= tables
    assert "rakuten_order_confirmations" in tables
    assert not {"rakuten_orders", "rakuten_order_lines", "rakuten_sync_runs"} & tables

    # What did not move is untouched.
    credential_columns = ("service_secret_encrypted", "license_key_encrypted")
    assert [without(row, *credential_columns) for row in before["stores.Store"]] == [
        without(row, "credentials_encrypted", "reconcile_repairs")
        for row in rows(latest_model("stores.Store"))
    ]
    # Stores repair drift by default; nothing to read back for the previous release's rows.
    assert {row["reconcile_repairs"] for row in rows(latest_model("stores.Store"))} == {True}
    # The two RMS tokens became one JSON of the credentials each store had.
    assert {
        store.store_id: store.credentials() for store in latest_model("stores.Store").objects.all()
    } == {
        "tokyo": {"service_secret": "SP-tokyo-secret", "license_key": "SL-tokyo-key"},
        "osaka": {"service_secret": "SP-osaka-secret"},
    }
    # New SKU fields start empty (no low-stock warning).
    assert [without(row, "low_stock_threshold") for row in rows(latest_model("skus.Sku"))] == (
        before["skus.Sku"]
    )
    assert {row["low_stock_threshold"] for row in rows(latest_model("skus.Sku"))} == {None}
    for label in [
        "events.InventoryEvent",
        "events.InventorySnapshot",
        "events.AuditLog",
    ]:
        assert rows(latest_model(label)) == before[label], label
    pushes = rows(latest_model("events.PendingPush"))
    assert [without(row, "verify_after") for row in pushes] == before["events.PendingPush"]
    assert {row["verify_after"] for row in pushes} == {None}
    assert [
        without(row, "manage_number", "variant_id", "merchant_sku_id")
        for row in before["stores.StoreSku"]
    ] == rows(latest_model("stores.StoreSku"))
    uploads = rows(latest_model("imports.UploadedFile"))
    assert [without(row, "error") for row in uploads] == before["imports.UploadedFile"]
    assert {row["error"] for row in uploads} == {""}
    InventoryEvent = latest_model("events.InventoryEvent")
    for snapshot in latest_model("events.InventorySnapshot").objects.all():
        total = InventoryEvent.objects.filter(sku_id=snapshot.sku_id).aggregate(s=Sum("quantity"))
        assert (total["s"] or 0) == snapshot.internal_available, snapshot.sku_id

    # The engine's state moved with every row.
    # Runs of the previous release were not started under a live lease.
    assert [
        without(row, "lease_key", "lease_token") for row in rows(latest_model("sync.SyncRun"))
    ] == before["rakuten.SyncRun"]
    assert not latest_model("sync.SyncRun").objects.exclude(lease_token="").exists()
    assert rows(latest_model("sync.PollState")) == before["rakuten.PollState"]
    assert rows(latest_model("sync.JobLease")) == before["rakuten.JobLease"]
    assert rows(latest_model("sync.OrderSkuState")) == before["rakuten.OrderSkuState"]
    runs = latest_model("sync.SyncRun").objects.order_by("pk")
    assert [(run.kind, run.status, run.counts, run.log, run.error) for run in runs] == [
        (kind, status, counts, log, error) for _, kind, status, counts, log, error in RUNS
    ]

    # Orders: channel-neutral, their confirmation in rakuten's table.
    orders = rows(latest_model("sync.Order"))
    assert len(orders) == len(before["rakuten.RakutenOrder"])
    confirm_columns = ("confirm_status", "confirm_attempts", "confirm_next_at", "confirm_error")
    for old_row, new_row in zip(before["rakuten.RakutenOrder"], orders, strict=True):
        progress = old_row["progress"]
        assert without(old_row, "progress", *confirm_columns) == without(
            new_row, "platform_status", "cancelled", "confirmed", "digest"
        )
        # Never applied by this release: the first poll applies it again (changes nothing).
        assert new_row["digest"] == ""
        assert new_row["platform_status"] == str(progress)
        assert new_row["cancelled"] is (progress == 900)
        assert new_row["confirmed"] is (300 <= progress < 900)
    by_number = {
        (order.store_id, order.order_number): order
        for order in latest_model("sync.Order").objects.all()
    }
    for store_id, number, progress, final, *_ in ORDERS:
        order = by_number[(store_id, number)]
        assert (order.platform_status, order.final) == (str(progress), final)
    assert sorted((row["store_id"], row["order_number"]) for row in orders if row["cancelled"]) == [
        ("tokyo", "100001-20261120-0000003")
    ]

    confirmations = rows(latest_model("rakuten.RakutenOrderConfirmation"))
    assert confirmations == [
        {
            "order_id": row["id"],
            "store_id": row["store_id"],
            "status": row["confirm_status"],
            "attempts": row["confirm_attempts"],
            "next_at": row["confirm_next_at"],
            "error": row["confirm_error"],
        }
        for row in before["rakuten.RakutenOrder"]
        if row["confirm_status"]
    ]
    assert sorted(row["status"] for row in confirmations) == [
        "done",
        "failed",
        "pending",
        "pending",
    ]
    failed = next(row for row in confirmations if row["status"] == "failed")
    assert (failed["attempts"], failed["error"]) == (8, "HTTP 500: ES00-01")

    # Lines: the RMS keys as a listing with its label; everything else kept.
    lines = rows(latest_model("sync.OrderLine"))
    old_lines = before["rakuten.RakutenOrderLine"]
    assert len(lines) == len(old_lines) == len(LINES)
    for old_row, new_row, expected in zip(old_lines, lines, LINES, strict=True):
        assert without(old_row, "manage_number", "variant_id", "merchant_sku_id") == without(
            new_row, "listing", "listing_label", "line_id", "components"
        )
        # The previous release kept no line ids: such lines are matched by their listing.
        assert new_row["line_id"] == ""
        assert new_row["components"] is None  # no sets before
        assert (new_row["listing"], new_row["listing_label"]) == (expected[8], expected[9])
        assert (new_row["sku_id"], new_row["units"], new_row["deleted"]) == expected[2:5]
    assert len(lines[7]["listing_label"]) == 200
    assert [row["sku_id"] for row in lines if row["sku_id"] is None] == [None]
    assert [row["sku_id"] for row in lines if row["deleted"]] == ["bowl-4"]

    # Bindings: one per registration that had RMS ids, equal to its old columns.
    expected_bindings = [
        {
            "registration_id": row["id"],
            "store_id": row["store_id"],
            "manage_number": row["manage_number"],
            "variant_id": row["variant_id"],
            "merchant_sku_id": row["merchant_sku_id"],
        }
        for row in before["stores.StoreSku"]
        if row["manage_number"] or row["variant_id"] or row["merchant_sku_id"]
    ]
    assert rows(latest_model("rakuten.RakutenBinding")) == expected_bindings
    assert len(expected_bindings) == 5
    StoreSku = latest_model("stores.StoreSku")
    without_ids = StoreSku.objects.filter(rakuten__isnull=True)
    assert sorted(without_ids.values_list("store_id", "sku_id")) == [
        ("osaka", "spoon-5"),
        ("tokyo", "plate-3"),
    ]

    # Groups, users and admin log entries keep their rights and rows; viewers gain the
    # new models.
    for name, old_permissions in before["groups"].items():
        group = Group.objects.get(name=name)
        expected = {renamed(permission) for permission in old_permissions}
        if name in ("viewer", "operator", "admin"):
            expected |= VIEWER_GAINS
        if name in ("operator", "admin"):
            expected |= OPERATOR_GAINS
        if name == "admin":
            expected |= ADMIN_GAINS
        assert permission_names(group.permissions) == expected, name
    assert before["groups"]["operator"] >= {("rakuten", "run_sync")}
    assert (
        Group.objects.get(name="operator")
        .permissions.filter(content_type__app_label="sync", codename="run_sync")
        .exists()
    )
    assert (
        Group.objects.get(name="viewer")
        .permissions.filter(content_type__app_label="sync", codename="view_order")
        .exists()
    )
    assert permission_names(Group.objects.get(name="auditors").permissions) == {
        ("sync", "view_orderline"),
        ("sync", "change_syncrun"),
        ("sync", "run_sync"),
    }
    carol = User.objects.get(username="carol")
    assert permission_names(carol.user_permissions) == {
        ("sync", "change_order"),
        ("sync", "view_orderskustate"),
        ("sync", "view_joblease"),
    }
    assert carol.has_perm("sync.run_sync")
    assert carol.has_perm("sync.view_order")
    assert carol.has_perm("rakuten.view_rakutenbinding")
    assert not carol.has_perm("rakuten.run_sync")

    SyncRun = latest_model("sync.SyncRun")
    Order = latest_model("sync.Order")
    run_type = ContentType.objects.get_for_model(SyncRun)
    order_type = ContentType.objects.get_for_model(Order)
    assert (run_type.app_label, run_type.model) == ("sync", "syncrun")
    assert (order_type.app_label, order_type.model) == ("sync", "order")
    assert run_type.pk == before["content types"]["syncrun"]
    assert order_type.pk == before["content types"]["rakutenorder"]
    for model, new_model in MOVED_MODELS.items():
        assert ContentType.objects.get(pk=before["content types"][model]).model == new_model
    assert not ContentType.objects.filter(app_label="rakuten", model__in=list(MOVED_MODELS))
    assert rows(LogEntry) == before["admin.LogEntry"]
    run_entry, order_entry = LogEntry.objects.order_by("pk")
    assert run_entry.get_edited_object() == SyncRun.objects.order_by("pk").first()
    assert order_entry.get_edited_object() == Order.objects.order_by("pk").first()

    # New rows take new ids after the moved tables' rows.
    store = latest_model("stores.Store").objects.get(pk="tokyo")
    order = Order.objects.create(store=store, order_number="new-1", platform_status="100")
    assert order.pk > max(row["id"] for row in orders)
    line = order.lines.create(position=1, units=1, listing={"manage_number": "cup-1"})
    assert line.pk > max(row["id"] for row in lines)
    run = SyncRun.objects.create(store=store, kind="poll")
    assert run.pk > max(row["id"] for row in before["rakuten.SyncRun"])


def test_backwards_and_forwards_again_keeps_bindings_and_confirmations(old_apps):
    previous_release_fill(old_apps)
    migrate_to_latest()

    # The latest release changes a few of them before it is rolled back.
    RakutenBinding = latest_model("rakuten.RakutenBinding")
    Confirmation = latest_model("rakuten.RakutenOrderConfirmation")
    Order = latest_model("sync.Order")
    StoreSku = latest_model("stores.StoreSku")
    plate = StoreSku.objects.get(store_id="tokyo", sku_id="plate-3")
    RakutenBinding.objects.create(
        registration=plate, store_id="tokyo", manage_number="plate-3", variant_id="white"
    )
    RakutenBinding.objects.filter(
        registration__store_id="osaka", registration__sku_id="cup-1"
    ).update(merchant_sku_id="CUP-1-OSAKA")
    Confirmation.objects.filter(status="pending", attempts=0).update(
        status="done", attempts=1, next_at=None
    )
    new_order = Order.objects.get(store_id="osaka", order_number="200002-20261120-0000010")
    Confirmation.objects.create(order=new_order, store_id="osaka", status="pending", next_at=T0)
    bindings = rows(RakutenBinding)
    confirmations = rows(Confirmation)
    orders = rows(Order)
    lines = rows(latest_model("sync.OrderLine"))
    assert len(bindings) == 6
    assert len(confirmations) == 5

    old = migrate_to_previous_release()

    # The reverse functions put the columns back.
    registrations = {row["id"]: row for row in rows(old.get_model("stores", "StoreSku"))}
    for binding in bindings:
        registration = registrations[binding["registration_id"]]
        assert (
            registration["manage_number"],
            registration["variant_id"],
            registration["merchant_sku_id"],
        ) == (binding["manage_number"], binding["variant_id"], binding["merchant_sku_id"])
    bound = {binding["registration_id"] for binding in bindings}
    for registration_id, registration in registrations.items():
        if registration_id not in bound:
            assert registration["manage_number"] == registration["variant_id"] == ""
            assert registration["merchant_sku_id"] == ""
    old_orders = {row["id"]: row for row in rows(old.get_model("rakuten", "RakutenOrder"))}
    assert set(old_orders) == {row["id"] for row in orders}
    confirmed = {row["order_id"]: row for row in confirmations}
    for order in orders:
        old_order = old_orders[order["id"]]
        assert old_order["progress"] == int(order["platform_status"])
        confirmation = confirmed.get(order["id"])
        if confirmation is None:
            assert old_order["confirm_status"] == ""
            continue
        assert (
            old_order["confirm_status"],
            old_order["confirm_attempts"],
            old_order["confirm_next_at"],
            old_order["confirm_error"],
        ) == (
            confirmation["status"],
            confirmation["attempts"],
            confirmation["next_at"],
            confirmation["error"],
        )
    old_lines = rows(old.get_model("rakuten", "RakutenOrderLine"))
    assert [
        {
            key: value
            for key, value in line.items()
            if key in ("manage_number", "variant_id", "merchant_sku_id")
        }
        for line in old_lines
    ] == [{"merchant_sku_id": "", **line["listing"]} for line in lines]

    migrate_to_latest()

    assert rows(latest_model("rakuten.RakutenBinding")) == bindings
    assert rows(latest_model("rakuten.RakutenOrderConfirmation")) == confirmations
    assert rows(latest_model("sync.Order")) == orders
    assert rows(latest_model("sync.OrderLine")) == lines
    assert (
        Group.objects.get(name="operator")
        .permissions.filter(content_type__app_label="sync", codename="run_sync")
        .exists()
    )
    assert ContentType.objects.get_for_model(latest_model("sync.SyncRun")).app_label == "sync"
