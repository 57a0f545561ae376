"""How long a store stays blocked after its worker is killed with SIGKILL mid-push and
mid-poll, with the real lease (SYNC_LEASE_SECONDS) and the real schedule's cadence.

Each round: a worker process (`push_inventory` / `poll_orders`) starts against the RMS
sandbox (its own process), hangs on a call the sandbox holds back, and is killed with
SIGKILL. Then, every `--tick` seconds (the minute's schedule), the job is started again
in this process, until one run succeeds: the time from the kill to that success is the
recovery time. Each round also checks that nothing was lost or done twice.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from typing import Any

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from events.actors import Actor
from events.models import InventoryEvent, PendingPush
from inventory_site.benchmarks import scratch_database
from rakuten.bench import _sandbox_process
from skus.services import sku_create
from stores.services import store_create
from sync.models import PollState, SyncRun
from sync.orders import orders_poll
from sync.push import push_request, push_run
from sync.ratelimit import limiter
from sync.registrations import store_sku_register

SHOP = "bench-recovery"
SECRET, KEY = "SP-bench-recovery", "SL-bench-recovery"


class Command(BaseCommand):
    help = "Measure the recovery time after kill -9 of a worker mid-push and mid-poll."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument(
            "--tick", type=float, default=60.0, help="Seconds between restarts (the schedule)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("needs PostgreSQL: the killed worker shares the database")
        self.stdout.write(
            f"lease {settings.SYNC_LEASE_SECONDS} s, restart every {options['tick']:g} s, "
            f"{options['rounds']} rounds"
        )
        with scratch_database("bench_recovery") as name:
            process, url = _sandbox_process()
            try:
                self._setup(url)
                pushes = [
                    self._push_round(url, name, options["tick"]) for _ in range(options["rounds"])
                ]
                polls = [
                    self._poll_round(url, name, options["tick"]) for _ in range(options["rounds"])
                ]
            finally:
                process.terminate()
                process.wait(timeout=10)
        for label, times in (("push", pushes), ("poll", polls)):
            self.stdout.write(
                f"recovery after kill -9 mid-{label}: min {min(times):.1f} s, "
                f"median {statistics.median(times):.1f} s, max {max(times):.1f} s "
                f"(target <= 120 s): {'met' if max(times) <= 120 else 'MISSED'}"
            )

    def _setup(self, url: str) -> None:
        limiter.reset()
        requests.post(
            f"{url}/_sandbox/shops",
            json={
                "shopId": SHOP,
                "serviceSecret": SECRET,
                "licenseKey": KEY,
                "items": [
                    {"manageNumber": "item", "variants": [{"variantId": "V1", "quantity": 50}]}
                ],
            },
            timeout=30,
        ).raise_for_status()
        actor = Actor.system("bench")
        store_create(
            store_id=SHOP,
            store_name=SHOP,
            api_config={"base_url": url},
            credentials={"service_secret": SECRET, "license_key": KEY},
            actor=actor,
        )
        sku_create(sku_id="V1", sku_name="V1", initial_stock=50, actor=actor)
        store_sku_register(
            store_id=SHOP, sku_id="v1", manage_number="item", variant_id="V1", actor=actor
        )
        orders_poll(store_id=SHOP)  # the origin: orders from now on count

    def _kill_mid_run(
        self, url: str, database: str, kind: str, endpoint: str, *command: str
    ) -> float:
        requests.post(
            f"{url}/_sandbox/faults",
            json={"endpoint": endpoint, "kind": "hang", "count": 1},
            timeout=10,
        ).raise_for_status()
        env = {**os.environ, "DATABASE_URL": _database_url(database)}
        worker = subprocess.Popen(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", *command],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while (
            not SyncRun.objects.filter(kind=kind, status="running").exclude(lease_token="").exists()
        ):
            if time.monotonic() > deadline:
                worker.kill()
                raise CommandError(f"the {kind} worker never started")
            time.sleep(0.1)
        time.sleep(1.0)  # its call is in flight, held back by the sandbox
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        return time.monotonic()

    def _until_succeeded(self, start: Any, killed: float, tick: float) -> float:
        while True:
            time.sleep(tick)
            if start().status == SyncRun.Status.SUCCEEDED:
                return time.monotonic() - killed

    def _push_round(self, url: str, database: str, tick: float) -> float:
        push_request(store_id=SHOP)
        killed = self._kill_mid_run(
            url, database, "push", "inventory.bulk_upsert", "push_inventory", "--store", SHOP
        )
        took = self._until_succeeded(lambda: push_run(store_id=SHOP), killed, tick)
        if PendingPush.objects.filter(store_id=SHOP).exclude(verify_after__isnull=False).exists():
            raise CommandError("a push was lost")
        self.stdout.write(f"push: recovered in {took:.1f} s")
        return took

    def _poll_round(self, url: str, database: str, tick: float) -> float:
        before = InventoryEvent.objects.filter(store_id=SHOP).count()
        answer = requests.post(
            f"{url}/_sandbox/shops/{SHOP}/orders",
            json={"lines": [{"manageNumber": "item", "variantId": "V1", "units": 1}]},
            timeout=10,
        )
        answer.raise_for_status()
        killed = self._kill_mid_run(
            url, database, "poll", "order.search", "poll_orders", "--store", SHOP
        )
        took = self._until_succeeded(lambda: orders_poll(store_id=SHOP), killed, tick)
        taken = InventoryEvent.objects.filter(store_id=SHOP).count() - before
        if taken != 1:
            raise CommandError(f"the order was recorded {taken} times, not once")
        if PollState.objects.get(store_id=SHOP).last_poll_at is None:
            raise CommandError("no poll succeeded")
        self.stdout.write(f"poll: recovered in {took:.1f} s, the order taken once")
        return took


def _database_url(name: str) -> str:
    database = connection.settings_dict
    return (
        f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{name}"
    )
