"""The RMS ids of registrations now live in rakuten.RakutenBinding (copied there by
rakuten 0007): the columns go."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('stores', '0003_store_last_auth_error_store_last_auth_test_at_and_more'),
        ('rakuten', '0007_bindings'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='storesku',
            name='store_sku_platform_variant_key',
        ),
        migrations.RemoveField(
            model_name='storesku',
            name='manage_number',
        ),
        migrations.RemoveField(
            model_name='storesku',
            name='merchant_sku_id',
        ),
        migrations.RemoveField(
            model_name='storesku',
            name='variant_id',
        ),
    ]
