"""The staff groups again (adding, never removing what an admin gave them), now that orders live in sync and RMS's bindings and order
confirmations have tables of their own: viewers read them too. (The lists are frozen
here as they are at this migration; inventory_site/permissions.py moves on.)"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

APPS = ["auth", "contenttypes", "skus", "stores", "events", "imports", "sync", "rakuten"]
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
        ("sync", "syncrun"),
    ]
]
OPERATE = [
    "events.adjust_stock",
    "imports.add_uploadedfile",
    "sync.run_sync",
    "sync.change_syncrun",
    "events.change_pendingpush",
]
ADMINISTER = [
    "stores.add_store",
    "stores.change_store",
    "stores.add_storesku",
    "stores.change_storesku",
    "skus.add_sku",
    "skus.change_sku",
    "events.reset_test_data",
]
GROUPS = {
    "viewer": VIEW,
    "operator": VIEW + OPERATE,
    "admin": VIEW + OPERATE + ADMINISTER,
}


def groups_update(apps, schema_editor):
    for label in APPS:
        create_permissions(global_apps.get_app_config(label), verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        # add, not set: rights an admin gave a group by hand stay.
        group.permissions.add(*wanted)


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0004_orders_channel_neutral"),
        ("rakuten", "0008_orders_to_sync_confirmations"),
        ("imports", "0002_upload_failed"),
        ("stores", "0004_platform_ids_to_bindings"),
    ]

    operations = [migrations.RunPython(groups_update, migrations.RunPython.noop)]
