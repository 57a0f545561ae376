"""Viewers (and so operators and admins) read purchases, their items and official
accounts; operators (and admins) add and change purchases and items (arrivals add stock,
like an adjustment); admins add and change official accounts. Adds, never removes, what
an admin gave the groups by hand."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW = ["view_officialaccount", "view_purchasing", "view_inventoryitem"]
OPERATE = ["add_purchasing", "change_purchasing", "add_inventoryitem", "change_inventoryitem"]
ADMINISTER = ["add_officialaccount", "change_officialaccount"]
GROUPS = {
    "viewer": VIEW,
    "operator": VIEW + OPERATE,
    "admin": VIEW + OPERATE + ADMINISTER,
}


def groups_update(apps, schema_editor):
    create_permissions(global_apps.get_app_config("purchasing"), verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="purchasing", codename__in=codenames
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("purchasing", "0001_initial"),
        ("sync", "0005_staff_groups"),
    ]

    operations = [migrations.RunPython(groups_update, migrations.RunPython.noop)]
