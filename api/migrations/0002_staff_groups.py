"""Admins see and revoke everyone's API tokens. Adds, never removes, what an admin gave the
groups by hand."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = ["view_apitoken", "delete_apitoken"]


def groups_update(apps, schema_editor):
    create_permissions(global_apps.get_app_config("api"), verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="admin")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="api", codename__in=PERMISSIONS)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("sync", "0005_staff_groups"),
    ]

    operations = [migrations.RunPython(groups_update, migrations.RunPython.noop)]
