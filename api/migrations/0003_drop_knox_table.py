"""A database migrated while knox's own migrations still ran holds its unused
knox_authtoken table (api.ApiToken replaces it): drop it, so that nothing outside Django's
models references auth_user."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("api", "0002_staff_groups")]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS knox_authtoken", migrations.RunSQL.noop)
    ]
