from typing import Any

from events.actors import Actor
from sync.catalog import sku_sync_run

from ._base import StoreCommand


class Command(StoreCommand):
    help = "Read a store's whole catalogue into SKUs and registrations."
    store_required = True

    def handle(self, *args: Any, store: str, **options: Any) -> None:
        for store_id in self.stores(store):
            run = sku_sync_run(store_id=store_id, actor=Actor.cli())
            self.report(run)
            for line in run.log.splitlines()[-20:]:
                self.stdout.write(f"  {line}")
