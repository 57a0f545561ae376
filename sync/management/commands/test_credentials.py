from typing import Any

from django.core.management.base import CommandError

from sync.services import store_auth_test

from ._base import StoreCommand


class Command(StoreCommand):
    help = (
        "Test each store's credentials against its platform (as the store page's button does; "
        "the result shows on the dashboard). Exits 1 when a store refused them."
    )

    def handle(self, *args: Any, store: str | None, **options: Any) -> None:
        refused = []
        for store_id in self.stores(store):
            ok, message = store_auth_test(store_id=store_id)
            style = self.style.SUCCESS if ok else self.style.ERROR
            self.stdout.write(style(f"{store_id}: {'accepted' if ok else 'refused'}: {message}"))
            if not ok:
                refused.append(store_id)
        if refused:
            raise CommandError(f"Credentials refused by: {', '.join(refused)}")
