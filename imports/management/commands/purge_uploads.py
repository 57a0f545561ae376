from typing import Any

from django.core.management.base import BaseCommand

from imports.services import retention_days, uploads_purge


class Command(BaseCommand):
    help = (
        "Empty the stored text of uploaded stock files older than "
        "IMPORTS_ORIGINAL_RETENTION_DAYS (what confirms applied is kept)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        emptied = uploads_purge()
        self.stdout.write(
            f"{emptied} upload{'' if emptied == 1 else 's'} older than "
            f"{retention_days()} days emptied."
        )
