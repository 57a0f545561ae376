"""The engine's models move here from the rakuten app: the state only (the tables stay,
renamed by 0002), and their content types with them so that permissions, the groups
holding them and admin log entries keep pointing at the same rows."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

MOVED = ["joblease", "pollstate", "syncrun"]


def content_types_move(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label="sync", model=model).exists():
            ContentType.objects.filter(app_label="rakuten", model=model).update(app_label="sync")


def content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="sync", model__in=MOVED).update(app_label="rakuten")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("stores", "0003_store_last_auth_error_store_last_auth_test_at_and_more"),
        ("rakuten", "0005_plural_names"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="JobLease",
                    fields=[
                        ("key", models.CharField(max_length=120, primary_key=True, serialize=False)),
                        ("holder", models.CharField(blank=True, default="", max_length=64)),
                        ("acquired_at", models.DateTimeField(blank=True, null=True)),
                        ("expires_at", models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={"db_table": "rakuten_job_lease"},
                ),
                migrations.CreateModel(
                    name="PollState",
                    fields=[
                        (
                            "store",
                            models.OneToOneField(
                                db_column="store_id",
                                on_delete=django.db.models.deletion.PROTECT,
                                primary_key=True,
                                serialize=False,
                                to="stores.store",
                            ),
                        ),
                        ("origin", models.DateTimeField(blank=True, null=True, verbose_name="polling since")),
                        ("cursor", models.DateTimeField(blank=True, null=True, verbose_name="searched up to")),
                        ("last_poll_at", models.DateTimeField(blank=True, null=True, verbose_name="last poll")),
                        ("last_sweep_at", models.DateTimeField(blank=True, null=True, verbose_name="last lookback sweep")),
                    ],
                    options={
                        "verbose_name": "poll state",
                        "verbose_name_plural": "poll states",
                        "db_table": "rakuten_poll_state",
                    },
                ),
                migrations.CreateModel(
                    name="SyncRun",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("kind", models.CharField(choices=[("poll", "order poll"), ("push", "stock push"), ("confirm", "order confirmation"), ("sku_sync", "SKU sync"), ("reconcile", "reconcile"), ("import", "stock import")], max_length=12)),
                        ("status", models.CharField(choices=[("running", "running"), ("succeeded", "succeeded"), ("partial", "partial"), ("failed", "failed"), ("cancelled", "cancelled"), ("skipped", "skipped (another run holds the store)")], default="running", max_length=10)),
                        ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        ("counts", models.JSONField(blank=True, default=dict)),
                        ("details", models.JSONField(blank=True, default=dict)),
                        ("log", models.TextField(blank=True, default="")),
                        ("error", models.TextField(blank=True, default="")),
                        ("cancel_requested", models.BooleanField(default=False)),
                        ("operator", models.CharField(default="system", max_length=100)),
                        ("store", models.ForeignKey(db_column="store_id", on_delete=django.db.models.deletion.PROTECT, related_name="sync_runs", to="stores.store")),
                    ],
                    options={
                        "verbose_name": "sync run",
                        "verbose_name_plural": "sync runs",
                        "db_table": "rakuten_sync_runs",
                        "ordering": ["-started_at"],
                        "permissions": [("run_sync", "Can poll orders, sync SKUs, push and retry")],
                        "indexes": [models.Index(fields=["store", "kind", "-started_at"], name="rakuten_runs_recent")],
                        "constraints": [
                            models.CheckConstraint(condition=models.Q(("kind__in", ["poll", "push", "confirm", "sku_sync", "reconcile", "import"])), name="rakuten_sync_runs_kind_valid"),
                            models.CheckConstraint(condition=models.Q(("status__in", ["running", "succeeded", "partial", "failed", "cancelled", "skipped"])), name="rakuten_sync_runs_status_valid"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_back),
    ]
