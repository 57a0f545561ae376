"""bench_ledger runs its contenders interleaved in a scratch database and checks the
ledger they leave.

The command creates and drops its own scratch database (``<db>_bench_ledger``). On
PostgreSQL it runs in-process (``call_command``), its scratch database named after the
test database. The SQLite test database is in memory and cannot be switched away from
in-process, so there the command runs in its own process, on a file under var/, and
says the comparison needs PostgreSQL.
"""

import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from events import ledger
from events.management.commands import bench_ledger
from events.models import EventSource, EventType
from events.services import event_record
from skus.tests.factories import SkuFactory

ROOT = Path(__file__).resolve().parents[2]
ARGS = ("--events", "40", "--skus", "3", "--writers", "2", "--stores", "2", "--rounds", "2")
SPREAD = r"min [\d,.]+  median [\d,.]+  max [\d,.]+"

pytestmark = pytest.mark.django_db(transaction=True)


def test_bench_ledger_refuses_nonsense():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("bench_ledger", "--rounds", "0")


def test_on_sqlite_it_measures_the_service_only_and_checks_the_ledger():
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite run")
    env = {**os.environ, "DJANGO_DEBUG": "0"}  # the test run's own keys (test_settings)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "bench_ledger", *ARGS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = result.stdout
    assert "sqlite: 40 events, 3 SKU(s), 2 writer(s), 2 store(s) each, 2 round(s)" in report
    assert "needs PostgreSQL" in report
    assert re.search(r"round 1: service [\d,]+ events/s", report), report
    assert re.search(rf"service +{SPREAD}", report), report
    assert "ratio" not in report
    assert "checked: no snapshot drift" in report


@pytest.mark.postgres
def test_on_postgresql_it_compares_three_contenders_interleaved(settings):
    settings.DEBUG = False
    out = StringIO()
    call_command("bench_ledger", *ARGS, stdout=out)
    report = out.getvalue()
    # Round 2 starts where round 1 did not: the order rotates.
    assert re.search(r"round 1: service .*, raw baseline .*, bare statement ", report), report
    assert re.search(r"round 2: raw baseline .*, bare statement .*, service ", report), report
    assert re.search(r"service/raw \d+\.\d\d, bare/raw \d+\.\d\d", report), report
    for contender in ("service", "raw baseline", "bare statement"):
        assert re.search(rf"  {contender} +{SPREAD}", report), report
    for ratio in ("service/raw", "bare/raw", "service/bare"):
        assert re.search(rf"ratio {ratio}: +{SPREAD}", report), report
    assert "issue 15 target: service/raw >= 0.9 (median): " in report
    assert "checked: no snapshot drift, balances chain, outbox consistent" in report


@pytest.mark.postgres
def test_on_postgresql_a_baseline_that_skips_the_snapshot_fails_the_check(settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.setattr(
        bench_ledger,
        "_RAW_SNAPSHOT",
        bench_ledger._RAW_SNAPSHOT.replace(
            "snap.internal_available + %s", "snap.internal_available + 0 * %s"
        ),
    )
    with pytest.raises(CommandError, match="drift from their events") as failure:
        call_command("bench_ledger", *ARGS, stdout=StringIO())
    assert "do not chain" in str(failure.value)


@pytest.mark.postgres
def test_on_postgresql_the_service_prepares_its_statement_once_per_connection():
    """As the bare contender sends it (prepare=True), so that service/bare is Django's
    share alone; Django's connections have preparing off, which ignored prepare=True."""
    sku = SkuFactory(initial_stock=10)
    for _ in range(3):
        event = event_record(
            sku_id=sku.sku_id,
            quantity=-1,
            event_type=EventType.ORDER_RECEIVED,
            source=EventSource.API,
            operator="t",
        )
    assert event.balance_after == 7
    statement, _columns = ledger.pg_write_statement()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    # psycopg numbers the placeholders ($1, $2 ...) of what it prepares.
    assert [re.sub(r"\$\d+", "%s", text) for text in prepared].count(statement) == 1
