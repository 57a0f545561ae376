from typing import Any

from django.utils import timezone

from rakuten.models import RakutenOrder
from rakuten.push import failed_retry

from ._base import StoreCommand


class Command(StoreCommand):
    help = "Put failed pushes and order confirmations back in the queue, due now."

    def handle(self, *args: Any, store: str | None, **options: Any) -> None:
        for store_id in self.stores(store):
            pushes = failed_retry(store_id=store_id)
            confirmations = RakutenOrder.objects.filter(
                store_id=store_id, confirm_status=RakutenOrder.ConfirmStatus.FAILED
            ).update(
                confirm_status=RakutenOrder.ConfirmStatus.PENDING,
                confirm_attempts=0,
                confirm_next_at=timezone.now(),
            )
            self.stdout.write(
                f"{store_id}: {pushes} pushes, {confirmations} confirmations requeued"
            )
