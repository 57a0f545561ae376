"""Connect the demo eBay store to the demo seller of a running `ebay_sandbox --demo`, as a
seller's consent would (the sandbox's control API mints the grant). For the demo only: a
real store is connected with "Connect eBay account" on its page."""

from __future__ import annotations

import time
from typing import Any

import requests
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ebay import parse
from ebay.sandbox import demo as ebay_demo
from ebay.services import connection_save
from ebay.types import SCOPES
from events.actors import Actor
from stores.models import Store


class Command(BaseCommand):
    help = "Connect the demo eBay store to the demo seller of the local eBay sandbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--store", default="demo-ebay")
        parser.add_argument("--url", default=ebay_demo.SANDBOX_URL)
        parser.add_argument("--wait", type=float, default=15.0, help="Seconds to wait for it.")

    def handle(self, *args: Any, store: str, url: str, wait: float, **options: Any) -> None:
        row = Store.objects.filter(pk=store, platform_type=Store.Platform.EBAY).first()
        if row is None:
            raise CommandError(f"No eBay store {store}: run load_demo_data first.")
        deadline = time.monotonic() + wait
        while True:
            try:
                answer = requests.post(
                    f"{url}/_sandbox/tokens",
                    json={"clientId": ebay_demo.DEMO_CLIENT_ID, "seller": ebay_demo.DEMO_SELLER},
                    timeout=5,
                )
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise CommandError(f"The eBay sandbox does not answer at {url}.") from None
                time.sleep(0.5)
        if answer.status_code not in (200, 201):
            raise CommandError(f"The eBay sandbox refused the grant: {answer.text[:200]}")
        connection_save(
            store=row,
            grant=parse.token(answer.json()),
            actor=Actor.system("demo"),
            scopes=list(SCOPES),
        )
        self.stdout.write(f"{store} connected to the eBay sandbox's seller {ebay_demo.DEMO_SELLER}")
