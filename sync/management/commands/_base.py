"""What the sync commands share: pick stores, print a run."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from stores.models import Store
from sync.models import SyncRun


class StoreCommand(BaseCommand):
    store_required = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--store", required=self.store_required, help="Store id (default: every active store)."
        )

    def stores(self, store_id: str | None) -> list[str]:
        if store_id:
            if not Store.objects.filter(pk=store_id).exists():
                raise CommandError(f"No store {store_id!r}.")
            return [store_id]
        return list(
            Store.objects.filter(status=Store.Status.ACTIVE).values_list("store_id", flat=True)
        )

    def report(self, run: SyncRun) -> None:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items())) or "nothing to do"
        style = self.style.SUCCESS if run.status == SyncRun.Status.SUCCEEDED else self.style.WARNING
        self.stdout.write(style(f"{run.store_id}: {run.get_kind_display()} {run.status}: {counts}"))
        if run.error:
            self.stdout.write(f"  {run.error}")
