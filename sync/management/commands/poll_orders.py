import datetime as dt
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from events.actors import Actor
from sync.orders import orders_poll

from ._base import StoreCommand


class Command(StoreCommand):
    help = "Poll Rakuten orders now and record their stock changes."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--since", help="Search orders placed since (ISO datetime).")
        parser.add_argument(
            "--sweep", action="store_true", help="Re-read the whole lookback (nightly sweep)."
        )

    def handle(
        self, *args: Any, store: str | None, since: str | None, sweep: bool, **options: Any
    ) -> None:
        start = None
        if since:
            start = parse_datetime(since)
            if start is None:
                raise CommandError(
                    f"--since {since!r} is not a datetime (e.g. 2026-11-01T00:00+09:00)."
                )
            if start.tzinfo is None:
                start = start.replace(tzinfo=dt.timezone(dt.timedelta(hours=9)))
        for store_id in self.stores(store):
            self.report(orders_poll(store_id=store_id, since=start, sweep=sweep, actor=Actor.cli()))
