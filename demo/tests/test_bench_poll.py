"""`manage.py bench_poll` in its own process, as a person runs it (issue 15).

Tiny runs against the RMS sandbox with its real rate limits: the assertions are on what the
benchmark shows (the new path calls RMS less and reads fewer orders than the old one, no
change is missed, the ledger adds up, every order reaches the other stores, qcluster and
the scratch database are gone afterwards), never on wall time. The runs need PostgreSQL.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
POLL = re.compile(
    r"poll \d+ (new|baseline) +RMS calls (\d+) \((.*?); (\d+) answered 429\) \| "
    r"wall [\d.]+ s \(rate-limit floor \d+ s\) \| "
    r"SQL ([\d,]+) \| read ([\d,]+) \((\d+) applied, ([\d,]+) unchanged\)"
)


def number(text: str) -> int:
    return int(text.replace(",", ""))


def bench_poll(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DJANGO_DEBUG": "0", **(env or {})}  # the test run's keys
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "bench_poll", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def scratch_left() -> list[str]:
    """Scratch databases of this run's bench that were not dropped."""
    database = connection.settings_dict
    with psycopg.connect(
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        user=database["USER"],
        password=database["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        rows = admin.execute(
            "SELECT datname FROM pg_database WHERE datname = %s",
            [f"{database['NAME']}_bench_poll"],
        ).fetchall()
    return [row[0] for row in rows]


def test_sqlite_is_refused_with_a_clear_message(tmp_path):
    result = bench_poll(env={"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"})
    assert result.returncode != 0
    assert "bench_poll needs PostgreSQL" in result.stderr


@pytest.mark.postgres
def test_the_new_path_reads_less_than_the_old_and_misses_nothing():
    result = bench_poll(
        "--open", "600", "--polls", "2", "--changes", "10", "--skus", "40", "--seed", "3"
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr[-3000:] + out
    assert "600 open orders in poll-a: 597 awaiting shipment (300)" in out
    polls = POLL.findall(out)
    assert [path for path, *_ in polls] == ["baseline", "new", "baseline", "new"], out
    new = [p for p in polls if p[0] == "new"]
    old = [p for p in polls if p[0] == "baseline"]
    # The old way reads every open order (at least 600: 6 getOrder calls); the new one
    # reads what changed and what is due.
    assert min(number(p[5]) for p in old) >= 600
    assert max(number(p[5]) for p in new) < min(number(p[5]) for p in old) / 2
    assert max(int(p[1]) for p in new) < min(int(p[1]) for p in old)
    assert all("order.search" in p[2] for p in new)
    assert all(p[3] == "0" for p in polls)  # no 429: the client keeps to the rate limits
    assert all(number(p[4]) > 0 for p in polls)  # SQL statements counted
    # Each minute's changes were applied by the poll after it, on either path.
    assert all(int(p[6]) > 0 for p in polls)
    assert "consistency after the last poll: passed" in out
    # The sweep reads every order again: none of them had anything left to apply.
    sweep = re.search(r"sweep \(the nightly lookback\) .* read ([\d,]+) \((\d+) applied", out)
    assert sweep, out
    assert number(sweep.group(1)) > 600
    assert sweep.group(2) == "0"
    assert "consistency after the sweep: passed" in out
    assert re.search(r"\| 600 \| new \| \d+/\d+/\d+ \|", out), out
    assert scratch_left() == []


@pytest.mark.postgres
def test_latency_through_a_real_qcluster():
    result = bench_poll(
        "--latency",
        "--open",
        "200",
        "--minutes",
        "1",
        "--changes",
        "3",
        "--skus",
        "20",
        "--warm-up",
        "0",
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr[-3000:] + out
    found = re.search(
        r"latency: (\d+) orders placed in poll-a over 1 minutes .* all seen in poll-b and "
        r"poll-c; order -> other stores p50 (\d+) s, p95 (\d+) s, max (\d+) s",
        out,
    )
    assert found, out
    assert int(found.group(1)) == 3
    assert 0 < int(found.group(2)) <= int(found.group(3)) <= int(found.group(4))
    polls = re.search(r"poll-a polls: (\d+) \(\{'succeeded': (\d+)\}\)", out)
    assert polls, out
    assert polls.group(1) == polls.group(2)
    assert "latency parts, p50 / p95: until the poll that found the order started" in out
    pid = int(re.search(r"qcluster \(pid (\d+),", out).group(1))
    assert not Path(f"/proc/{pid}").exists()  # stopped with SIGTERM, waited for
    assert scratch_left() == []


class TestOrderDifferences:
    """The consistency check's reading: after the polls, a cancellation of an older order
    may wait for its re-read tier (its units still held); after the sweep nothing may."""

    held = {"A-1": {"mug": 2}, "A-2": {}, "A-3": {}, "A-4": {"cup": 1}}
    cancelled = {"A-2", "A-3"}

    def differences(self, net, strict):
        from demo.management.commands.bench_poll import order_differences

        return order_differences(self.held, self.cancelled, net, strict=strict)

    def test_a_ledger_that_nets_to_every_order_passes(self):
        assert self.differences({"A-1": {"mug": 2}, "A-4": {"cup": 1}}, strict=True) == ([], [])

    def test_a_cancellation_not_read_yet_waits_after_the_polls_and_fails_after_the_sweep(self):
        net = {"A-1": {"mug": 2}, "A-2": {"mug": 1}, "A-4": {"cup": 1}}
        assert self.differences(net, strict=False) == ([], ["A-2"])
        wrong, waiting = self.differences(net, strict=True)
        assert waiting == []
        assert wrong == ["A-2: the sandbox holds {}, the ledger nets {'mug': 1}"]

    def test_anything_else_fails_even_after_the_polls(self):
        # Units given back twice on a cancelled order (an oversell risk), an open order's
        # units lost, an order the ledger holds that the sandbox does not know.
        net = {"A-1": {"mug": 1}, "A-3": {"mug": -1}, "A-4": {"cup": 1}, "X-9": {"cup": 1}}
        wrong, waiting = self.differences(net, strict=False)
        assert waiting == []
        assert [line.split(":")[0] for line in wrong] == ["A-1", "A-3", "X-9"]
