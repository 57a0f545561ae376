"""A trigram index for the SKU list's search (PostgreSQL only).

The search is ``icontains`` on ``sku_id || ' ' || sku_name`` (skus.models.SkuSearchText);
Django turns it into ``UPPER((sku_id || ' ' || sku_name)::text) LIKE UPPER('%…%')``, and
this GIN index of pg_trgm on that very expression answers it with one index scan instead
of reading every SKU. On SQLite both steps do nothing (the search there reads the table).
The index is not part of the model state: Django cannot declare it for SQLite too."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEX = "sku_master_search_trgm"


class TrigramExtensionOnPostgreSQL(TrigramExtension):
    """CREATE EXTENSION pg_trgm on PostgreSQL; nothing elsewhere, either way (Django's own
    operation asks pg_extension when unapplied, even on SQLite). Unapplied, the extension
    stays: other indexes may use it."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        return None


def index_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON sku_master "
        "USING gin ((UPPER((sku_id || ' ' || sku_name)::text)) gin_trgm_ops)"
    )


def index_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("skus", "0001_initial")]

    operations = [
        TrigramExtensionOnPostgreSQL(),
        migrations.RunPython(index_create, index_drop, elidable=False),
    ]
