import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from rakuten.sandbox.demo import demo_load
from rakuten.sandbox.server import SandboxServer
from rakuten.sandbox.state import Sandbox
from sync.sandbox.serve import serve


class Command(BaseCommand):
    help = "Serve a stateful fake Rakuten RMS on loopback (demo, end-to-end tests, benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--demo", action="store_true", help="Create the demo shops.")
        parser.add_argument("--state", type=Path, help="JSON file to load from and save to.")
        parser.add_argument(
            "--orders-per-minute",
            type=float,
            default=0.0,
            help="Generate orders at this steady rate (and move older ones along).",
        )
        parser.add_argument("--seed", type=int, default=0, help="Seed of the order generator.")
        parser.add_argument(
            "--rate-limits",
            type=json.loads,
            default=None,
            help="Per-endpoint requests/second, e.g. '{\"order.search\": 10}'.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sandbox = Sandbox(rate_limits=options["rate_limits"], seed=options["seed"])
        state_file: Path | None = options["state"]
        if state_file and state_file.exists():
            sandbox.load(json.loads(state_file.read_text()))
        if options["demo"]:
            demo_load(sandbox)
        server = SandboxServer(sandbox, port=options["port"], state_file=state_file)
        self.stdout.write(
            f"RMS sandbox on {server.url} with shops: {', '.join(sorted(sandbox.shops)) or '-'}"
        )
        serve(
            server,
            sandbox,
            state_file=state_file,
            orders_per_minute=options["orders_per_minute"],
            say=self.stdout.write,
        )
