"""Orders become channel-neutral: the platform's status as text, an order line's
platform keys as one JSON (``listing``) with a short label, the RMS confirmation in
rakuten's own table (copied by rakuten 0008). Every order, line and state row stays."""

from django.db import migrations, models
from django.db.models.functions import Cast

LABEL_MAX = 200


def lines_neutral(apps, schema_editor):
    Order = apps.get_model("sync", "Order")
    OrderLine = apps.get_model("sync", "OrderLine")
    # One UPDATE: the RMS progress code as text ("100", "300", …).
    Order.objects.update(platform_status=Cast("progress", models.CharField(max_length=32)))
    Order.objects.filter(progress=900).update(cancelled=True)
    Order.objects.filter(progress__gte=300, progress__lt=900).update(confirmed=True)
    batch = []
    for line in OrderLine.objects.only("id", "manage_number", "variant_id", "merchant_sku_id").iterator(
        chunk_size=5000
    ):
        listing = {"manage_number": line.manage_number, "variant_id": line.variant_id}
        if line.merchant_sku_id:
            listing["merchant_sku_id"] = line.merchant_sku_id
        line.listing = listing
        label = f"{line.manage_number}/{line.variant_id}"
        if line.merchant_sku_id:
            label += f" ({line.merchant_sku_id})"
        line.listing_label = label[:LABEL_MAX]
        batch.append(line)
        if len(batch) == 5000:
            OrderLine.objects.bulk_update(batch, ["listing", "listing_label"])
            batch = []
    OrderLine.objects.bulk_update(batch, ["listing", "listing_label"])
    # Check the copied rows' foreign keys now: PostgreSQL refuses the ALTER TABLEs that
    # follow while deferred constraint checks of this transaction are pending.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def lines_back(apps, schema_editor):
    Order = apps.get_model("sync", "Order")
    OrderLine = apps.get_model("sync", "OrderLine")
    for order in Order.objects.iterator():
        order.progress = int(order.platform_status or 0)
        order.save(update_fields=["progress"])
    for line in OrderLine.objects.iterator():
        line.manage_number = line.listing.get("manage_number", "")
        line.variant_id = line.listing.get("variant_id", "")
        line.merchant_sku_id = line.listing.get("merchant_sku_id", "")
        line.save(update_fields=["manage_number", "variant_id", "merchant_sku_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0003_orders_moved"),
        ("rakuten", "0008_orders_to_sync_confirmations"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="order", name="rakuten_orders_confirm_status_valid"),
        migrations.RemoveIndex(model_name="order", name="rakuten_orders_confirm"),
        migrations.RemoveField(model_name="order", name="confirm_status"),
        migrations.RemoveField(model_name="order", name="confirm_attempts"),
        migrations.RemoveField(model_name="order", name="confirm_next_at"),
        migrations.RemoveField(model_name="order", name="confirm_error"),
        migrations.AddField(
            model_name="order",
            name="platform_status",
            field=models.CharField(default="", max_length=32, verbose_name="status on the platform"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="order",
            name="cancelled",
            field=models.BooleanField(default=False, verbose_name="cancelled"),
        ),
        migrations.AddField(
            model_name="order",
            name="confirmed",
            field=models.BooleanField(default=False, verbose_name="confirmed"),
        ),
        migrations.AddField(
            model_name="orderline",
            name="listing",
            field=models.JSONField(default=dict, verbose_name="listing"),
        ),
        migrations.AddField(
            model_name="orderline",
            name="listing_label",
            field=models.CharField(blank=True, default="", max_length=200, verbose_name="listing"),
        ),
        migrations.RunPython(lines_neutral, lines_back),
        # Reversed, the column comes back with a default, and lines_back fills it in.
        migrations.AlterField(
            model_name="order",
            name="progress",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="order progress"),
        ),
        migrations.RemoveField(model_name="order", name="progress"),
        migrations.RemoveField(model_name="orderline", name="manage_number"),
        migrations.RemoveField(model_name="orderline", name="variant_id"),
        migrations.RemoveField(model_name="orderline", name="merchant_sku_id"),
        migrations.RemoveConstraint(model_name="order", name="rakuten_orders_store_number_key"),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.UniqueConstraint(fields=("store", "order_number"), name="sync_orders_store_number_key"),
        ),
        migrations.RenameIndex(model_name="order", new_name="sync_orders_open", old_name="rakuten_orders_open"),
        migrations.RemoveConstraint(model_name="orderline", name="rakuten_order_lines_position_key"),
        migrations.AddConstraint(
            model_name="orderline",
            constraint=models.UniqueConstraint(fields=("order", "position"), name="sync_order_lines_position_key"),
        ),
        migrations.RemoveIndex(model_name="orderline", name="rakuten_order_lines_unmatched"),
        migrations.AddIndex(
            model_name="orderline",
            index=models.Index(condition=models.Q(("sku__isnull", True)), fields=["sku"], name="sync_order_lines_unmatched"),
        ),
        migrations.RemoveConstraint(model_name="orderskustate", name="rakuten_order_sku_state_key"),
        migrations.AddConstraint(
            model_name="orderskustate",
            constraint=models.UniqueConstraint(fields=("order", "sku"), name="sync_order_sku_state_key"),
        ),
        migrations.AlterModelTable(name="order", table="sync_orders"),
        migrations.AlterModelTable(name="orderline", table="sync_order_lines"),
        migrations.AlterModelTable(name="orderskustate", table="sync_order_sku_state"),
        migrations.AlterModelOptions(
            name="order",
            options={"ordering": ["-ordered_at"], "verbose_name": "order", "verbose_name_plural": "orders"},
        ),
        migrations.AlterModelOptions(
            name="orderline",
            options={"ordering": ["order", "position"], "verbose_name": "order line", "verbose_name_plural": "order lines"},
        ),
    ]
