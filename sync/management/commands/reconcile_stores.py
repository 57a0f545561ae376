from typing import Any

from sync.catalog import reconcile_run

from ._base import StoreCommand


class Command(StoreCommand):
    help = "Read back each store's stock and list the SKUs it shows differently."

    def handle(self, *args: Any, store: str | None, **options: Any) -> None:
        for store_id in self.stores(store):
            run = reconcile_run(store_id=store_id, operator="manage.py")
            self.report(run)
            for row in run.details.get("drift", []):
                self.stdout.write(
                    f"  {row['sku_id']}: store shows {row['platform']}, "
                    f"last pushed {row['last_pushed']}, expected {row['expected']}"
                )
