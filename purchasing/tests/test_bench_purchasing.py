"""bench_purchasing seeds a scratch database, times the purchasing API's list and, on
PostgreSQL, runs concurrent claim/release workers and checks the locks.

The command creates and drops its own scratch database (``<db>_bench_purchasing``). On
PostgreSQL it runs in-process (``call_command``): its scratch database is then named
after the test database. The SQLite test database is in memory, and the scratch database
cannot be switched to from it in-process, so there it runs in its own process (as
bench_ledger's test does), on a file under var/, and says the claims need PostgreSQL.
"""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
ARGS = (
    *("--purchases", "60", "--rounds", "1", "--requests", "2", "--warmup", "1"),
    *("--seconds", "1", "--workers", "2"),
)

pytestmark = pytest.mark.django_db(transaction=True)

LINES = (
    "GET list (first page)",
    "GET ?delivery_status=in_delivery",
    "GET ?batch_encoding=",
    "GET ?official_account=",
    "GET ?is_locked=true",
    "GET ?is_deleted=true",
    "GET ?search=",
    "GET ?search=<a full tracking number>",
    "GET ?ordering=-updated_at",
    "GET ?page=",
    "GET {id}/ (random)",
)


def test_bench_purchasing_refuses_nonsense():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("bench_purchasing", "--purchases", "0")


def test_bench_purchasing_measures_and_checks_the_locks(settings):
    vendor = connection.vendor
    if vendor == "postgresql":
        settings.DEBUG = False
        out = StringIO()
        call_command("bench_purchasing", *ARGS, stdout=out)
        report = out.getvalue()
    else:
        env = {**os.environ, "DJANGO_DEBUG": "0"}  # the test run's own keys (test_settings)
        env.pop("DJANGO_SETTINGS_MODULE", None)
        result = subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", "bench_purchasing", *ARGS],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        report = result.stdout
    assert "seed: 60 purchases (" in report, report
    assert "180 items" in report
    for line in LINES:
        row = next((row for row in report.splitlines() if row.startswith(line)), None)
        assert row is not None, f"{line!r} missing:\n{report}"
        assert row.endswith((" ok", " MISSED")), row
        assert " 2 " in row, row  # n = 1 round x 2 requests
    assert "throttle raised to 1000000/minute" in report
    assert "latency target p95 <= 300 ms (issue 15's staff-page target)" in report
    if vendor == "postgresql":
        for limit in (1, 10):
            assert f"claims (limit {limit}): " in report
            consistency = report.split(f"consistency (limit {limit}): ")[1].splitlines()[0]
            assert "no two workers held one purchase at once" in consistency
            assert consistency.endswith(": ok"), consistency
    else:
        assert "claims: skipped: needs PostgreSQL" in report
