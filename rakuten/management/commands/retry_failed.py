from typing import Any

from rakuten.push import failed_retry
from rakuten.services import confirmations_retry

from ._base import StoreCommand


class Command(StoreCommand):
    help = "Put failed pushes and order confirmations back in the queue, due now."

    def handle(self, *args: Any, store: str | None, **options: Any) -> None:
        for store_id in self.stores(store):
            pushes = failed_retry(store_id=store_id)
            confirmations = confirmations_retry(store_id=store_id)
            self.stdout.write(
                f"{store_id}: {pushes} pushes, {confirmations} confirmations requeued"
            )
