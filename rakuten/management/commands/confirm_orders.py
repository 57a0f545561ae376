from typing import Any

from rakuten.confirmations import orders_confirm
from sync.management.commands._base import StoreCommand


class Command(StoreCommand):
    help = "Confirm pending new orders (stores with confirm_orders on) now."

    def handle(self, *args: Any, store: str | None, **options: Any) -> None:
        for store_id in self.stores(store):
            self.report(orders_confirm(store_id=store_id))
