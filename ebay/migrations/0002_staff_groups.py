"""Viewers (and so operators and admins) may read the eBay bindings and listings. Adds,
never removes, what an admin gave the groups by hand."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = (("ebay", "view_ebaybinding"), ("ebay", "view_ebaylisting"))


def groups_update(apps, schema_editor):
    create_permissions(global_apps.get_app_config("ebay"), verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for app_label, codename in PERMISSIONS:
        permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
        for name in ("viewer", "operator", "admin"):
            group, _ = Group.objects.get_or_create(name=name)
            group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("ebay", "0001_initial"),
        ("sync", "0005_staff_groups"),
    ]

    operations = [migrations.RunPython(groups_update, migrations.RunPython.noop)]
