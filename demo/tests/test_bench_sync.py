"""`manage.py bench_sync --platform futureshop | mixed` in its own process, as a person runs it.

Small runs with futureshop's real rate limits (1 call/s per endpoint): the assertions are
on correctness only (calls, 429s, quantities, every store showing the pool), never on
wall time. Few orders an hour keep the polls short: each open futureshop order is read
again at every poll, one call a second.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bench_sync(*args: str) -> str:
    env = {**os.environ, "DJANGO_DEBUG": "0"}  # the test run's own keys (test_settings)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "bench_sync", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_futureshop_full_push_and_latency():
    out = bench_sync(
        "--platform",
        "futureshop",
        "--skus",
        "300",
        "--minutes",
        "3",
        "--stores",
        "2",
        "--orders-per-hour",
        "120",
    )
    assert "platform: futureshop" in out
    assert "catalogue: 300 SKUs in 62 products of 1 to 9 SKUs" in out
    push = re.search(
        r"full push: ([\d,]+) SKUs, (\d+) calls \(ceil\(products/100\) = (\d+) at 1/s\), "
        r"(\d+) answered 429, wall [\d.]+ s = [\d.]+ x the bound of [\d.]+ s, "
        r"(\d+) wrong quantities",
        out,
    )
    assert push, out
    pushed, calls, bound, limited, wrong = push.groups()
    assert (pushed, calls, bound, limited, wrong) == ("300", "1", "1", "0", "0")
    assert "latency: all 2 stores show what the pool holds (50 SKUs checked in each)" in out
    latency = re.search(
        r"latency: (\d+) orders in 3 simulated minutes over 2 stores \(2 futureshop\); .*"
        r"order -> other stores p50 \d+ s, p95 \d+ s",
        out,
    )
    assert latency, out
    assert int(latency.group(1)) > 0
    assert re.search(r"futureshop calls answered: .*\d+ order\.get", out), out


def test_mixed_latency_reaches_the_other_platforms_stores():
    out = bench_sync(
        "--platform", "mixed", "--only", "latency", "--minutes", "3", "--orders-per-hour", "120"
    )
    assert "full push" not in out
    assert "latency: all 3 stores show what the pool holds (50 SKUs checked in each)" in out
    assert re.search(
        r"latency: \d+ orders in 3 simulated minutes over 3 stores "
        r"\(1 rakuten, 1 futureshop, 1 ebay\); .*order -> other stores p50 \d+ s, p95 \d+ s",
        out,
    ), out
    # Orders came from every platform, and each platform's stores were told.
    for platform in ("rakuten", "futureshop", "ebay"):
        found = re.search(rf"latency: (\d+) orders from {platform}: ", out)
        assert found, out
        assert int(found.group(1)) > 0, out
    assert re.search(r"rakuten calls answered: .*\d+ inventory\.bulk_upsert", out), out
    assert re.search(r"futureshop calls answered: .*\d+ inventory\.update", out), out
    assert re.search(r"ebay calls answered: .*\d+ stock\.bulk_update", out), out


def test_rakuten_stays_the_default_platform():
    out = bench_sync("--skus", "800", "--only", "push")
    assert "platform:" not in out
    assert re.search(
        r"full push: 800 SKUs, 2 calls \(ceil\(N/400\) = 2\), 0 answered 429, "
        r"wall [\d.]+ s = [\d.]+ x the bound of 2 s, 0 wrong quantities",
        out,
    ), out


def test_ebay_full_push_and_latency():
    out = bench_sync(
        "--platform",
        "ebay",
        "--skus",
        "60",
        "--minutes",
        "3",
        "--stores",
        "2",
        "--orders-per-hour",
        "120",
    )
    assert "platform: ebay" in out
    push = re.search(
        r"full push: ([\d,]+) SKUs, (\d+) calls \(ceil\(N/25\) = (\d+) at 10/s\), "
        r"(\d+) answered 429, wall [\d.]+ s = [\d.]+ x the bound of [\d.]+ s, "
        r"(\d+) wrong quantities",
        out,
    )
    assert push, out
    assert push.groups() == ("60", "3", "3", "0", "0")
    first = re.search(r"full push: first call answered ([\d.]+) s after the start", out)
    assert first, out
    assert float(first.group(1)) < 5
    assert "latency: all 2 stores show what the pool holds" in out
