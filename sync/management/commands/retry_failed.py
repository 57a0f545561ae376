from typing import Any

from events.services import failed_retry
from sync.registry import platforms

from ._base import StoreCommand


class Command(StoreCommand):
    help = "Put failed pushes and order confirmations back in the queue, due now."

    def handle(self, *args: Any, store: str | None, **options: Any) -> None:
        for store_id in self.stores(store):
            pushes = failed_retry(store_id=store_id)
            confirmations = sum(
                platform.followups_retry(store_id=store_id) for platform in platforms().values()
            )
            self.stdout.write(
                f"{store_id}: {pushes} pushes, {confirmations} confirmations requeued"
            )
