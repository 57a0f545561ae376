"""The staff groups: viewer (reads everything), operator (runs the business),
admin (stores, credentials, test reset). Re-running keeps them in line."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations



# The groups as they were at this migration (frozen: later migrations move them on).
OUR_APPS = ["skus", "stores", "events", "imports", "rakuten"]

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
        ("rakuten", "rakutenorder"),
        ("rakuten", "rakutenorderline"),
        ("rakuten", "syncrun"),
    ]
]
# Adjustments, imports, polls, syncs, retries.
OPERATE = [
    "events.adjust_stock",
    "imports.add_uploadedfile",
    "rakuten.run_sync",
    "rakuten.change_syncrun",
    "events.change_pendingpush",
]
# Stores and credentials, SKUs, the test reset.
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



def groups_create(apps, schema_editor):
    # Permissions are made after migrations run; make them now so the groups can hold them.
    for label in ["auth", "contenttypes", *OUR_APPS]:
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
        group.permissions.set(wanted)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("skus", "0001_initial"),
        ("stores", "0002_storesku_last_pushed_at_and_more"),
        ("events", "0003_alter_inventoryevent_options"),
        ("imports", "0001_initial"),
        ("rakuten", "0002_alter_syncrun_options"),
    ]

    operations = [migrations.RunPython(groups_create, migrations.RunPython.noop)]
