"""bench_api times the API's main requests on seed_bulk's data and checks the ledger after
its throughput run.

The database is committed (``transaction=True``) so that on PostgreSQL the benchmark's
server process sees the SKUs; on SQLite the test database is in memory, which no other
process can open, and the benchmark says it skips the throughput part.
"""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from api.models import ApiToken

pytestmark = pytest.mark.django_db(transaction=True)

LINES = (
    "GET /api/skus (first page)",
    "GET /api/skus?store=bulk-tokyo&status=active",
    "GET /api/skus?page=1 (of 2)",
    "GET /api/skus/{sku_id} (random)",
    "GET /api/events/{sku} (",
    "GET /api/events/{sku}, `next` to pages 2-",
    "POST /api/events/manual (+1/-1 pairs)",
)


def test_bench_api_refuses_an_empty_database():
    with pytest.raises(CommandError, match=r"fewer than 2 SKUs: run manage\.py seed_bulk first"):
        call_command("bench_api")


def test_bench_api_times_each_request_and_checks_the_ledger():
    # 3,000 events: the longest timeline (2% of them, and its share) has three pages.
    call_command("seed_bulk", "--skus", "60", "--events", "3000", stdout=StringIO())
    out = StringIO()
    call_command(
        "bench_api",
        *("--requests", "2", "--rounds", "2", "--warmup", "1", "--seconds", "2"),
        *("--timeline-pages", "2"),
        stdout=out,
    )
    report = out.getvalue()
    assert "61 SKUs" in report or "60 SKUs" in report, report
    for line in LINES:
        row = next((row for row in report.splitlines() if row.startswith(line)), None)
        assert row is not None, f"{line!r} missing:\n{report}"
        assert row.endswith((" ok", " MISSED")), row
        assert " 4 " in row, row  # n = 2 rounds x 2 requests
    assert "throttle raised to 1000000/minute" in report
    assert "latency target p95 <= 100 ms on every request: target" in report
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        assert "throughput: skipped: the database is in memory" in report
    else:
        assert "API_THROTTLE_RATE=1000000/minute for the server process" in report
        assert "adjustments/s with 4 clients" in report
        assert "each snapshot = the sum of its events" in report
        assert ": ok" in report.split("consistency:")[1]
    # The benchmark's tokens are gone.
    assert not ApiToken.objects.exists()


def test_bench_api_can_skip_the_server():
    call_command("seed_bulk", "--skus", "10", "--events", "20", stdout=StringIO())
    out = StringIO()
    call_command(
        "bench_api", "--requests", "2", "--rounds", "1", "--warmup", "0", "--no-server", stdout=out
    )
    assert "throughput: skipped (--no-server)" in out.getvalue()
