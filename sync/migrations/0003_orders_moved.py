"""Orders, their lines and what the ledger took for them move here from the rakuten app
(state only; 0004 makes them channel-neutral). Content types and permission codenames
follow, so the groups keep their rights."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

MOVED = {"rakutenorder": "order", "rakutenorderline": "orderline", "orderskustate": "orderskustate"}


def content_types_move(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for old, new in MOVED.items():
        content_type = ContentType.objects.filter(app_label="rakuten", model=old).first()
        if content_type is None or ContentType.objects.filter(app_label="sync", model=new).exists():
            continue
        content_type.app_label, content_type.model = "sync", new
        content_type.save()
        for permission in Permission.objects.filter(content_type=content_type):
            permission.codename = permission.codename.replace(f"_{old}", f"_{new}")
            permission.save()


def content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for old, new in MOVED.items():
        content_type = ContentType.objects.filter(app_label="sync", model=new).first()
        if content_type is None:
            continue
        content_type.app_label, content_type.model = "rakuten", old
        content_type.save()
        for permission in Permission.objects.filter(content_type=content_type):
            permission.codename = permission.codename.replace(f"_{new}", f"_{old}")
            permission.save()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("skus", "0001_initial"),
        ("sync", "0002_tables_renamed"),
        ("rakuten", "0007_bindings"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Order",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("order_number", models.CharField(max_length=100, verbose_name="order number")),
                        ("progress", models.PositiveSmallIntegerField(verbose_name="order progress")),
                        ("ordered_at", models.DateTimeField(blank=True, null=True, verbose_name="ordered")),
                        ("final", models.BooleanField(default=False, verbose_name="final")),
                        ("first_seen_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="first seen")),
                        ("last_seen_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="last seen")),
                        ("confirm_status", models.CharField(blank=True, default="", max_length=8, verbose_name="confirmation")),
                        ("confirm_attempts", models.PositiveIntegerField(default=0)),
                        ("confirm_next_at", models.DateTimeField(blank=True, null=True)),
                        ("confirm_error", models.TextField(blank=True, default="")),
                        ("store", models.ForeignKey(db_column="store_id", on_delete=django.db.models.deletion.PROTECT, related_name="orders", to="stores.store")),
                    ],
                    options={
                        "db_table": "rakuten_orders",
                        "ordering": ["-ordered_at"],
                        "indexes": [
                            models.Index(fields=["store", "final"], name="rakuten_orders_open"),
                            models.Index(fields=["confirm_status", "confirm_next_at"], name="rakuten_orders_confirm"),
                        ],
                        "constraints": [
                            models.UniqueConstraint(fields=("store", "order_number"), name="rakuten_orders_store_number_key"),
                            models.CheckConstraint(condition=models.Q(("confirm_status__in", ["", "pending", "done", "failed"])), name="rakuten_orders_confirm_status_valid"),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="OrderLine",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("position", models.PositiveSmallIntegerField()),
                        ("manage_number", models.CharField(blank=True, default="", max_length=64)),
                        ("variant_id", models.CharField(blank=True, default="", max_length=64)),
                        ("merchant_sku_id", models.CharField(blank=True, default="", max_length=96)),
                        ("units", models.PositiveIntegerField()),
                        ("deleted", models.BooleanField(default=False)),
                        ("order", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="lines", to="sync.order")),
                        ("sku", models.ForeignKey(blank=True, db_column="sku_id", null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="skus.sku")),
                    ],
                    options={
                        "db_table": "rakuten_order_lines",
                        "ordering": ["order", "position"],
                        "indexes": [models.Index(condition=models.Q(("sku__isnull", True)), fields=["sku"], name="rakuten_order_lines_unmatched")],
                        "constraints": [models.UniqueConstraint(fields=("order", "position"), name="rakuten_order_lines_position_key")],
                    },
                ),
                migrations.CreateModel(
                    name="OrderSkuState",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("taken", models.IntegerField(default=0)),
                        ("events", models.PositiveIntegerField(default=0)),
                        ("confirmed_recorded", models.BooleanField(default=False)),
                        ("order", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="sku_states", to="sync.order")),
                        ("sku", models.ForeignKey(db_column="sku_id", on_delete=django.db.models.deletion.PROTECT, related_name="+", to="skus.sku")),
                    ],
                    options={
                        "db_table": "rakuten_order_sku_state",
                        "constraints": [models.UniqueConstraint(fields=("order", "sku"), name="rakuten_order_sku_state_key")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_back),
    ]
