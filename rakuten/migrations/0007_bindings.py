"""One binding row per registration that has RMS ids, copied from the columns
stores 0004 then drops. Every registration keeps its ids; none is lost."""

import django.db.models.deletion
from django.db import migrations, models


def bindings_copy(apps, schema_editor):
    StoreSku = apps.get_model("stores", "StoreSku")
    RakutenBinding = apps.get_model("rakuten", "RakutenBinding")
    rows = (
        StoreSku.objects.filter(store__platform_type="rakuten")
        .exclude(manage_number="", variant_id="", merchant_sku_id="")
        .values_list("id", "store_id", "manage_number", "variant_id", "merchant_sku_id")
        .order_by("id")
    )
    batch = []
    for registration_id, store_id, manage_number, variant_id, merchant_sku_id in rows.iterator():
        batch.append(
            RakutenBinding(
                registration_id=registration_id,
                store_id=store_id,
                manage_number=manage_number,
                variant_id=variant_id,
                merchant_sku_id=merchant_sku_id,
            )
        )
        if len(batch) == 5000:
            RakutenBinding.objects.bulk_create(batch)
            batch = []
    RakutenBinding.objects.bulk_create(batch)
    # Check the copied rows' foreign keys now: PostgreSQL refuses the ALTER TABLEs that
    # follow while deferred constraint checks of this transaction are pending.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def bindings_restore(apps, schema_editor):
    StoreSku = apps.get_model("stores", "StoreSku")
    RakutenBinding = apps.get_model("rakuten", "RakutenBinding")
    for binding in RakutenBinding.objects.iterator():
        StoreSku.objects.filter(pk=binding.registration_id).update(
            manage_number=binding.manage_number,
            variant_id=binding.variant_id,
            merchant_sku_id=binding.merchant_sku_id,
        )


class Migration(migrations.Migration):

    dependencies = [
        ('rakuten', '0006_engine_models_to_sync'),
        ('stores', '0003_store_last_auth_error_store_last_auth_test_at_and_more'),
    ]

    operations = [
        migrations.CreateModel(
            name='RakutenBinding',
            fields=[
                ('registration', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='rakuten', serialize=False, to='stores.storesku', verbose_name='registration')),
                ('manage_number', models.CharField(blank=True, help_text="商品管理番号（商品URL）: the item's id in the store.", max_length=32, verbose_name='item manage number')),
                ('variant_id', models.CharField(blank=True, help_text="SKU管理番号: the variant's id in the item, case-sensitive.", max_length=32, verbose_name='variant id')),
                ('merchant_sku_id', models.CharField(blank=True, help_text='システム連携用SKU番号 as the store spells it.', max_length=50, verbose_name='merchant SKU id')),
                ('store', models.ForeignKey(db_column='store_id', on_delete=django.db.models.deletion.PROTECT, related_name='+', to='stores.store')),
            ],
            options={
                'verbose_name': 'RMS variant of a registration',
                'verbose_name_plural': 'RMS variants of registrations',
                'db_table': 'rakuten_binding',
                'indexes': [models.Index(fields=['store', 'merchant_sku_id'], name='rakuten_binding_merchant')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('variant_id', ''), _negated=True), fields=('store', 'manage_number', 'variant_id'), name='rakuten_binding_variant_key')],
            },
        ),
        migrations.RunPython(bindings_copy, bindings_restore),
    ]
