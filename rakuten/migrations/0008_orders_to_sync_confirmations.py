"""Orders now belong to the sync app (sync 0003). What stays here is RMS's own order
confirmation, copied from the order rows' confirm_* columns before sync 0004 drops them."""

import django.db.models.deletion
from django.db import migrations, models


def confirmations_copy(apps, schema_editor):
    Order = apps.get_model("sync", "Order")
    Confirmation = apps.get_model("rakuten", "RakutenOrderConfirmation")
    rows = (
        Order.objects.exclude(confirm_status="")
        .values_list("id", "store_id", "confirm_status", "confirm_attempts", "confirm_next_at", "confirm_error")
        .order_by("id")
    )
    Confirmation.objects.bulk_create(
        (
            Confirmation(
                order_id=order_id,
                store_id=store_id,
                status=status,
                attempts=attempts,
                next_at=next_at,
                error=error,
            )
            for order_id, store_id, status, attempts, next_at, error in rows.iterator()
        ),
        batch_size=5000,
    )
    # Check the copied rows' foreign keys now: PostgreSQL refuses the ALTER TABLEs that
    # follow while deferred constraint checks of this transaction are pending.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def confirmations_restore(apps, schema_editor):
    Order = apps.get_model("sync", "Order")
    Confirmation = apps.get_model("rakuten", "RakutenOrderConfirmation")
    for row in Confirmation.objects.iterator():
        Order.objects.filter(pk=row.order_id).update(
            confirm_status=row.status,
            confirm_attempts=row.attempts,
            confirm_next_at=row.next_at,
            confirm_error=row.error,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("rakuten", "0007_bindings"),
        ("sync", "0003_orders_moved"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="RakutenOrderLine"),
                migrations.DeleteModel(name="OrderSkuState"),
                migrations.DeleteModel(name="RakutenOrder"),
            ],
            database_operations=[],
        ),
        migrations.CreateModel(
            name="RakutenOrderConfirmation",
            fields=[
                ("order", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name="rakuten_confirmation", serialize=False, to="sync.order", verbose_name="order")),
                ("status", models.CharField(choices=[("pending", "pending"), ("done", "confirmed"), ("failed", "failed")], default="pending", max_length=8, verbose_name="confirmation")),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("next_at", models.DateTimeField(blank=True, null=True)),
                ("error", models.TextField(blank=True, default="")),
                ("store", models.ForeignKey(db_column="store_id", on_delete=django.db.models.deletion.PROTECT, related_name="+", to="stores.store")),
            ],
            options={
                "verbose_name": "order confirmation",
                "verbose_name_plural": "order confirmations",
                "db_table": "rakuten_order_confirmations",
                "indexes": [models.Index(fields=["status", "next_at"], name="rakuten_confirmations_due")],
                "constraints": [models.CheckConstraint(condition=models.Q(("status__in", ["pending", "done", "failed"])), name="rakuten_order_confirmations_status_valid")],
            },
        ),
        migrations.RunPython(confirmations_copy, confirmations_restore),
    ]
