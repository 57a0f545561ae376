from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from events.actors import Actor
from inventory_site.errors import InventoryError
from skus.services import env_test_reset


class Command(BaseCommand):
    help = (
        "Reset the test environment: ce1111 back to a known stock, every other test SKU "
        "to 0, each through a TEST_RESET event. Never touches SKUs of environment prod."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stock", type=int, help="Stock for ce1111 (default from settings).")
        parser.add_argument("--user", default="manage.py", help="Name to audit the reset under.")

    def handle(self, *args: Any, stock: int | None, user: str, **options: Any) -> None:
        try:
            events = env_test_reset(actor=Actor.cli(user), stock=stock)
        except InventoryError as exc:
            raise CommandError(exc.message) from exc
        for event in events:
            self.stdout.write(f"{event.sku_id}: {event.quantity:+d} -> {event.balance_after}")
        self.stdout.write(self.style.SUCCESS(f"Test data reset: {len(events)} event(s)."))
