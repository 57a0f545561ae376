"""A store's credentials become one encrypted JSON object whose keys its adapter declares
(RMS: service_secret, license_key). Each store's two tokens are opened with the
configured FIELD_ENCRYPTION_KEYS and sealed again as one; a token no key opens stops the
migration (CredentialDecryptError) rather than losing the credential."""

import json

from django.db import migrations, models

from stores.crypto import decrypt_secret, encrypt_secret


def credentials_merge(apps, schema_editor):
    Store = apps.get_model("stores", "Store")
    for store in Store.objects.all():
        values = {
            "service_secret": decrypt_secret(store.service_secret_encrypted),
            "license_key": decrypt_secret(store.license_key_encrypted),
        }
        values = {name: value for name, value in values.items() if value}
        store.credentials_encrypted = (
            encrypt_secret(json.dumps(values, sort_keys=True)) if values else ""
        )
        store.save(update_fields=["credentials_encrypted"])


def credentials_split(apps, schema_editor):
    Store = apps.get_model("stores", "Store")
    for store in Store.objects.all():
        token = store.credentials_encrypted
        values = json.loads(decrypt_secret(token)) if token else {}
        store.service_secret_encrypted = encrypt_secret(values.get("service_secret", ""))
        store.license_key_encrypted = encrypt_secret(values.get("license_key", ""))
        store.save(update_fields=["service_secret_encrypted", "license_key_encrypted"])


class Migration(migrations.Migration):
    dependencies = [("stores", "0004_platform_ids_to_bindings")]

    operations = [
        migrations.AddField(
            model_name="store",
            name="credentials_encrypted",
            field=models.TextField(blank=True, verbose_name="credentials (encrypted)"),
        ),
        migrations.RunPython(credentials_merge, credentials_split),
        migrations.RemoveField(model_name="store", name="service_secret_encrypted"),
        migrations.RemoveField(model_name="store", name="license_key_encrypted"),
    ]
