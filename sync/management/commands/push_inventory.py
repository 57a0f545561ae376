from typing import Any

from django.core.management.base import CommandParser

from sync.push import push_request, push_run

from ._base import StoreCommand


class Command(StoreCommand):
    help = "Push pending stock to the stores now (--all: every registered SKU)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--all", action="store_true", help="Push every registered SKU.")

    def handle(self, *args: Any, store: str | None, **options: Any) -> None:
        for store_id in self.stores(store):
            if options["all"]:
                self.stdout.write(f"{store_id}: {push_request(store_id=store_id)} SKUs due")
            self.report(push_run(store_id=store_id, operator="manage.py"))
