import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from rakuten.sandbox.demo import demo_load
from rakuten.sandbox.server import SandboxServer
from rakuten.sandbox.state import Sandbox


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
        stop = threading.Event()
        worker = threading.Thread(
            target=self._run_clock,
            args=(sandbox, stop, options["orders_per_minute"], state_file),
            daemon=True,
        )
        worker.start()
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
        self.stdout.write(
            f"RMS sandbox on {server.url} with shops: {', '.join(sorted(sandbox.shops)) or '-'}"
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            server.server_close()
            if state_file:
                sandbox.save(state_file)
                self.stdout.write(f"State saved to {state_file}")

    @staticmethod
    def _run_clock(
        sandbox: Sandbox, stop: threading.Event, per_minute: float, state_file: Path | None
    ) -> None:
        owed = 0.0
        last = time.monotonic()
        saved = last
        while not stop.wait(1.0):
            now = time.monotonic()
            owed += per_minute * (now - last) / 60
            last = now
            sandbox.tick()
            if owed >= 1:
                sandbox.generate(int(owed))
                owed -= int(owed)
            if state_file and now - saved > 30:
                sandbox.save(state_file)
                saved = now
