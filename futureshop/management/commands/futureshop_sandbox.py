import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from futureshop.sandbox.demo import demo_load
from futureshop.sandbox.server import SandboxServer
from futureshop.sandbox.state import Sandbox
from sync.sandbox.serve import serve


class Command(BaseCommand):
    help = "Serve a stateful fake futureshop API v2 on loopback (demo, end-to-end tests)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8766)
        parser.add_argument("--demo", action="store_true", help="Create the demo shop.")
        parser.add_argument("--state", type=Path, help="JSON file to load from and save to.")
        parser.add_argument(
            "--orders-per-minute",
            type=float,
            default=0.0,
            help="Generate orders at this steady rate (and complete or cancel some older ones).",
        )
        parser.add_argument("--seed", type=int, default=0, help="Seed of the order generator.")
        parser.add_argument(
            "--rate-limits",
            type=json.loads,
            default=None,
            help="Per-endpoint requests/second, e.g. '{\"inventory.update\": 10}'.",
        )
        parser.add_argument(
            "--token-lifetime", type=int, default=3600, help="expires_in of new tokens (s)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sandbox = Sandbox(
            rate_limits=options["rate_limits"],
            seed=options["seed"],
            token_lifetime=options["token_lifetime"],
        )
        state_file: Path | None = options["state"]
        if state_file:
            sandbox.load_file(state_file)
        if options["demo"]:
            demo_load(sandbox)
        server = SandboxServer(sandbox, port=options["port"], state_file=state_file)
        self.stdout.write(f"futureshop sandbox on {server.url}")
        self.stdout.write(f"shops: {', '.join(sorted(sandbox.shops)) or '-'}")
        self.stdout.flush()
        serve(
            server,
            sandbox,
            state_file=state_file,
            orders_per_minute=options["orders_per_minute"],
            say=self.stdout.write,
        )
