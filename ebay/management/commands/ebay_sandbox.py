import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from django.core.management.base import BaseCommand, CommandParser

from ebay.sandbox.demo import DEFAULT_ACCEPT_URL, DEMO_CLIENT_ID, DEMO_RU_NAME, demo_load
from ebay.sandbox.model import SCOPE_FULFILLMENT, SCOPE_INVENTORY
from ebay.sandbox.server import SandboxServer
from ebay.sandbox.state import Sandbox
from sync.sandbox.serve import serve


class Command(BaseCommand):
    help = (
        "Serve a stateful fake of eBay's OAuth, Sell Inventory and Sell Fulfillment APIs on "
        "loopback (demo, end-to-end tests)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8767)
        parser.add_argument(
            "--demo", action="store_true", help="Create the demo seller and app registration."
        )
        parser.add_argument(
            "--accept-url",
            default=DEFAULT_ACCEPT_URL,
            help="Where the demo app's consent sends the seller back (its RuName's accept URL).",
        )
        parser.add_argument("--state", type=Path, help="JSON file to load from and save to.")
        parser.add_argument(
            "--orders-per-minute",
            type=float,
            default=0.0,
            help="Generate orders at this steady rate (and ship or cancel some older ones).",
        )
        parser.add_argument("--seed", type=int, default=0, help="Seed of the order generator.")
        parser.add_argument(
            "--rate-limits",
            type=json.loads,
            default=None,
            help="Per-endpoint requests/second, e.g. '{\"stock.bulk_update\": 5}'.",
        )
        parser.add_argument(
            "--token-lifetime",
            type=int,
            default=None,
            help="expires_in of new access tokens (s); 7200 unless set or saved.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sandbox = Sandbox(rate_limits=options["rate_limits"], seed=options["seed"])
        state_file: Path | None = options["state"]
        if state_file:
            sandbox.load_file(state_file)
        if options["token_lifetime"] is not None:
            # Given on the command line, it wins over a lifetime saved in the state file.
            sandbox.config_set({"tokenLifetime": options["token_lifetime"]})
        if options["demo"]:
            demo_load(sandbox, accept_url=options["accept_url"])
        server = SandboxServer(sandbox, port=options["port"], state_file=state_file)
        # The first line is read by sync.sandbox.bench.sandbox_process: "<banner> URL".
        self.stdout.write(f"eBay sandbox on {server.url}")
        self.stdout.write(f"sellers: {', '.join(sorted(sandbox.sellers)) or '-'}")
        if options["demo"]:
            consent = {
                "client_id": DEMO_CLIENT_ID,
                "redirect_uri": DEMO_RU_NAME,
                "response_type": "code",
                "scope": f"{SCOPE_INVENTORY} {SCOPE_FULFILLMENT}",
            }
            query = urlencode(consent, quote_via=quote)
            self.stdout.write(f"consent: {server.url}/oauth2/authorize?{query}")
        self.stdout.flush()
        serve(
            server,
            sandbox,
            state_file=state_file,
            orders_per_minute=options["orders_per_minute"],
            say=self.stdout.write,
        )
