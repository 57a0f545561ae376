from typing import Any

from django.core.management.base import BaseCommand, CommandError

from inventory_site.errors import InventoryError
from stores.services import store_credentials_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every store credential under the first key of FIELD_ENCRYPTION_KEYS. "
        "Put the new key first, keep the old one after it, run this, then drop the old key."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            count = store_credentials_rotate()
        except InventoryError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted the credentials of {count} store(s)."))
