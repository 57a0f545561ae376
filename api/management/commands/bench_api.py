"""Speed of the JSON API on a large data set (run `seed_bulk` first).

Two parts:

- latency: p50/p95 of the main reads and of a manual adjustment, requested in-process
  (``APIClient``, ``Authorization: Token``) by an operator, in interleaved rounds;
- throughput: adjustments per second through a real HTTP server process with concurrent
  client processes, each with its own token, then a check that the ledger adds up.

Both raise the per-token throttle, which would otherwise cap them (600/minute by default):
the server process gets ``API_THROTTLE_RATE``, this process an overridden setting.
"""

from __future__ import annotations

import importlib.util
import math
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.models import Count
from django.test.utils import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from api.models import ApiToken
from events.models import InventoryEvent, InventorySnapshot
from events.selectors import snapshot_drift
from inventory_site.permissions import groups_ensure
from skus.models import Sku
from stores.models import StoreSku

TARGET_MS = 100
BENCH_USER = "bench-api"
THROTTLE_RATE = "1000000/minute"
# `manage.py runserver --noreload` with TCP_NODELAY on each connection. runserver writes a
# response's headers and body in separate sends: without it, Nagle's algorithm holds the
# body until the client's delayed ACK (~40 ms on Linux) and every keep-alive request takes
# ~50 ms more (measured 60 ms against 13 ms for a GET of one SKU), which is runserver's
# cost, not the app's. Production servers (gunicorn, waitress) set TCP_NODELAY themselves.
RUNSERVER_NODELAY = """
import socket, sys
from django.core.servers import basehttp
from django.core.management import execute_from_command_line

setup = basehttp.WSGIRequestHandler.setup

def setup_nodelay(self):
    setup(self)
    self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

basehttp.WSGIRequestHandler.setup = setup_nodelay
execute_from_command_line(["manage.py", "runserver", "--noreload", "--skip-checks", sys.argv[1]])
"""
MSG_EMPTY = "The database has fewer than 2 SKUs: run manage.py seed_bulk first."


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


@dataclass
class Line:
    """One kind of request: ``request(n)`` sends the n-th one and returns the response."""

    name: str
    request: Callable[[int], Any]
    times: list[float] = field(default_factory=list)
    round_p95: list[float] = field(default_factory=list)
    queries: int = 0


class Command(BaseCommand):
    help = (
        "p50/p95 of the API's main requests in-process (target p95 <= 100 ms), then "
        "adjustments/s over HTTP with concurrent clients, and a ledger check."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--requests", type=int, default=50, help="timed requests per line and round"
        )
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument("--warmup", type=int, default=3, help="untimed requests per line")
        parser.add_argument(
            "--timeline-pages", type=int, default=5, help="pages followed by `next`"
        )
        parser.add_argument("--clients", type=int, default=4, help="throughput: client processes")
        parser.add_argument("--seconds", type=float, default=15.0, help="throughput: duration")
        parser.add_argument(
            "--server",
            choices=["auto", "gunicorn", "waitress", "runserver"],
            default="auto",
            help="throughput: the HTTP server (auto: gunicorn, else waitress, else runserver)",
        )
        parser.add_argument("--no-server", action="store_true", help="skip the throughput part")
        parser.add_argument(
            "--only", choices=["latency", "throughput"], help="run one part (default: both)"
        )
        parser.add_argument(
            "--analyze",
            action="store_true",
            help="PostgreSQL: VACUUM (ANALYZE) the tables read first, as autovacuum would",
        )
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        if min(options["requests"], options["rounds"], options["clients"]) < 1:
            raise CommandError("--requests, --rounds and --clients must be at least 1.")
        if settings.DEBUG:
            raise CommandError("Benchmarks run with debug off: unset DJANGO_DEBUG.")
        skus = Sku.objects.count()
        if skus < 2:
            raise CommandError(MSG_EMPTY)
        self.random = random.Random(options["seed"])
        self.run_id = uuid.uuid4().hex[:12]
        groups_ensure()
        self.user, _ = User.objects.get_or_create(username=BENCH_USER, defaults={"is_staff": True})
        if not self.user.is_staff or not self.user.is_active:
            User.objects.filter(pk=self.user.pk).update(is_staff=True, is_active=True)
        self.user.groups.add(Group.objects.get(name="operator"))
        events = InventoryEvent.objects.count()
        self.stdout.write(
            f"{connection.vendor}, {skus} SKUs, {events} events; user {BENCH_USER} "
            f"(operator) with API tokens"
        )
        self.statistics(analyze=options["analyze"])
        missed: list[str] | None = None
        try:
            if options["only"] != "throughput":
                missed = self.latency(options, skus)
            if options["only"] == "latency" or options["no_server"]:
                why = "--no-server" if options["no_server"] else "--only latency"
                self.stdout.write(f"throughput: skipped ({why})")
            elif connection.vendor == "sqlite" and connection.is_in_memory_db():
                self.stdout.write(
                    "throughput: skipped: the database is in memory (the SQLite test database), "
                    "a server process could not see it"
                )
            else:
                self.throughput(options)
        finally:
            # knox reads every token of the user at each request: leave none behind.
            ApiToken.objects.filter(user=self.user).delete()
        if missed is not None:
            self.stdout.write(
                f"latency target p95 <= {TARGET_MS} ms on every request: "
                + ("target met" if not missed else f"target MISSED ({', '.join(missed)})")
            )

    def statistics(self, *, analyze: bool) -> None:
        """PostgreSQL plans by its statistics: a database loaded in bulk with autovacuum off
        has none, and plans as if its tables were nearly empty."""
        if connection.vendor != "postgresql":
            return
        tables = [m._meta.db_table for m in (Sku, StoreSku, InventorySnapshot, InventoryEvent)]
        if analyze:
            began = time.perf_counter()
            with connection.cursor() as cursor:
                for table in tables:
                    cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")
            self.stdout.write(
                f"planner statistics: VACUUM (ANALYZE) of {', '.join(tables)} "
                f"({time.perf_counter() - began:.1f} s; --analyze)"
            )
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(%s) "
                "AND last_analyze IS NULL AND last_autoanalyze IS NULL ORDER BY relname",
                [tables],
            )
            never = [row[0] for row in cursor.fetchall()]
            cursor.execute("SHOW autovacuum")
            autovacuum = cursor.fetchone()[0]
        if never:
            self.stdout.write(
                f"planner statistics: WARNING {', '.join(never)} never analyzed "
                f"(autovacuum {autovacuum}): the plans may not be those of a live server; "
                f"--analyze runs VACUUM (ANALYZE) first"
            )
        else:
            self.stdout.write(f"planner statistics: present (autovacuum {autovacuum})")

    # --- latency, in-process ------------------------------------------------------------

    def latency(self, options: dict[str, Any], skus: int) -> list[str]:
        _instance, token = ApiToken.objects.create(user=self.user, name="bench")
        client = APIClient(HTTP_HOST=settings.ALLOWED_HOSTS[0])
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        lines = self.lines(client, skus, options["timeline_pages"])
        rounds, n = options["rounds"], options["requests"]
        self.stdout.write(
            f"latency: in-process APIClient (no HTTP server, one reused database connection), "
            f"{rounds} round(s) x {n} requests per line after {options['warmup']} warm-up, "
            f"lines interleaved request by request; throttle raised to {THROTTLE_RATE} "
            f"in this process"
        )
        rest = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": THROTTLE_RATE}}
        with override_settings(DEBUG=False, REST_FRAMEWORK=rest):
            for i in range(options["warmup"]):
                for line in lines:
                    line.request(i)
            for r in range(rounds):
                start = len(lines[0].times)
                for i in range(n):
                    for line in lines:
                        counter = _Counter()
                        with connection.execute_wrapper(counter):
                            began = time.perf_counter()
                            line.request(r * n + i)
                            line.times.append((time.perf_counter() - began) * 1000)
                        line.queries = counter.count
                for line in lines:
                    line.round_p95.append(percentile(line.times[start:], 0.95))
        width = max(len(line.name) for line in lines) + 1
        self.stdout.write(
            f"{'request':<{width}} {'n':>5} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} "
            f"{'queries':>7}  {'p95 over rounds min/median/max ms':>33}"
        )
        missed = []
        for line in lines:
            p95 = percentile(line.times, 0.95)
            over = (
                f"{min(line.round_p95):.1f} / {statistics.median(line.round_p95):.1f} / "
                f"{max(line.round_p95):.1f}"
            )
            verdict = "ok" if p95 <= TARGET_MS else "MISSED"
            if verdict != "ok":
                missed.append(line.name)
            self.stdout.write(
                f"{line.name:<{width}} {len(line.times):5d} {statistics.median(line.times):7.1f} "
                f"{p95:7.1f} {max(line.times):7.1f} {line.queries:7d}  {over:>33}  {verdict}"
            )
        return missed

    def lines(self, client: APIClient, skus: int, depth: int) -> list[Line]:
        """The requests, found by queries (no seed_bulk names assumed)."""
        store = (
            StoreSku.objects.values("store_id")
            .annotate(n=Count("id"))
            .order_by("-n", "store_id")
            .values_list("store_id", flat=True)
            .first()
        )
        last_page = math.ceil(skus / 50)
        deep = max(1, last_page * 9 // 10)
        busiest, busiest_events = (
            InventoryEvent.objects.values("sku_id")
            .annotate(n=Count("event_id"))
            .order_by("-n", "sku_id")
            .values_list("sku_id", "n")[0]
        )
        sample = list(Sku.objects.order_by("?").values_list("sku_id", flat=True)[:200])
        stocked = _stocked(200)
        skus_url = reverse("api:skus")
        timeline = reverse("api:timeline", args=[busiest])
        adjust = reverse("api:adjust")

        def get(url: str) -> Any:
            response = client.get(url)
            if response.status_code != 200:
                raise CommandError(
                    f"GET {url} answered {response.status_code}: {response.content[:300]!r}"
                )
            return response

        chain = []  # the `next` of timeline pages 1..depth: pages 2..depth+1
        url: str | None = timeline
        for _ in range(max(1, depth)):
            url = get(url).json()["next"]
            if url is None:
                break
            parts = urlsplit(url)
            chain.append(f"{parts.path}?{parts.query}")
            url = chain[-1]
        pair_sku = {}

        def post(n: int) -> Any:
            # A +1 then a -1 on the same random SKU: the stock never goes below zero.
            if n % 2 == 0:
                pair_sku[n // 2] = self.random.choice(stocked)
            body = {
                "sku_id": pair_sku[n // 2],
                "quantity": 1 if n % 2 == 0 else -1,
                "reason": f"bench_api {self.run_id}",
                "idempotency_key": uuid.uuid4().hex,
            }
            response = client.post(adjust, body, format="json")
            if response.status_code != 201:
                raise CommandError(
                    f"POST {adjust} answered {response.status_code}: {response.content[:300]!r}"
                )
            return response

        lines = [
            Line("GET /api/skus (first page)", lambda n: get(skus_url)),
            Line(
                f"GET /api/skus?page={deep} (of {last_page})",
                lambda n: get(f"{skus_url}?page={deep}"),
            ),
            Line(
                "GET /api/skus/{sku_id} (random)",
                lambda n: get(reverse("api:sku", args=[self.random.choice(sample)])),
            ),
            Line(
                f"GET /api/events/{{sku}} ({busiest_events} events), page 1",
                lambda n: get(timeline),
            ),
        ]
        if store is not None:
            lines.insert(
                1,
                Line(
                    f"GET /api/skus?store={store}&status=active",
                    lambda n: get(f"{skus_url}?store={store}&status=active"),
                ),
            )
        else:
            self.stdout.write("GET /api/skus?store=: not timed, no SKU is registered to a store")
        if chain:
            lines.append(
                Line(
                    f"GET /api/events/{{sku}}, `next` to pages 2-{len(chain) + 1}",
                    lambda n: get(chain[n % len(chain)]),
                )
            )
        else:
            self.stdout.write(
                f"GET /api/events/{{sku}}, `next`: not timed, the longest timeline "
                f"({busiest_events} events) has one page"
            )
        lines.append(Line("POST /api/events/manual (+1/-1 pairs)", post))
        return lines

    # --- throughput, over HTTP ------------------------------------------------------------

    def throughput(self, options: dict[str, Any]) -> None:
        clients, seconds = options["clients"], options["seconds"]
        tokens = [
            ApiToken.objects.create(user=self.user, name=f"bench client {i}")[1]
            for i in range(clients)
        ]
        sample = _stocked(1000)
        reason = f"bench_api throughput {self.run_id}"
        port = _free_port()
        command, label = _server_command(options["server"], clients, port)
        env = {
            **os.environ,
            "API_THROTTLE_RATE": THROTTLE_RATE,
            "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE,
            "DATABASE_URL": _database_url(),
        }
        env.pop("DJANGO_DEBUG", None)
        conn_max_age = settings.DATABASES["default"].get("CONN_MAX_AGE", 0)
        self.stdout.write(
            f"throughput: {clients} client processes x {seconds:g} s of POST /api/events/manual "
            f"(+1/-1 pairs on {len(sample)} random SKUs, a fresh idempotency key each) over "
            f"HTTP to {label}; API_THROTTLE_RATE={THROTTLE_RATE} for the server process; "
            f"CONN_MAX_AGE={conn_max_age}"
        )
        base = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryFile(mode="w+") as log:
            server = subprocess.Popen(  # noqa: S603 - our own manage.py / server
                command,
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                _wait_ready(server, base, tokens[0], log)
                cpu = _cpu(server.pid)
                results = _run_clients(base, tokens, sample, reason, seconds, options["seed"])
                cpu = _cpu(server.pid, since=cpu)
            finally:
                server.terminate()
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
        self.report_throughput(results, reason, clients, cpu)

    def report_throughput(
        self, results: list[dict[str, Any]], reason: str, clients: int, cpu: dict[str, float]
    ) -> None:
        statuses: Counter[int | str] = Counter()
        touched: set[str] = set()
        latencies: list[float] = []
        for result in results:
            statuses.update(result["statuses"])
            touched.update(result["touched"])
            latencies.extend(result["latencies"])
        created = statuses.get(201, 0)
        began = min(r["began"] for r in results)
        ended = max(r["ended"] for r in results)
        per_client = sorted(r["statuses"].get(201, 0) / (r["ended"] - r["began"]) for r in results)
        others = {k: v for k, v in statuses.items() if k != 201}
        self.stdout.write(
            f"throughput: {created} adjustments in {ended - began:.1f} s = "
            f"{created / (ended - began):.1f} adjustments/s with {clients} clients; per client "
            f"min {per_client[0]:.1f}, median {statistics.median(per_client):.1f}, "
            f"max {per_client[-1]:.1f} /s; HTTP latency p50 "
            f"{statistics.median(latencies) if latencies else 0:.1f} ms, p95 "
            f"{percentile(latencies, 0.95) if latencies else 0:.1f} ms; other answers: "
            + (", ".join(f"{v} x {k}" for k, v in sorted(others.items(), key=str)) or "none")
        )
        if cpu:
            requests_sent = sum(statuses.values())
            self.stdout.write(
                f"throughput: CPU during the run: machine {cpu['busy']:.0%} busy "
                f"({os.cpu_count()} cores); server process {cpu['server']:.1f} s = "
                f"{cpu['server'] * 1000 / max(1, requests_sent):.1f} ms per request"
            )
        drift = snapshot_drift(sku_ids=touched)
        recorded = InventoryEvent.objects.filter(sku_id__in=touched, reason=reason).count()
        ok = not drift and recorded == created
        self.stdout.write(
            f"consistency: {len(touched)} SKUs touched, "
            + (
                f"{len(drift)} snapshot(s) NOT the sum of their events"
                if drift
                else "each snapshot = the sum of its events"
            )
            + f"; {recorded} new events for {created} answers 201: "
            + ("ok" if ok else "FAILED")
        )
        if not ok:
            raise CommandError(f"the throughput run left the ledger inconsistent: {drift[:3]}")


def _server_command(choice: str, clients: int, port: int) -> tuple[list[str], str]:
    """The server's command line and what it is: gunicorn or waitress when installed (a
    production server), else Django's runserver (threaded: one thread per connection)."""
    found = {name: importlib.util.find_spec(name) is not None for name in ("gunicorn", "waitress")}
    if choice == "auto":
        choice = next((name for name in ("gunicorn", "waitress") if found[name]), "runserver")
    elif choice != "runserver" and not found[choice]:
        raise CommandError(f"{choice} is not installed in this Python environment.")
    app = "inventory_site.wsgi:application"
    if choice == "gunicorn":
        return (
            [
                *(sys.executable, "-m", "gunicorn", app, "--workers", str(clients)),
                *("--bind", f"127.0.0.1:{port}", "--log-level", "warning"),
            ],
            f"gunicorn ({clients} sync workers)",
        )
    if choice == "waitress":
        return (
            [
                *(sys.executable, "-m", "waitress", f"--threads={clients}"),
                *(f"--listen=127.0.0.1:{port}", app),
            ],
            f"waitress ({clients} threads)",
        )
    why = "" if any(found.values()) else "; no WSGI server (gunicorn, waitress) is installed"
    return (
        [sys.executable, "-c", RUNSERVER_NODELAY, f"127.0.0.1:{port}"],
        f"runserver --noreload (threaded, TCP_NODELAY set by the bench{why})",
    )


def _stocked(count: int) -> list[str]:
    """Random SKUs not below zero (an oversold one refuses the -1 after the +1)."""
    skus = list(
        Sku.objects.filter(snapshot__internal_available__gte=0)
        .order_by("?")
        .values_list("sku_id", flat=True)[:count]
    )
    if not skus:
        raise CommandError("No SKU has a stock of 0 or more to adjust.")
    return skus


def _cpu(pid: int, since: dict[str, float] | None = None) -> dict[str, float]:
    """CPU seconds of the server process (and its workers) and of the machine, from /proc
    (Linux); with ``since``, the share of the machine busy and the server's seconds since."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(v) for v in stat.readline().split()[1:]]
        pids = [pid]
        children = f"/proc/{pid}/task/{pid}/children"
        if os.path.exists(children):
            with open(children) as f:
                pids += [int(p) for p in f.read().split()]
        server = 0
        for each in pids:
            with open(f"/proc/{each}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            server += int(fields[11]) + int(fields[12])  # utime, stime
    except (OSError, ValueError, IndexError):
        return {}
    hz = os.sysconf("SC_CLK_TCK")
    now = {"total": sum(ticks), "idle": ticks[3] + ticks[4], "server": server / hz}
    if since is None:
        return now
    if not since:
        return {}
    total = now["total"] - since["total"]
    return {
        "busy": 1 - (now["idle"] - since["idle"]) / total if total else 0.0,
        "server": now["server"] - since["server"],
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    """The database this process uses, for the server process (under pytest: the test
    database, which a plain DATABASE_URL would not name)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    if connection.vendor != "postgresql":
        raise CommandError(
            f"throughput: {connection.vendor} is not supported (PostgreSQL or SQLite)"
        )
    auth = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{quote(db['NAME'], safe='')}"


def _wait_ready(server: subprocess.Popen, base: str, token: str, log: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            response = requests.get(
                f"{base}/api/skus?page_size=1",
                headers={"Authorization": f"Token {token}"},
                timeout=5,
            )
        except requests.ConnectionError:
            time.sleep(0.2)
            continue
        if response.status_code == 200:
            return
        break
    server.terminate()
    server.wait(timeout=10)
    log.seek(0)
    raise CommandError(f"the server did not answer 200 at {base}/api/skus: {log.read()[-2000:]}")


def _run_clients(
    base: str, tokens: list[str], sample: list[str], reason: str, seconds: float, seed: int
) -> list[dict[str, Any]]:
    """One process per token, forked (they use no database), started together."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    start = context.Event()
    # The children never touch the inherited database connection, and leave by os._exit.
    processes = [
        context.Process(
            target=_client,
            args=(base, token, sample, reason, seconds, seed + i, start, queue),
            daemon=True,
        )
        for i, token in enumerate(tokens)
    ]
    for process in processes:
        process.start()
    start.set()
    results = [queue.get(timeout=seconds + 120) for _ in processes]
    for process in processes:
        process.join(timeout=10)
    failed = [r["error"] for r in results if r.get("error")]
    if failed:
        raise CommandError(f"a client failed: {failed[0]}")
    return results


def _client(
    base: str,
    token: str,
    sample: list[str],
    reason: str,
    seconds: float,
    seed: int,
    start: Any,
    queue: Any,
) -> None:
    """POST +1/-1 pairs on random SKUs until the time is up (the last pair is finished)."""
    rng = random.Random(seed)
    statuses: Counter[int | str] = Counter()
    touched: set[str] = set()
    latencies: list[float] = []
    error = ""
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    start.wait()
    began = time.monotonic()  # one clock for every process
    deadline = began + seconds
    try:
        while time.monotonic() < deadline:
            sku_id = rng.choice(sample)
            touched.add(sku_id)
            for quantity in (1, -1):
                body = {
                    "sku_id": sku_id,
                    "quantity": quantity,
                    "reason": reason,
                    "idempotency_key": uuid.uuid4().hex,
                }
                sent = time.perf_counter()
                try:
                    response = session.post(f"{base}/api/events/manual", json=body, timeout=30)
                except requests.RequestException as exc:
                    statuses[type(exc).__name__] += 1
                    continue
                latencies.append((time.perf_counter() - sent) * 1000)
                statuses[response.status_code] += 1
    except Exception as exc:  # reported by the parent
        error = repr(exc)
    ended = time.monotonic()
    queue.put(
        {
            "statuses": dict(statuses),
            "touched": sorted(touched),
            "latencies": latencies,
            "began": began,
            "ended": ended,
            "error": error,
        }
    )


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)
