"""The staff groups and what each may do (created by migrations: rakuten 0003, then
sync 0005 when the engine's models moved, futureshop 0002 for its bindings, api 0002
for the API tokens, purchasing 0002 for purchases)."""

from __future__ import annotations

OUR_APPS = [
    "skus",
    "stores",
    "events",
    "imports",
    "sync",
    "rakuten",
    "futureshop",
    "api",
    "purchasing",
]

VIEW = [
    f"{app}.view_{model}"
    for app, model in [
        ("skus", "sku"),
        ("stores", "store"),
        ("stores", "storesku"),
        ("events", "inventoryevent"),
        ("events", "inventorysnapshot"),
        ("events", "auditlog"),
        ("events", "pendingpush"),
        ("imports", "uploadedfile"),
        ("sync", "order"),
        ("sync", "orderline"),
        ("rakuten", "rakutenbinding"),
        ("rakuten", "rakutenorderconfirmation"),
        ("futureshop", "futureshopbinding"),
        ("sync", "syncrun"),
        ("purchasing", "officialaccount"),
        ("purchasing", "purchasing"),
        ("purchasing", "inventoryitem"),
        ("stores", "allocationrule"),
        ("skus", "skucomponent"),
    ]
]
# Adjustments, imports, polls, syncs, retries, purchases and their arrivals.
OPERATE = [
    "events.adjust_stock",
    "imports.add_uploadedfile",
    "sync.run_sync",
    "sync.change_syncrun",
    "events.change_pendingpush",
    "purchasing.add_purchasing",
    "purchasing.change_purchasing",
    "purchasing.add_inventoryitem",
    "purchasing.change_inventoryitem",
]
# Stores and credentials, SKUs, the test reset, official accounts.
ADMINISTER = [
    "stores.add_store",
    "stores.change_store",
    "stores.add_storesku",
    "stores.change_storesku",
    "skus.add_sku",
    "skus.change_sku",
    "events.reset_test_data",
    "api.view_apitoken",
    "api.delete_apitoken",
    "purchasing.add_officialaccount",
    "purchasing.change_officialaccount",
    "stores.add_allocationrule",
    "stores.change_allocationrule",
    "stores.delete_allocationrule",
]
GROUPS = {
    "viewer": VIEW,
    "operator": VIEW + OPERATE,
    "admin": VIEW + OPERATE + ADMINISTER,
}


def groups_ensure() -> None:
    """Create the groups with their permissions (tests that flush the database call it)."""
    from django.contrib.auth.models import Group, Permission

    for name, perms in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            [
                Permission.objects.get(
                    content_type__app_label=perm.split(".")[0], codename=perm.split(".")[1]
                )
                for perm in perms
            ]
        )
