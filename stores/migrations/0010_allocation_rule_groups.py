"""Viewers (and so operators and admins) read allocation rules and set components; admins
add, change and delete allocation rules (set components are written by whoever may change
a SKU). Adds, never removes, what an admin gave the groups by hand."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW = [("stores", "view_allocationrule"), ("skus", "view_skucomponent")]
ADMINISTER = [
    ("stores", "add_allocationrule"),
    ("stores", "change_allocationrule"),
    ("stores", "delete_allocationrule"),
]
GROUPS = {"viewer": VIEW, "operator": VIEW, "admin": VIEW + ADMINISTER}


def groups_update(apps, schema_editor):
    for label in ("stores", "skus"):
        create_permissions(global_apps.get_app_config(label), verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in perms:
            group.permissions.add(
                *Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("stores", "0009_allocation_rules"),
        ("skus", "0003_set_components_low_stock"),
        ("sync", "0005_staff_groups"),
    ]

    operations = [migrations.RunPython(groups_update, migrations.RunPython.noop)]
